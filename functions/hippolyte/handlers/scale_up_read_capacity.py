"""ScaleUpReadCapacity: pick the next wave of batches and raise their tables' read capacity."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.models import RunContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.scale_up_read_capacity import scale_up_next_wave


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RunContext`; the output's ``wave`` lists the batches to create."""
    result = scale_up_next_wave(Runtime.from_environment(context), RunContext.model_validate(event))
    logger.info("wave chosen", batches=[item.batch_id for item in result.wave])
    return result.model_dump(mode="json")
