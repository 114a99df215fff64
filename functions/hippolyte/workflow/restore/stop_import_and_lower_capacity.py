"""StopImportAndLowerCapacity: the restore failed; stop its import (pipeline or cluster) and put capacity back.

The failure path's undo, before NotifyRestoreFailed: what it did, or could not do, is returned
as notes for the failure report. A table it created is left in place (the report says so).
"""

from __future__ import annotations

from hippolyte.adapters.aws_errors import AwsCallError, error_code
from hippolyte.adapters.datapipeline import delete_pipeline
from hippolyte.adapters.emr import terminate_clusters
from hippolyte.adapters.tables import describe_table, update_table
from hippolyte.restore_models import RestoreFailure
from hippolyte.restore_plan import capacity_from_description, update_table_capacity
from hippolyte.runtime import Runtime


def stop_import_and_lower_capacity(rt: Runtime, failure: RestoreFailure) -> list[str]:
    """After a failure: stop a running import pipeline and put raised capacity back; returns notes."""
    context = failure.context
    if context is None:
        return []
    notes = []
    if context.import_id and context.import_status != "done":
        if context.import_via == "emr":
            terminate_clusters(rt.client("emr"), [context.import_id])
            notes.append(f"import cluster {context.import_id} stopped (terminated)")
        elif context.import_via == "datapipeline" or (context.import_via is None and context.backup.engine != "export"):
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
