"""CreateTargetTable: create the target table from the backup's manifest (Data Pipeline backups)."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.create_target_table import create_target_table


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext`."""
    result = create_target_table(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("target table created", target=result.request.target)
    return result.model_dump(mode="json")
