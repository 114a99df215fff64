"""The emr engine's side of a run: each batch's cluster, and which of its tables go to it next.

A batch's cluster is started by CreatePipeline with the steps of its first run of tables
(:func:`hippolyte.emr_job_flows.step_groups`). Every later run begins with a boosted table: it is
due once every step before it has ended and been verified. Then ScaleUpReadCapacity raises its
boost (:func:`boosts_due`), AddExportSteps adds its steps (:func:`step_groups_ready`), and
CheckPipelines follows the steps and verifies each table's files.
"""

from __future__ import annotations

from collections.abc import Mapping

from hippolyte.adapters.emr import find_clusters, start_cluster, terminate_clusters
from hippolyte.emr_job_flows import CLUSTER_ENDED_STATES, cluster_tags, export_step, job_flow_request, step_groups
from hippolyte.errors import ClusterCreationError
from hippolyte.models import (
    Batch,
    BatchProgress,
    CreateBatchRequest,
    Plan,
    PlannedTable,
    RunProgress,
    RunRef,
    StartedBatch,
)
from hippolyte.pipelines import output_directory
from hippolyte.runtime import Runtime
from hippolyte.workflow.batch_starts import pipeline_name
from hippolyte.workflow.pipeline_cluster import emr_cluster_settings
from hippolyte.workflow.table_read_percents import read_percents


def table_steps(rt: Runtime, run: RunRef, tables: list[PlannedTable]) -> list[dict[str, object]]:
    """The export steps of these tables, each read at the share its capacity allows now."""
    ledger = rt.ledger() if any(table.boosted for table in tables) else None
    percents = read_percents(rt, ledger, run, tables)
    jar = rt.settings.export_jar_for(rt.region)
    return [
        export_step(jar, output_directory(run.bucket, table.name, run.started_at), table.name, percents[table.name])
        for table in tables
    ]


def start_batch_cluster(rt: Runtime, request: CreateBatchRequest, batch: Batch) -> StartedBatch:
    """Start the batch's cluster with its first run of steps; a refusal is returned, not raised."""
    first = step_groups(batch)[0]
    name = pipeline_name(rt.settings.stage, request.run.run_id, batch.id)
    job_flow = job_flow_request(
        name,
        emr_cluster_settings(rt, request.poll_seconds),
        f"s3://{request.run.bucket}/{request.run.prefix}logs/",
        cluster_tags(rt.settings.stage, request.run.run_id, batch.id),
        table_steps(rt, request.run, first),
    )
    try:
        cluster_id = start_cluster(rt.client("emr"), job_flow, request.run.started_at)
    except ClusterCreationError as error:
        return StartedBatch(batch_id=batch.id, error=type(error).__name__, cause=str(error))
    return StartedBatch(batch_id=batch.id, cluster_id=cluster_id, stepped=[table.name for table in first])


def _due_group(batch: Batch, state: BatchProgress, outcomes: Mapping[str, object]) -> list[PlannedTable] | None:
    """The batch's next run of tables without steps, when every step before it has ended."""
    if state.status != "running" or not state.cluster_id or state.cluster_state in CLUSTER_ENDED_STATES:
        return None
    for group in step_groups(batch):
        if all(table.name in state.stepped for table in group):
            continue
        earlier = batch.tables[: batch.tables.index(group[0])]
        return group if all(table.name in outcomes for table in earlier) else None
    return None


def due_groups(plan: Plan, progress: RunProgress) -> list[tuple[Batch, list[PlannedTable]]]:
    """Every emr batch's run of tables whose turn has come, in plan order."""
    due = []
    for batch in plan.batches:
        if batch.engine != "emr" or batch.id not in progress.batches:
            continue
        group = _due_group(batch, progress.batches[batch.id], progress.outcomes)
        if group is not None:
            due.append((batch, group))
    return due


def boosts_due(plan: Plan, progress: RunProgress) -> list[tuple[str, PlannedTable]]:
    """The boosts of the runs whose turn has come that are not raised yet: (batch id, table)."""
    return [
        (batch.id, table)
        for batch, group in due_groups(plan, progress)
        for table in group
        if table.boosted and table.name not in progress.batches[batch.id].boosts_done
    ]


def step_groups_ready(plan: Plan, progress: RunProgress) -> list[tuple[Batch, list[PlannedTable]]]:
    """The runs whose turn has come and whose boosts are all raised (or refused): their steps go now."""
    return [
        (batch, group)
        for batch, group in due_groups(plan, progress)
        if all(table.name in progress.batches[batch.id].boosts_done for table in group if table.boosted)
    ]


def terminate_batch_clusters(rt: Runtime, run: RunRef, recorded: Mapping[str, str | None], find_by_name: bool) -> None:
    """Terminate each batch's cluster: the one ``recorded`` for it, else (``find_by_name``) the
    active one named for it (a start that failed before storing its result)."""
    emr = rt.client("emr")
    prefix = pipeline_name(rt.settings.stage, run.run_id, "")
    by_name = find_clusters(emr, prefix, run.started_at) if find_by_name else {}
    found = [
        cluster_id or by_name.get(pipeline_name(rt.settings.stage, run.run_id, batch_id))
        for batch_id, cluster_id in recorded.items()
    ]
    terminate_clusters(emr, [cluster_id for cluster_id in found if cluster_id])
