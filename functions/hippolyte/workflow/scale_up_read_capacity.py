"""ScaleUpReadCapacity: choose the batches that start now and raise their tables' read capacity,
and raise the boosts of the emr engine's tables whose turn on their cluster has come.

Safe to run again after its work (Step Functions retries it): a batch it already marked
``starting`` is sent to CreatePipelines again under the same attempt, and raising a table that
is already at its boost changes nothing.
"""

from __future__ import annotations

from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.emr_job_flows import boosts_at_start
from hippolyte.models import BatchProgress, Plan, PlannedTable, RunContext, RunProgress, TableOutcome, WaveItem
from hippolyte.runtime import Runtime
from hippolyte.waves import fits_budget, startable_batches
from hippolyte.workflow.emr_clusters import boosts_due
from hippolyte.workflow.run_documents import load_plan
from hippolyte.workflow.table_capacity import raise_tables


def scale_up_next_wave(rt: Runtime, context: RunContext) -> RunContext:
    """Start the next wave: boosts first, so every pipeline is created against raised capacity.

    The wave's boosts are raised together (see :func:`raise_tables`), so auto-scaled tables are
    waited for at once rather than one after another. A batch starts only once every one of its
    boosts is applied: when the invocation runs short of time, the batches it could not finish
    stay ``boosting``, and the next ScaleUpReadCapacity (the loop comes back on every poll)
    raises their remaining tables before it admits any other batch.

    An emr batch starts with only its first table's boost; each later boost is raised here when
    the steps before its table have ended, if it fits the budget then (else the table waits for
    a poll that frees some), and AddExportSteps then hands the table to its cluster.
    """
    s3 = rt.client("s3")
    plan = load_plan(s3, context.run)
    progress = load_document(s3, context.run, "progress", RunProgress)
    now = rt.clock()
    # Batches an earlier attempt of this state (or of the last wave) marked starting and whose
    # CreatePipeline never stored a result: they are started again, under the same attempt.
    unfinished = sorted(bid for bid, state in progress.batches.items() if state.status == "starting")
    if progress.deadline is not None and now >= progress.deadline:
        return context.model_copy(update={"wave": [], "status": "waiting"})
    boosting = [b for b in plan.batches if b.id in progress.batches and progress.batches[b.id].status == "boosting"]
    # Boosts still to apply hold no RCU yet, so the budget cannot tell what more would fit:
    # admitted batches are finished first.
    wave = [] if boosting else startable_batches(plan, progress, rt.settings.max_concurrent_pipelines)
    admitted = [*boosting, *(b for b in plan.batches if b.id in wave)]
    states = {b.id: progress.batches.get(b.id, BatchProgress(batch_id=b.id)) for b in admitted}
    to_raise = [
        (batch.id, table)
        for batch in admitted
        for table in boosts_at_start(batch)
        if table.name not in states[batch.id].boosts_done
    ]
    to_raise += _boosts_due_now(plan, progress, extra=sum(t.extra_read_capacity_units for _, t in to_raise))
    states.update({bid: progress.batches[bid] for bid, _ in to_raise if bid not in states})
    results = raise_tables(rt, rt.ledger(), context.run, [table for _, table in to_raise]) if to_raise else []
    for (batch_id, table), result in zip(to_raise, results, strict=True):
        if result is None:
            continue
        states[batch_id].boosts_done.append(table.name)
        if result.kind == "gone":
            progress.outcomes[table.name] = TableOutcome(
                name=table.name, status="failed", reason=result.reason, engine=table.engine
            )
        elif result.kind == "raised":
            progress.raised[table.name] = result.extra_rcu
        if result.reason:
            progress.notes.append(f"{table.name}: {result.reason}")
    started = []
    for batch in admitted:
        state = states[batch.id]
        if all(table.name in state.boosts_done for table in boosts_at_start(batch)):
            state = state.model_copy(update={"status": "starting", "attempt": state.attempt + 1, "started_at": now})
            started.append(batch.id)
        else:
            state = state.model_copy(update={"status": "boosting"})
        progress.batches[batch.id] = state
    save_document(s3, context.run, "progress", progress)
    items = [
        WaveItem(batch_id=batch_id, attempt=progress.batches[batch_id].attempt) for batch_id in [*unfinished, *started]
    ]
    return context.model_copy(update={"wave": items})


def _boosts_due_now(plan: Plan, progress: RunProgress, extra: int) -> list[tuple[str, PlannedTable]]:
    """The emr engine's boosts whose table's turn has come, in plan order, while they fit the budget
    on top of what is held and the ``extra`` this invocation raises for starting batches."""
    due = []
    held = sum(progress.raised.values()) + extra
    for batch_id, table in boosts_due(plan, progress):
        if not fits_budget(held, table.extra_read_capacity_units, plan.max_extra_rcu):
            break
        due.append((batch_id, table))
        held += table.extra_read_capacity_units
    return due
