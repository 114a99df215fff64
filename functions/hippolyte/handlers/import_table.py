"""ImportTable: DynamoDB's ImportTable of a native export into a new table shaped like the original."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.import_table import import_table


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext` (with the import's ARN)."""
    result = import_table(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("ImportTable started", import_arn=result.import_id, target=result.request.target)
    return result.model_dump(mode="json")
