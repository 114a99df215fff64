"""RestoreCapacityAfterFailure: the run failed; stop its pipelines and put every table back.

Stopping comes first: a running export was told to read a share of the boosted capacity, and
would take the application's own capacity once the boost is gone.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import delete_pipeline, pipeline_ids_by_name
from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.models import FailureContext, Plan, RunProgress, RunRef, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.batch_starts import merge_stored_starts, pipeline_name
from hippolyte.workflow.table_capacity import record_restore, restore_tables


def stop_running_batches(rt: Runtime, run: RunRef, progress: RunProgress, reason: str) -> None:
    """Delete the run's running pipelines; their unfinished tables are failed with ``reason``.

    Starts that stored their result are merged first. A batch whose start never stored one (the
    run failed between creating its pipeline and recording it) is found by the pipeline's name,
    which holds the run and batch ids.
    """
    s3 = rt.client("s3")
    plan = load_document(s3, run, "plan", Plan) if document_exists(s3, run, "plan") else None
    tables = {b.id: b.tables for b in plan.batches} if plan else {}
    datapipeline = rt.client("datapipeline")
    unrecorded = merge_stored_starts(s3, run, progress, plan, rt.clock()) if plan else []
    unrecorded += [
        bid for bid, s in progress.batches.items() if s.status == "running" and not s.pipeline_id and not s.export_arns
    ]
    prefix = pipeline_name(rt.settings.stage, run.run_id, "")
    by_name = pipeline_ids_by_name(datapipeline, prefix) if unrecorded else {}
    for batch_id, state in progress.batches.items():
        if state.status not in ("starting", "running", "pending"):
            continue
        pipeline_id = state.pipeline_id or by_name.get(pipeline_name(rt.settings.stage, run.run_id, batch_id))
        if pipeline_id:
            delete_pipeline(datapipeline, pipeline_id)
        state.status = "ended" if state.status in ("starting", "running") else "not_started"
        for table in tables.get(batch_id, []):
            progress.outcomes.setdefault(
                table.name, TableOutcome(name=table.name, status="failed", reason=reason, engine=table.engine)
            )


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
