"""CheckPipelines: record what started, poll the running pipelines and clusters, verify each table's files.

A table counts as backed up only when its own directory holds ``_SUCCESS`` and the manifest.
Tables are checked while their pipeline still runs, so that each one's capacity can go back as
soon as its own export ends. Ended pipelines are deleted, and the emr engine's clusters
terminated, once their results are recorded.

Verifying reads each table's files back; when the invocation runs short of time the tables it
did not reach stay unverified (their batch running, its pipeline kept) for the next poll.
"""

from __future__ import annotations

from datetime import datetime

from hippolyte.adapters.backup_files import inspect_backup
from hippolyte.adapters.datapipeline import delete_pipeline, describe_pipelines, pipeline_runs
from hippolyte.adapters.emr import StepStatus, cluster_status, cluster_steps, terminate_clusters
from hippolyte.adapters.rate_limit import RateLimiter
from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.emr_job_flows import CLUSTER_ENDED_STATES, STEP_SUCCEEDED
from hippolyte.models import Batch, BatchProgress, Plan, RunContext, RunProgress, TableOutcome
from hippolyte.pipelines import output_directory
from hippolyte.poll_timing import next_poll_seconds, runs_to_read
from hippolyte.runtime import Runtime
from hippolyte.workflow.backup_manifest import table_reads_limiter, write_backup_manifest
from hippolyte.workflow.batch_starts import START_NEVER_COMPLETED, fail_batch, merge_stored_starts
from hippolyte.workflow.emr_clusters import terminate_batch_clusters
from hippolyte.workflow.native_export import check_exports
from hippolyte.workflow.run_documents import load_plan
from hippolyte.workflow.run_loop import loop_status
from hippolyte.workflow.running_batches import delete_batch_pipelines
from hippolyte.workflow.time_left import VERIFY_SECONDS, has_time_for_tables

# Data Pipeline allows QueryObjects and DescribeObjects 2 calls a second each per account, with
# bursts of 100 (Developer Guide, "AWS Data Pipeline Limits"), and reading one pipeline's run takes
# a QueryObjects and a DescribeObjects per 25 instances. One call a second of each keeps half of
# both rates, and most of the bursts, for the account's other tools: 100 running pipelines are read
# in two to three minutes of a poll.
PIPELINE_READS_PER_SECOND = 1.0
PIPELINE_READS_BURST = 10.0


def _verify_table(
    rt: Runtime,
    context: RunContext,
    progress: RunProgress,
    table_name: str,
    engine: str,
    failure: str | None,
    table_reads: RateLimiter,
) -> None:
    directory = output_directory(context.run.bucket, table_name, context.run.started_at)
    check = inspect_backup(rt.client("s3"), directory)
    if check.complete:
        progress.outcomes[table_name] = TableOutcome(
            name=table_name,
            status="backed_up",
            s3_path=directory,
            items=check.items,
            bytes=check.bytes,
            engine=engine,
        )
        write_backup_manifest(
            rt,
            context.run,
            progress.outcomes[table_name],
            raised_rcu=progress.raised.get(table_name, 0),
            table_reads=table_reads,
            checked=check,
        )
    elif failure is not None:
        progress.outcomes[table_name] = TableOutcome(
            name=table_name,
            status="failed",
            reason=f"{failure}; {check.reason}",
            engine=engine,
        )


