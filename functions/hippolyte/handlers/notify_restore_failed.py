"""NotifyRestoreFailed: tell the report topic the restore failed, why, and what it left behind."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreFailure
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.notify_restore_failed import notify_restore_failed


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`RestoreFailure` (its state may carry the cleanup's notes); output: RestoreReport."""
    failure = RestoreFailure.model_validate(event)
    cleanup = failure.state.get("cleanup")
    notes = [str(note) for note in cleanup.get("notes", [])] if isinstance(cleanup, dict) else []
    report = notify_restore_failed(Runtime.from_environment(context), failure, notes)
    logger.info("restore failure reported", error=failure.error.error)
    return report.model_dump(mode="json", by_alias=True)
