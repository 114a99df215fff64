"""RestoreCapacityAndTtl: capacity back to the original's, then streams, tags (new tables) and TTL.

DynamoDB allows one UpdateTable change at a time: after one, the next waits for the table to be
ACTIVE again (TargetTableNotReadyError, which the state machine retries). TTL is set last.
"""

from __future__ import annotations

from hippolyte.adapters.tables import enable_ttl, tag_table, ttl_attribute, update_table
from hippolyte.errors import TargetTableNotReadyError
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import capacity_from_description, capacity_of, update_table_capacity
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore import RESTORED_FROM_TAG, load_manifest, restored_from
from hippolyte.workflow.restore.target_table import active_table


def restore_capacity_and_ttl(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Put the capacity to the original's, then streams, tags (new tables) and TTL as the original had."""
    _, schema = load_manifest(rt, context)
    target, dynamodb = context.request.target, rt.client("dynamodb")
    table = active_table(rt, target)
    notes = list(context.notes)
    if not context.target_exists:
        tags = {**schema.tags, RESTORED_FROM_TAG: restored_from(context)}
        tag_table(dynamodb, table["TableArn"], tags)
    changed = update_table_capacity(capacity_from_description(table), context.final_capacity or capacity_of(schema))
    if changed:
        update_table(dynamodb, target, changed)
    stream_missing = not (table.get("StreamSpecification") or {}).get("StreamEnabled")
    if not context.target_exists and schema.stream.enabled and stream_missing:
        if changed:
            raise TargetTableNotReadyError(f"{target}: capacity put back; the stream waits for ACTIVE")
        changed = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": schema.stream.view_type}}
        update_table(dynamodb, target, changed)
    if schema.ttl_attribute:
        current = ttl_attribute(dynamodb, target)
        if current is None:
            if changed:
                raise TargetTableNotReadyError(f"{target}: UpdateTable made a change; TTL waits for ACTIVE")
            # Set last: an item restored with a past expiry stays until TTL's own sweep finds it.
            enable_ttl(dynamodb, target, schema.ttl_attribute)
        elif current != schema.ttl_attribute:
            notes.append(f"TTL left on attribute {current} (the backup's table used {schema.ttl_attribute})")
    return context.model_copy(update={"notes": notes})
