"""NotifyResult: email the night's report (every table: backed up, failed or skipped)."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import TABLES_WITHOUT_FRESH_BACKUP, lambda_entry, logger, metrics
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.notify_result import notify_result


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`RunContext`; output: :class:`RunReport`."""
    report = notify_result(Runtime.from_environment(context), RunContext.model_validate(event))
    logger.info("report sent", outcome=report.outcome, failed=report.failed, backed_up=report.backed_up)
    metrics.add_metric(name="TablesBackedUp", unit="Count", value=report.backed_up)
    metrics.add_metric(name="TablesFailed", unit="Count", value=report.failed)
    if report.without_fresh_backup is not None:
        metrics.add_metric(name=TABLES_WITHOUT_FRESH_BACKUP, unit="Count", value=report.without_fresh_backup)
    return report.model_dump(mode="json")
