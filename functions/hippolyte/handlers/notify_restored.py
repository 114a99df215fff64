"""NotifyRestored: tell the report topic the restore succeeded."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.notify_restored import notify_restored


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`RestoreContext`; output: :class:`RestoreReport`."""
    report = notify_restored(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("restore reported", outcome=report.outcome, target=report.target)
    return report.model_dump(mode="json")
