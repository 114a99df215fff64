"""CreateTargetTable: create the target table from the backup's manifest (Data Pipeline backups).

The new table has the original's keys, indexes, projections, stream, SSE, tags and capacity, and
is tagged with the backup it is restored from and the restore's execution, by which a retried
state knows the table as its own.
"""

from __future__ import annotations

from hippolyte.adapters.tables import create_table, describe_table, table_tags
from hippolyte.backup_manifest import create_table_request
from hippolyte.errors import RestoreTargetExistsError
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import capacity_of
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore import RESTORE_EXECUTION_TAG, RESTORED_FROM_TAG, load_manifest, restored_from


def create_target_table(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Create the target with the original's keys, indexes, projections, stream, SSE, tags and capacity."""
    _, schema = load_manifest(rt, context)
    target = context.request.target
    tags = {RESTORED_FROM_TAG: restored_from(context), RESTORE_EXECUTION_TAG: context.execution_name}
    dynamodb = rt.client("dynamodb")
    if not create_table(dynamodb, create_table_request(schema, target, extra_tags=tags)):
        # A retried state finds the table it made; anyone else's table is not ours to fill.
        existing = describe_table(dynamodb, target)
        mine = (
            existing is not None
            and table_tags(dynamodb, existing["TableArn"]).get(RESTORE_EXECUTION_TAG) == context.execution_name
        )
        if not mine:
            raise RestoreTargetExistsError(f"table {target} was created by someone else during the restore") from None
    return context.model_copy(update={"final_capacity": capacity_of(schema)})
