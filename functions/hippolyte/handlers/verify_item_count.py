"""VerifyItemCount: the restored table holds as many items as the backup's manifest says."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.verify_item_count import verify_item_count


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input and output: :class:`RestoreContext` (with the count)."""
    result = verify_item_count(Runtime.from_environment(context), RestoreContext.model_validate(event))
    logger.info("item count verified", target=result.request.target, items=result.items_restored)
    return result.model_dump(mode="json")
