"""PlanBatches: fit the inventory into the night, store the plan and one document per batch."""

from __future__ import annotations

from hippolyte.adapters.account_limits import read_account_limits
from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.emr_job_flows import just_in_time_boosts
from hippolyte.history_budget import EXECUTION_HISTORY_LIMIT, MAX_STARTS_PER_NIGHT
from hippolyte.models import BatchProgress, Inventory, Plan, PlannerSettings, RunContext, RunProgress, TableOutcome
from hippolyte.planning import plan_batches
from hippolyte.poll_timing import start_allowance_seconds
from hippolyte.runtime import Runtime
from hippolyte.workflow.run_documents import batch_document


def with_ledger_originals(rt: Runtime, inventory: Inventory) -> Inventory:
    """Plan with each table's true original capacity.

    A table an earlier run left raised (it died, or its restore is pending) shows its boosted
    capacity; the ledger's open record holds what the table really had.
    """
    originals = {entry.table_name: entry.original for entry in rt.ledger().open_entries()}
    if not originals:
        return inventory
    tables = [
        table.model_copy(update={"read_capacity_units": originals[table.name].read_capacity_units})
        if table.name in originals and originals[table.name].billing_mode == table.billing_mode
        else table
        for table in inventory.tables
    ]
    return inventory.model_copy(update={"tables": tables})


# The least window a plan is made for: a run that reaches PlanBatches with less left still plans
# (every table then late, and reported so) rather than fail.
MIN_PLANNING_WINDOW_SECONDS = 60


def night_settings(rt: Runtime, context: RunContext, budget: int, table_max_rcu: int) -> PlannerSettings:
    """The planner's settings for what is left of this run's night.

    The window is counted from the run's start, and discovery has used some of it (about 40
    minutes at 10,000 tables): the plan gets what is left. A batch of a later wave starts only
    when a poll sees its slot free, so each cluster's bootstrap is planned one poll longer
    (:func:`~hippolyte.poll_timing.start_allowance_seconds`).
    """
    settings = rt.settings.planner_settings(max_extra_rcu=budget, table_max_rcu=table_max_rcu)
    elapsed = max(0, int((rt.clock() - context.run.started_at).total_seconds()))
    return settings.model_copy(
        update={
            "window_seconds": max(MIN_PLANNING_WINDOW_SECONDS, settings.window_seconds - elapsed),
            "emr_bootstrap_seconds": settings.emr_bootstrap_seconds + start_allowance_seconds(context.poll_seconds),
        }
    )


def plan_run(rt: Runtime, context: RunContext) -> RunContext:
    """Plan the run's batches from its inventory and the account's read-capacity limits."""
    s3 = rt.client("s3")
    inventory = load_document(s3, context.run, "inventory", Inventory)
    inventory = with_ledger_originals(rt, inventory)
    limits = read_account_limits(rt.client("dynamodb"))
    provisioned = sum(t.read_capacity_units + sum(g.read_capacity_units for g in t.gsis) for t in inventory.tables)
    budget = rt.settings.max_extra_rcu
    if budget is None:
        budget = max(0, limits.account_max_read_capacity_units - provisioned)
    settings = night_settings(rt, context, budget, limits.table_max_read_capacity_units)
    plan = plan_batches(inventory.tables, settings, inventory.skipped)
    save_document(s3, context.run, "plan", plan)
    for batch in plan.batches:
        save_document(s3, context.run, batch_document(batch.id), batch)
    progress = load_document(s3, context.run, "progress", RunProgress)
    progress.batches = {batch.id: BatchProgress(batch_id=batch.id) for batch in plan.batches}
    _leave_out_batches_past_the_history_budget(plan, progress)
    inventory_skipped = {s.name for s in inventory.skipped}
    for skipped in plan.skipped:
        if skipped.name not in inventory_skipped:
            progress.outcomes[skipped.name] = TableOutcome(name=skipped.name, status="skipped", reason=skipped.reason)
    progress.notes += [f"{flag.name}: {flag.reason}" for flag in plan.flagged]
    save_document(s3, context.run, "progress", progress)
    return context.model_copy(update={"status": "start_next"})


def _leave_out_batches_past_the_history_budget(plan: Plan, progress: RunProgress) -> None:
    """Batches past the first MAX_STARTS_PER_NIGHT starts (in start order) are failed, with the reason.

    Each start (a batch, and each boost the emr engine raises after its batch's start) costs
    history events, and an execution past Step Functions' limit fails outright, taking every table
    with it. The tables left out are reported, never dropped.
    """
    order = sorted(plan.batches, key=lambda b: (b.start_seconds, b.id))
    reason = (
        f"not started: one night makes at most {MAX_STARTS_PER_NIGHT} starts (a batch, or an emr boost raised "
        f"after its batch's start), so that its execution history stays under Step Functions' "
        f"{EXECUTION_HISTORY_LIMIT:,} events; back it up in a manual re-run"
    )
    starts = 0
    for batch in order:
        starts += 1 + just_in_time_boosts(batch)
        if starts <= MAX_STARTS_PER_NIGHT:
            continue
        progress.batches[batch.id].status = "not_started"
        for table in batch.tables:
            progress.outcomes[table.name] = TableOutcome(
                name=table.name, status="failed", reason=reason, engine=table.engine
            )
