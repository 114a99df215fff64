"""PlanBatches: fit the night's tables into pipelines and waves."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.plan_batches import plan_run


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RunContext`."""
    result = plan_run(Runtime.from_environment(context), RunContext.model_validate(event))
    logger.info("batches planned", run_id=result.run.run_id)
    return result.model_dump(mode="json")
