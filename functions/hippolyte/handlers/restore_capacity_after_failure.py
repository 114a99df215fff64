"""RestoreCapacityAfterFailure: the Catch path; stop the run's pipelines and restore capacity."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import FailureContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore_capacity_after_failure import restore_after_failure


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`FailureContext` (the failed state's input plus the caught error).

    Output: ``all_restored`` false when the invocation ran short of time (the state machine runs
    it again), true once every table has been tried.
    """
    failure = FailureContext.model_validate(event)
    all_restored = restore_after_failure(Runtime.from_environment(context), failure)
    logger.warning(
        "run failed; capacity restored" if all_restored else "run failed; capacity restore continues",
        error=failure.error.error,
        cause=failure.error.cause,
    )
    return {"restored_for": failure.execution_name, "all_restored": all_restored}
