"""ScaleUpReadCapacity: choose the batches that start now and raise their tables' read capacity.

Safe to run again after its work (Step Functions retries it): a batch it already marked
``starting`` is sent to CreatePipelines again under the same attempt, and raising a table that
is already at its boost changes nothing.
"""

from __future__ import annotations

from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.models import BatchProgress, Plan, RunContext, RunProgress, TableOutcome, WaveItem
from hippolyte.runtime import Runtime
from hippolyte.waves import startable_batches
from hippolyte.workflow.table_capacity import raise_tables


def scale_up_next_wave(rt: Runtime, context: RunContext) -> RunContext:
    """Start the next wave: boosts first, so every pipeline is created against raised capacity.

    The wave's boosts are raised together (see :func:`raise_tables`), so auto-scaled tables are
    waited for at once rather than one after another.
    """
    s3 = rt.client("s3")
    plan = load_document(s3, context.run, "plan", Plan)
    progress = load_document(s3, context.run, "progress", RunProgress)
    now = rt.clock()
    # Batches an earlier attempt of this state (or of the last wave) marked starting and whose
    # CreatePipeline never stored a result: they are started again, under the same attempt.
    unfinished = sorted(bid for bid, state in progress.batches.items() if state.status == "starting")
    if progress.deadline is not None and now >= progress.deadline:
        return context.model_copy(update={"wave": [], "status": "waiting"})
    wave = startable_batches(plan, progress, rt.settings.max_concurrent_pipelines)
    starting = [b for b in plan.batches if b.id in wave]
    boosted = [table for batch in starting for table in batch.tables if table.boosted]
    results = raise_tables(rt, rt.ledger(), context.run, boosted) if boosted else []
    for table, result in zip(boosted, results, strict=True):
        if result.kind == "gone":
            progress.outcomes[table.name] = TableOutcome(
                name=table.name, status="failed", reason=result.reason, engine=table.engine
            )
        elif result.kind == "raised":
            progress.raised[table.name] = result.extra_rcu
        if result.reason:
            progress.notes.append(f"{table.name}: {result.reason}")
    for batch in starting:
        earlier = progress.batches.get(batch.id, BatchProgress(batch_id=batch.id))
        progress.batches[batch.id] = earlier.model_copy(
            update={"status": "starting", "attempt": earlier.attempt + 1, "started_at": now}
        )
    save_document(s3, context.run, "progress", progress)
    items = [
        WaveItem(batch_id=batch_id, attempt=progress.batches[batch_id].attempt) for batch_id in [*unfinished, *wave]
    ]
    return context.model_copy(update={"wave": items})
