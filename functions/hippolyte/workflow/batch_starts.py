"""A batch's start, which survives any state being retried after its work.

Step Functions runs a Task again when its Lambda fails after doing its work (a
``Lambda.ServiceException`` on the way back, a timeout, throttling). So a batch's start is kept
where every retry finds it:

1. ScaleUpReadCapacity marks the batch ``starting`` with a new attempt number and saves progress;
   a retried ScaleUp finds its ``starting`` batches and sends them to CreatePipelines again.
2. CreatePipeline stores its own result in the run's ``starts/<batch>-<attempt>`` document; a
   retried CreatePipeline finds that document and returns it without touching Data Pipeline.
3. CheckPipelines (and the failure path) merge each ``starting`` batch's document into progress;
   a batch whose document never came is started again on the next wave, and failed at the
   deadline with its reason.

The batch's data never travels through the state machine's own payloads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.models import Batch, BatchProgress, Plan, RunProgress, RunRef, StartedBatch, TableOutcome

START_NEVER_COMPLETED = "its start did not complete before the window's deadline"


def start_document(batch_id: str, attempt: int) -> str:
    """Name of the document in which one attempt to start a batch stores its result.

    >>> start_document("b0007", 2)
    'starts/b0007-002'
    """
    return f"starts/{batch_id}-{attempt:03d}"


def pipeline_name(stage: str, run_id: str, batch_id: str) -> str:
    """A batch's pipeline name: stage, run and batch, so a person (and the failure path) can find it.

    >>> pipeline_name("prod", "nightly-2026-11-28", "b0001")
    'hippolyte-prod-nightly-2026-11-28-b0001'
    """
    return f"hippolyte-{stage}-{run_id}-{batch_id}"


def stored_start(s3: Any, run: RunRef, batch_id: str, attempt: int) -> StartedBatch | None:
    """The result an attempt already stored, or None when it has not completed."""
    name = start_document(batch_id, attempt)
    return load_document(s3, run, name, StartedBatch) if document_exists(s3, run, name) else None


def store_start(s3: Any, run: RunRef, attempt: int, started: StartedBatch) -> None:
    """Store one attempt's result (a pipeline, exports, or why the batch could not start)."""
    save_document(s3, run, start_document(started.batch_id, attempt), started)


def fail_batch(progress: RunProgress, batch: Batch, reason: str) -> None:
    """Fail every table of a batch that has no outcome yet."""
    for table in batch.tables:
        progress.outcomes.setdefault(
            table.name, TableOutcome(name=table.name, status="failed", reason=reason, engine=table.engine)
        )


def apply_start(progress: RunProgress, plan: Plan, started: StartedBatch, now: datetime) -> None:
    """Merge one batch's start result into the run's progress."""
    batches = {batch.id: batch for batch in plan.batches}
    state = progress.batches.setdefault(started.batch_id, BatchProgress(batch_id=started.batch_id))
    if started.error is None:
        state.pipeline_id, state.export_arns, state.status = started.pipeline_id, started.export_arns, "running"
        if started.cluster_id:
            state.cluster_id, state.stepped = started.cluster_id, list(started.stepped)
        return
    if started.error == "PipelineLimitReachedError":
        # Other pipelines (ours or not) hold the account's slots: try again after the next wait,
        # until the deadline, when the batch's tables are reported with this reason.
        progress.limit_retries[started.batch_id] = progress.limit_retries.get(started.batch_id, 0) + 1
        progress.refused_this_poll = True
        state.status = "pending"
        return
    state.status, state.ended_at = "not_started", now
    what = (
        "its cluster could not be started"
        if started.error == "ClusterCreationError"
        else "its pipeline could not be created"
    )
    fail_batch(progress, batches[started.batch_id], f"{what}: {started.error}: {started.cause}")


def merge_stored_starts(s3: Any, run: RunRef, progress: RunProgress, plan: Plan, now: datetime) -> list[str]:
    """Merge the stored result of every ``starting`` batch; returns the batches still without one."""
    progress.refused_this_poll = False
    unfinished: list[str] = []
    for batch_id, state in sorted(progress.batches.items()):
        if state.status != "starting":
            continue
        started = stored_start(s3, run, batch_id, state.attempt)
        if started is None:
            unfinished.append(batch_id)
        else:
            apply_start(progress, plan, started, now)
    return unfinished
