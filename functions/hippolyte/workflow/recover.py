"""RestoreCapacityAfterFailure: the run failed; stop its pipelines and put every table back.

Stopping comes first: a running export was told to read a share of the boosted capacity, and
would take the application's own capacity once the boost is gone.
"""

from __future__ import annotations

from typing import Any

from hippolyte.adapters.datapipeline import delete_pipeline
from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.models import FailureContext, Plan, RunProgress, RunRef, StartedBatch, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.check import record_started
from hippolyte.workflow.create_batch import pipeline_name
from hippolyte.workflow.table_capacity import record_restore, restore_tables


def pipeline_ids_by_name(datapipeline: Any, prefix: str) -> dict[str, str]:
    """Pipelines whose name starts with ``prefix`` (a run's), by name; ListPipelines pages by 50."""
    found: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = datapipeline.list_pipelines(**kwargs)
        found.update({p["name"]: p["id"] for p in page.get("pipelineIdList", []) if p["name"].startswith(prefix)})
        if not page.get("hasMoreResults"):
            return found
        kwargs["marker"] = page["marker"]


def stop_running_batches(rt: Runtime, run: RunRef, progress: RunProgress, reason: str) -> None:
    """Delete the run's running pipelines; their unfinished tables are failed with ``reason``.

    A batch whose pipeline was created but not yet recorded (the run failed between the two) is
    found by its name, which holds the run and batch ids.
    """
    s3 = rt.client("s3")
    plan = load_document(s3, run, "plan", Plan) if document_exists(s3, run, "plan") else None
    tables = {b.id: b.tables for b in plan.batches} if plan else {}
    datapipeline = rt.client("datapipeline")
    unrecorded = [
        s for s in progress.batches.values() if s.status == "running" and not s.pipeline_id and not s.export_arns
    ]
    by_name = pipeline_ids_by_name(datapipeline, pipeline_name(rt, run.run_id, "")) if unrecorded else {}
    for batch_id, state in progress.batches.items():
        if state.status not in ("running", "pending"):
            continue
        pipeline_id = state.pipeline_id or by_name.get(pipeline_name(rt, run.run_id, batch_id))
        if pipeline_id:
            delete_pipeline(datapipeline, pipeline_id)
        state.status = "ended" if state.status == "running" else "not_started"
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
        created = failure.state.get("created")
        if isinstance(created, list) and document_exists(s3, run, "plan"):
            # Pipelines the last CreatePipelines made, which the failed state had not recorded yet.
            plan = load_document(s3, run, "plan", Plan)
            record_started(progress, plan, [StartedBatch.model_validate(item) for item in created], rt.clock())
        stop_running_batches(rt, run, progress, f"the run failed: {failure.error.error}")
    restore_run(rt, failure.execution_name, progress)
    if run is not None and progress is not None:
        save_document(s3, run, "progress", progress)
    return failure
