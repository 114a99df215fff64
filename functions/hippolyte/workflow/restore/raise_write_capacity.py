"""RaiseWriteCapacity: raise the target's capacity for the import pipeline and the count after it.

Reached after CreateTargetTable, or directly for an existing, empty target. The capacity to go
back to afterwards (``final_capacity``) is kept in the context for RestoreCapacityAndTtl and, on
failure, StopImportAndLowerCapacity.
"""

from __future__ import annotations

from hippolyte.adapters.tables import update_table
from hippolyte.restore_models import RestoreContext
from hippolyte.restore_plan import capacity_from_description, import_capacity, update_table_capacity
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.target_table import active_table


def raise_write_capacity(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Raise the target's capacity so the import (and the count after it) ends in about an hour."""
    target = context.request.target
    table = active_table(rt, target)
    live = capacity_from_description(table)
    final = context.final_capacity or live
    wanted = import_capacity(final, context.backup.items, context.backup.bytes or 0)
    update = update_table_capacity(live, wanted)
    if update:
        update_table(rt.client("dynamodb"), target, update)
    return context.model_copy(update={"final_capacity": final})
