"""The target table: CreateTargetTable, RaiseWriteCapacity, RestoreCapacityAndTtl, and the undo
the failure path needs (StopImportAndLowerCapacity).

Each step reads the live table and does only what is still missing, so a retried step (after a
Lambda error, or after TargetTableNotReadyError while the table is CREATING or UPDATING) never
does anything twice. DynamoDB allows one UpdateTable change at a time; a step that made one and
has another to make raises TargetTableNotReadyError, and the state machine retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hippolyte.adapters.aws_errors import AwsCallError, error_code
from hippolyte.adapters.datapipeline import delete_pipeline
from hippolyte.adapters.tables import (
    create_table,
    describe_table,
    enable_ttl,
    table_tags,
    tag_table,
    ttl_attribute,
    update_table,
)
from hippolyte.backup_manifest import create_table_request
from hippolyte.errors import RestoreTargetExistsError, TargetTableNotReadyError
from hippolyte.restore_models import RestoreContext, RestoreFailure
from hippolyte.restore_plan import (
    capacity_from_description,
    capacity_of,
    import_capacity,
    update_table_capacity,
)
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore import RESTORE_EXECUTION_TAG, RESTORED_FROM_TAG, load_manifest, restored_from


def _active_table(rt: Runtime, name: str) -> Mapping[str, Any]:
    table = describe_table(rt.client("dynamodb"), name)
    if table is None:
        raise TargetTableNotReadyError(f"table {name} does not exist yet")
    if table.get("TableStatus") != "ACTIVE":
        raise TargetTableNotReadyError(f"table {name} is {table.get('TableStatus')}, not ACTIVE yet")
    return table


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


def raise_write_capacity(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Raise the target's capacity so the import (and the count after it) ends in about an hour."""
    target = context.request.target
    table = _active_table(rt, target)
    live = capacity_from_description(table)
    final = context.final_capacity or live
    wanted = import_capacity(final, context.backup.items, context.backup.bytes or 0)
    update = update_table_capacity(live, wanted)
    if update:
        update_table(rt.client("dynamodb"), target, update)
    return context.model_copy(update={"final_capacity": final})


def restore_capacity_and_ttl(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Put the capacity to the original's, then streams, tags (new tables) and TTL as the original had."""
    _, schema = load_manifest(rt, context)
    target, dynamodb = context.request.target, rt.client("dynamodb")
    table = _active_table(rt, target)
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


def stop_import_and_lower_capacity(rt: Runtime, failure: RestoreFailure) -> list[str]:
    """After a failure: stop a running import pipeline and put raised capacity back; returns notes."""
    context = failure.context
    if context is None:
        return []
    notes = []
    if context.import_id and context.backup.engine == "datapipeline" and context.import_status != "done":
        delete_pipeline(rt.client("datapipeline"), context.import_id)
        notes.append(f"import pipeline {context.import_id} stopped (deleted)")
    table = describe_table(rt.client("dynamodb"), context.request.target)
    if table is None or context.final_capacity is None:
        return notes
    update = update_table_capacity(capacity_from_description(table), context.final_capacity)
    if update and table.get("TableStatus") == "ACTIVE":
        try:
            update_table(rt.client("dynamodb"), context.request.target, update)
            notes.append(f"capacity of {context.request.target} put back")
        except AwsCallError as error:
            notes.append(f"capacity of {context.request.target} NOT put back: {error_code(error)}")
    elif update:
        notes.append(f"capacity of {context.request.target} NOT put back: the table is {table.get('TableStatus')}")
    return notes
