"""The restore's target table, read live by the states that change it.

CreateTargetTable, RaiseWriteCapacity, RestoreCapacityAndTtl and the failure path's undo
(StopImportAndLowerCapacity) each read the live table and do only what is still missing, so a
retried step (after a Lambda error, or after TargetTableNotReadyError while the table is CREATING
or UPDATING) never does anything twice. DynamoDB allows one UpdateTable change at a time; a step
that made one and has another to make raises TargetTableNotReadyError, and the state machine
retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hippolyte.adapters.tables import describe_table
from hippolyte.errors import TargetTableNotReadyError
from hippolyte.runtime import Runtime


def active_table(rt: Runtime, name: str) -> Mapping[str, Any]:
    """The live table's description; TargetTableNotReadyError while it is missing or not ACTIVE."""
    table = describe_table(rt.client("dynamodb"), name)
    if table is None:
        raise TargetTableNotReadyError(f"table {name} does not exist yet")
    if table.get("TableStatus") != "ACTIVE":
        raise TargetTableNotReadyError(f"table {name} is {table.get('TableStatus')}, not ACTIVE yet")
    return table
