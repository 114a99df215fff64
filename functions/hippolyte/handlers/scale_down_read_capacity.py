"""ScaleDownReadCapacity: put back the capacity of every table whose backup has ended."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.scale_down_read_capacity import scale_down_finished


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RunContext`."""
    result = scale_down_finished(Runtime.from_environment(context), RunContext.model_validate(event))
    logger.info("capacity restored where backups ended", status=result.status)
    return result.model_dump(mode="json")
