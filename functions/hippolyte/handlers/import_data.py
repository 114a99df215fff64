"""ImportData: start the EMR import (DynamoDBImport) into the target, by pipeline or by cluster."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.import_data import start_import


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext` (with the pipeline's or cluster's id)."""
    result = start_import(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("import started", import_id=result.import_id, via=result.import_via, target=result.request.target)
    return result.model_dump(mode="json")
