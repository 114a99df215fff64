"""The backup loop's next move, which CheckPipelines and ScaleDownReadCapacity both return.

The state machine's AllBackupsDone choice reads it: ``done`` ends the loop, ``start_next`` goes to
ScaleUpReadCapacity for the next wave (or the emr engine's next tables),
``waiting`` waits a poll interval and checks again.
"""

from __future__ import annotations

from hippolyte.models import Plan, RunProgress
from hippolyte.runtime import Runtime
from hippolyte.waves import fits_budget, startable_batches
from hippolyte.workflow.emr_clusters import boosts_due, step_groups_ready


def loop_status(rt: Runtime, plan: Plan, progress: RunProgress) -> str:
    """done: nothing pending or running; start_next: a wave can start now; waiting otherwise.

    After a refusal at the pipeline limit the loop waits a poll interval before asking again:
    asking at once would spin against a limit that only a finishing pipeline can lift.
    """
    statuses = {state.status for state in progress.batches.values()}
    if not statuses & {"pending", "boosting", "starting", "running"}:
        return "done"
    if statuses & {"boosting", "starting"}:
        # Boosts an invocation had no time for, or a start that never stored its result:
        # ScaleUpReadCapacity finishes them, or sends the batch again.
        return "start_next"
    if step_groups_ready(plan, progress):
        return "start_next"
    due = boosts_due(plan, progress)
    if due and fits_budget(sum(progress.raised.values()), due[0][1].extra_read_capacity_units, plan.max_extra_rcu):
        # An emr table's turn on its cluster has come: its boost is raised and its step added now,
        # not a poll later. One that does not fit the budget waits for boosts to be lowered.
        return "start_next"
    if progress.refused_this_poll:
        return "waiting"
    wave = startable_batches(plan, progress, rt.settings.max_concurrent_pipelines)
    return "start_next" if wave else "waiting"
