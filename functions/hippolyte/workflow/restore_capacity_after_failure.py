"""RestoreCapacityAfterFailure: the run failed; stop its pipelines and put every table back.

Stopping comes first: a running export was told to read a share of the boosted capacity, and
would take the application's own capacity once the boost is gone.
"""

from __future__ import annotations

from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.models import FailureContext, RunProgress
from hippolyte.runtime import Runtime
from hippolyte.workflow.running_batches import stop_running_batches
from hippolyte.workflow.table_capacity import record_restore, restore_tables


def restore_run(rt: Runtime, run_id: str, progress: RunProgress | None) -> None:
    """Restore every open ledger record of a run; refusals stay pending for reconcile."""
    ledger = rt.ledger()
    now = rt.clock()
    entries = list(ledger.open_entries(run_id))
    for entry, result in zip(entries, restore_tables(rt, ledger, entries, now), strict=True):
        if progress is not None:
            record_restore(progress, entry.table_name, result)


def restore_after_failure(rt: Runtime, failure: FailureContext) -> FailureContext:
    """Stop, restore, record; returns the context for NotifyFailure."""
    run = failure.run
    progress = None
    s3 = rt.client("s3")
    if run is not None and document_exists(s3, run, "progress"):
        progress = load_document(s3, run, "progress", RunProgress)
        stop_running_batches(rt, run, progress, f"the run failed: {failure.error.error}")
    restore_run(rt, failure.execution_name, progress)
    if run is not None and progress is not None:
        save_document(s3, run, "progress", progress)
    return failure
