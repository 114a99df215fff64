"""The backup loop's next move, which CheckPipelines and ScaleDownReadCapacity both return.

The state machine's AllBackupsDone choice reads it: ``done`` ends the loop, ``start_next`` goes to
ScaleUpReadCapacity for the next wave, ``waiting`` waits a poll interval and checks again.
"""

from __future__ import annotations

from hippolyte.models import Plan, RunProgress
from hippolyte.runtime import Runtime
from hippolyte.waves import startable_batches


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
    if progress.refused_this_poll:
        return "waiting"
    wave = startable_batches(plan, progress, rt.settings.max_concurrent_pipelines)
    return "start_next" if wave else "waiting"
