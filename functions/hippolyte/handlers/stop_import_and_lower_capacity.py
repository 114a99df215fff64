"""StopImportAndLowerCapacity: the restore failed; stop its import pipeline and put capacity back."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreFailure
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.stop_import_and_lower_capacity import stop_import_and_lower_capacity


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`RestoreFailure`; output: ``{"notes": [...]}`` (what was undone, or could not be)."""
    failure = RestoreFailure.model_validate(event)
    notes = stop_import_and_lower_capacity(Runtime.from_environment(context), failure)
    logger.warning("restore failed; cleaned up", error=failure.error.error, notes=notes)
    return {"notes": notes}
