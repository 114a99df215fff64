"""CheckImport: one look at the running import (pipeline or ImportTable)."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.check_import import check_import


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext`; the output's ``import_status`` drives the loop."""
    result = check_import(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("import checked", status=result.import_status, import_id=result.import_id)
    return result.model_dump(mode="json")
