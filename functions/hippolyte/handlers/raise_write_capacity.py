"""RaiseWriteCapacity: raise the target's capacity for the import pipeline and the count."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.raise_write_capacity import raise_write_capacity


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext`."""
    result = raise_write_capacity(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("write capacity raised", target=result.request.target)
    return result.model_dump(mode="json")
