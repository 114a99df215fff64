"""FindBackup: validate the restore input, choose the backup, check the target (creates nothing)."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.find_backup import find_backup


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: ``{"input": <RestoreRequest>, "execution_id", "execution_name"}``; output: RestoreContext."""
    result = find_backup(
        Runtime.from_environment(context),
        event.get("input"),
        execution_id=event["execution_id"],
        execution_name=event["execution_name"],
    )
    logger.info(
        "backup chosen",
        table=result.request.table,
        backup=result.backup.location,
        engine=result.backup.engine,
        target=result.request.target,
    )
    return result.model_dump(mode="json")
