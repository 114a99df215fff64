"""RestoreCapacityAfterFailure: the Catch path; stop the run's pipelines and restore capacity."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import FailureContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore_capacity_after_failure import restore_after_failure


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`FailureContext` (the failed state's input plus the caught error)."""
    failure = restore_after_failure(Runtime.from_environment(context), FailureContext.model_validate(event))
    logger.warning("run failed; capacity restored", error=failure.error.error, cause=failure.error.cause)
    return {"restored_for": failure.execution_name}
