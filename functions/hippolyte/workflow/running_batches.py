"""Stopping a run's batches: deleting their pipelines and terminating their EMR clusters, those no
document records found by name.

Used by CheckPipelines at the deadline, by RestoreCapacityAfterFailure and by the hourly
ReconcileCapacity. A start that failed between creating its pipeline and storing the result
leaves a pipeline no document records; its name holds the stage, the run and the batch, so the
run's pipelines are listed by that name and deleted.
"""

from __future__ import annotations

from collections.abc import Mapping

from hippolyte.adapters.datapipeline import delete_pipeline, pipeline_ids_by_name
from hippolyte.adapters.run_store import document_exists
from hippolyte.models import RunProgress, RunRef, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.batch_starts import merge_stored_starts, pipeline_name
from hippolyte.workflow.emr_clusters import terminate_batch_clusters
from hippolyte.workflow.run_documents import load_plan


def delete_batch_pipelines(
    rt: Runtime, run_id: str, recorded: Mapping[str, str | None], find_by_name: bool = True
) -> None:
    """Delete each batch's pipeline: the one ``recorded`` for it, else (``find_by_name``) the one named for it.

    The run's pipelines are listed once, by their common name prefix, and only when asked.
    """
    datapipeline = rt.client("datapipeline")
    prefix = pipeline_name(rt.settings.stage, run_id, "")
    by_name = pipeline_ids_by_name(datapipeline, prefix) if find_by_name else {}
    for batch_id, pipeline_id in recorded.items():
        found = pipeline_id or by_name.get(pipeline_name(rt.settings.stage, run_id, batch_id))
        if found:
            delete_pipeline(datapipeline, found)


def stop_running_batches(rt: Runtime, run: RunRef, progress: RunProgress, reason: str) -> None:
    """Delete the run's running pipelines and terminate its clusters; their unfinished tables are
    failed with ``reason``.

    Starts that stored their result are merged first. A batch whose start never stored one (the
    run failed between creating its pipeline or cluster and recording it) is found by the name,
    which holds the run and batch ids.
    """
    s3 = rt.client("s3")
    plan = load_plan(s3, run) if document_exists(s3, run, "plan") else None
    tables = {b.id: b.tables for b in plan.batches} if plan else {}
    unrecorded = merge_stored_starts(s3, run, progress, plan, rt.clock()) if plan else []
    unrecorded += [
        bid
        for bid, s in progress.batches.items()
        if s.status == "running" and not s.pipeline_id and not s.export_arns and not s.cluster_id
    ]
    active = {
        bid: s for bid, s in progress.batches.items() if s.status in ("boosting", "starting", "running", "pending")
    }
    engines = {b.id: b.engine for b in plan.batches} if plan else {}
    delete_batch_pipelines(
        rt,
        run.run_id,
        {bid: s.pipeline_id for bid, s in active.items() if engines.get(bid, "datapipeline") == "datapipeline"},
        find_by_name=any(engines.get(bid, "datapipeline") == "datapipeline" for bid in unrecorded),
    )
    clusters = {bid: s.cluster_id for bid, s in active.items() if engines.get(bid) == "emr"}
    if clusters:
        terminate_batch_clusters(rt, run, clusters, find_by_name=any(engines.get(bid) == "emr" for bid in unrecorded))
    for batch_id, state in active.items():
        state.status = "ended" if state.status in ("starting", "running") else "not_started"
        for table in tables.get(batch_id, []):
            progress.outcomes.setdefault(
                table.name, TableOutcome(name=table.name, status="failed", reason=reason, engine=table.engine)
            )
