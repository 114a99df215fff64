"""RestoreCapacityAfterFailure: the run failed; stop its pipelines and put every table back.

Stopping comes first: a running export was told to read a share of the boosted capacity, and
would take the application's own capacity once the boost is gone.

With thousands of tables one invocation may not reach them all before Lambda's timeout: it
restores what it has time for and says so, and the state machine's AllTablesRestored choice
runs it again until every table has been tried. Running it again is safe: pipelines already
deleted are not found again, and restored tables' ledger records are closed.
"""

from __future__ import annotations

from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.models import FailureContext, RunProgress
from hippolyte.runtime import Runtime
from hippolyte.workflow.running_batches import stop_running_batches
from hippolyte.workflow.table_capacity import record_restore, restore_tables


def restore_run(rt: Runtime, run_id: str, progress: RunProgress | None) -> bool:
    """Restore every open ledger record of a run; refusals stay pending for reconcile.

    Returns False when the invocation ran short of time and left tables untried for the next one.
    """
    ledger = rt.ledger()
    now = rt.clock()
    # Records already pending were tried (DynamoDB refused or asked to wait): they go last, so
    # that every pass reaches tables not tried yet before it spends time on them again.
    entries = sorted(ledger.open_entries(run_id), key=lambda entry: entry.status == "pending")
    reached = True
    for entry, result in zip(entries, restore_tables(rt, ledger, entries, now), strict=True):
        if result is None:
            reached = False
        elif progress is not None:
            record_restore(progress, entry.table_name, result)
    return reached


def restore_after_failure(rt: Runtime, failure: FailureContext) -> bool:
    """Stop, restore, record; returns whether every table was tried (False: run it again)."""
    run = failure.run
    progress = None
    s3 = rt.client("s3")
    if run is not None and document_exists(s3, run, "progress"):
        progress = load_document(s3, run, "progress", RunProgress)
        stop_running_batches(rt, run, progress, f"the run failed: {failure.error.error}")
    reached = restore_run(rt, failure.execution_name, progress)
    if run is not None and progress is not None:
        save_document(s3, run, "progress", progress)
    return reached
