"""NotifyFailure: email the report of a run that failed, with the error that ended it."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import TABLES_WITHOUT_FRESH_BACKUP, lambda_entry, logger, metrics
from hippolyte.models import FailureContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.notify_failure import notify_failure


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`FailureContext`; output: :class:`RunReport` with the error."""
    report = notify_failure(Runtime.from_environment(context), FailureContext.model_validate(event))
    logger.info("failure reported", outcome=report.outcome)
    if report.without_fresh_backup is not None:
        metrics.add_metric(name=TABLES_WITHOUT_FRESH_BACKUP, unit="Count", value=report.without_fresh_backup)
    return report.model_dump(mode="json", by_alias=True)
