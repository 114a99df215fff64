"""RestoreCapacityAndTtl: capacity back to the original's, then streams, tags and TTL."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.restore_capacity_and_ttl import restore_capacity_and_ttl


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext`."""
    result = restore_capacity_and_ttl(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("capacity and TTL restored", target=result.request.target)
    return result.model_dump(mode="json")