def check_pipelines(rt: Runtime, context: RunContext) -> RunContext:
    """Advance the run's bookkeeping by one poll; decide whether to wait, start more, or finish."""
    s3 = rt.client("s3")
    plan = load_plan(s3, context.run)
    progress = load_document(s3, context.run, "progress", RunProgress)
    now = rt.clock()
    unfinished_starts = merge_stored_starts(s3, context.run, progress, plan, now)
    batches = {batch.id: batch for batch in plan.batches}
    running = {bid: state for bid, state in progress.batches.items() if state.status == "running"}
    past_deadline = progress.deadline is not None and now >= progress.deadline
    if past_deadline and unfinished_starts:
        _end_unfinished_starts(rt, context, progress, plan, unfinished_starts, now)
    pipeline_running = {bid: s for bid, s in running.items() if s.pipeline_id}
    status_reads = {
        operation: RateLimiter(PIPELINE_READS_PER_SECOND, PIPELINE_READS_BURST, rt.clock, rt.sleep)
        for operation in ("QueryObjects", "DescribeObjects")
    }
    datapipeline = rt.client("datapipeline")
    # Every running pipeline's health, each poll: a failure shows there before its run is read.
    described = describe_pipelines(datapipeline, [s.pipeline_id for s in pipeline_running.values() if s.pipeline_id])
    unhealthy = frozenset(
        bid
        for bid, s in pipeline_running.items()
        if s.pipeline_id not in described or described[s.pipeline_id].get("@healthStatus") == "ERROR"
    )
    # At the deadline every run is read: each one still running is stopped now.
    to_read = (
        set(pipeline_running)
        if past_deadline
        else runs_to_read(plan, progress, now, context.poll_seconds, unhealthy=unhealthy)
    )
    runs = dict(
        pipeline_runs(
            datapipeline,
            [s.pipeline_id for bid, s in pipeline_running.items() if s.pipeline_id and bid in to_read],
            pace=lambda operation: status_reads[operation].acquire(),
            described=described,
        )
    )
    out_of_time = False
    table_reads = table_reads_limiter(rt)
    for batch_id, state in pipeline_running.items():
        read = batch_id in to_read
        run = runs.get(state.pipeline_id or "")
        if read:
            state.pipeline_state = run.status if run is not None else "GONE"
            state.run_read_at = now
        # A run not read this poll is taken as still running: it is read again within two intervals
        # (hippolyte.poll_timing.runs_to_read).
        ended = read and (run is None or run.ended)
        if ended:
            failure = (
                None
                if run is not None and run.succeeded
                else f"pipeline {state.pipeline_id} ended {run.describe() if run is not None else 'GONE'}"
            )
        elif past_deadline:
            failure = f"pipeline {state.pipeline_id} did not finish inside the window (stopped at the deadline)"
        else:
            failure = None
        cut_short = False
        for table in batches[batch_id].tables:
            if table.name in progress.outcomes:
                continue
            if out_of_time or not has_time_for_tables(rt, seconds_each=VERIFY_SECONDS):
                # Left for the next poll: the batch stays running and its pipeline is kept.
                out_of_time = cut_short = True
                break
            _verify_table(
                rt,
                context,
                progress,
                table.name,
                table.engine,
                failure if (ended or past_deadline) else None,
                table_reads,
            )
            if not (ended or past_deadline) and table.name not in progress.outcomes:
                # The cluster exports its tables in order: while it runs, the first table without
                # its files is the one in progress, and the later ones cannot be done yet.
                break
        if (ended or past_deadline) and not cut_short:
            for table in batches[batch_id].tables:
                progress.outcomes.setdefault(
                    table.name,
                    TableOutcome(
                        name=table.name,
                        status="failed",
                        engine=table.engine,
                        reason=failure or f"pipeline {state.pipeline_id} ended without this table's export",
                    ),
                )
            delete_pipeline(rt.client("datapipeline"), state.pipeline_id or "")
            state.status, state.ended_at = "ended", now
    for batch_id, state in running.items():
        if state.cluster_id and not out_of_time:
            out_of_time = not _check_cluster(
                rt, context, progress, batches[batch_id], state, past_deadline, now, table_reads
            )
    export_running = {bid: s for bid, s in running.items() if s.export_arns}
    if export_running:
        check_exports(
            rt, context, progress, {bid: batches[bid] for bid in export_running}, export_running, past_deadline, now
        )
    if past_deadline:
        for batch_id, state in progress.batches.items():
            if state.status in ("pending", "boosting"):
                state.status, state.ended_at = "not_started", now
                refusals = progress.limit_retries.get(batch_id, 0)
                reason = "not started before the window's deadline" + (
                    f" (Data Pipeline refused it {refusals} time(s) at the account's pipeline limit)"
                    if refusals
                    else ""
                )
                fail_batch(progress, batches[batch_id], reason)
    save_document(s3, context.run, "progress", progress)
    return context.model_copy(
        update={
            "status": loop_status(rt, plan, progress),
            "wait_seconds": next_poll_seconds(plan, progress, rt.clock(), context.poll_seconds),
        }
    )


