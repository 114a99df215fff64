"""ImportData: create and activate the EMR import pipeline (DynamoDBImport) into the target."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.import_data import start_import_pipeline


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext` (with the pipeline id)."""
    result = start_import_pipeline(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("import pipeline started", pipeline_id=result.import_id, target=result.request.target)
    return result.model_dump(mode="json")