def _step_failure(step: StepStatus) -> str:
    detail = f": {step.reason}" if step.reason else ""
    return f"EMR step {step.step_id} ended {step.state}{detail}"


def _check_cluster(
    rt: Runtime,
    context: RunContext,
    progress: RunProgress,
    batch: Batch,
    state: BatchProgress,
    past_deadline: bool,
    now: datetime,
    table_reads: RateLimiter,
) -> bool:
    """Follow one emr batch's cluster: verify each table whose step has ended, fail what the
    cluster's end (or the deadline) leaves undone, and terminate it once its tables are done.

    Returns False when the invocation ran short of time (the batch is left running for the next poll).
    """
    emr = rt.client("emr")
    cluster_id = state.cluster_id or ""
    status = cluster_status(emr, cluster_id)
    steps = cluster_steps(emr, cluster_id) if status is not None else {}
    state.cluster_state = status.state if status is not None else "GONE"
    state.run_read_at = now
    cluster_ended = status is None or status.state in CLUSTER_ENDED_STATES
    cluster_end = f"cluster {cluster_id} ended {status.describe() if status is not None else 'GONE'}"
    for table in batch.tables:
        if table.name in progress.outcomes:
            continue
        step = steps.get(table.name) if table.name in state.stepped else None
        if step is None:
            # No step yet: its run's turn has not come. It never will once the cluster or the window has ended.
            if cluster_ended or past_deadline:
                reason = cluster_end if cluster_ended else "not started before the window's deadline"
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name, status="failed", reason=reason, engine=table.engine
                )
            continue
        if step.ended and (step.state in (STEP_SUCCEEDED, "FAILED") or not cluster_ended):
            failure = None if step.state == STEP_SUCCEEDED else _step_failure(step)
        elif cluster_ended:
            # Its step was cancelled (or not ended yet) because the cluster ended: say why it did.
            failure = f"{cluster_end} before its step {step.step_id} completed (the step is {step.state})"
        elif past_deadline:
            failure = f"EMR step {step.step_id} did not finish inside the window (stopped at the deadline)"
        else:
            continue
        if not has_time_for_tables(rt, seconds_each=VERIFY_SECONDS):
            return False
        # A step that completed without its files is a failed backup too: say what was missing.
        _verify_table(
            rt,
            context,
            progress,
            table.name,
            table.engine,
            failure or f"EMR step {step.step_id} {step.state}",
            table_reads,
        )
    if cluster_ended or past_deadline or all(table.name in progress.outcomes for table in batch.tables):
        if not cluster_ended:
            terminate_clusters(emr, [cluster_id])
        state.status, state.ended_at = "ended", now
    return True


def _end_unfinished_starts(
    rt: Runtime, context: RunContext, progress: RunProgress, plan: Plan, batch_ids: list[str], now: datetime
) -> None:
    """At the deadline, end the batches whose start never stored its result, and say so.

    A pipeline such a start may have created before it failed is found by its name and deleted.
    """
    batches = {batch.id: batch for batch in plan.batches}
    delete_batch_pipelines(
        rt, context.run.run_id, dict.fromkeys(b for b in batch_ids if batches[b].engine == "datapipeline")
    )
    clusters = [b for b in batch_ids if batches[b].engine == "emr"]
    if clusters:
        terminate_batch_clusters(rt, context.run, dict.fromkeys(clusters), find_by_name=True)
    for batch_id in batch_ids:
        state = progress.batches[batch_id]
        state.status, state.ended_at = "not_started", now
        fail_batch(progress, batches[batch_id], START_NEVER_COMPLETED)
