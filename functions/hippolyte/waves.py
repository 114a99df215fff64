"""Which batches start now: the plan's order, within the pipeline limit and the RCU budget.

Pure. The plan gives each batch a start offset assuming estimates hold; at run time batches end
early or late, so the workflow starts the next batch in plan order as soon as a pipeline slot is
free and the account's extra read capacity allows its boosts.
"""

from __future__ import annotations

from collections.abc import Mapping

from hippolyte.emr_job_flows import boosts_at_start
from hippolyte.models import Batch, BatchProgress, Plan, RunProgress


def batch_extra_rcu(batch: Batch) -> int:
    """Extra RCU a batch's boosts hold when it starts (an emr batch raises its later boosts when
    their turn comes, each checked against the budget then).

    >>> from hippolyte.models import PlannedTable
    >>> t = PlannedTable(name="t", size_bytes=1, original_read_capacity_units=10,
    ...                  read_capacity_units=30, read_throughput_percent=0.5, estimated_seconds=1)
    >>> batch_extra_rcu(Batch(id="b0001", estimated_seconds=1, tables=[t]))
    20
    """
    return sum(table.extra_read_capacity_units for table in boosts_at_start(batch))


def fits_budget(held_extra_rcu: int, extra_rcu: int, max_extra_rcu: int) -> bool:
    """Whether ``extra_rcu`` more fits the budget on top of what is held; anything fits when
    nothing is held (the planner has already made every boost fit on its own, and waiting would
    never help).

    >>> fits_budget(0, 500, 100), fits_budget(50, 60, 100), fits_budget(50, 50, 100)
    (True, False, True)
    """
    return held_extra_rcu == 0 or held_extra_rcu + extra_rcu <= max_extra_rcu


def next_wave(
    batches: list[Batch],
    progress: Mapping[str, BatchProgress],
    max_concurrent_pipelines: int,
    max_extra_rcu: int,
    held_extra_rcu: int,
) -> list[str]:
    """Ids of the pending batches to start now, in plan order.

    Pipelines count against ``max_concurrent_pipelines``; native-export batches use no pipeline.
    A batch whose boosts would pass the budget waits, unless nothing is held at all (then the
    planner has already made it fit on its own, and waiting would never help).
    """
    running = sum(
        1
        for batch in batches
        if batch.engine == "datapipeline"
        and progress.get(batch.id, BatchProgress(batch_id=batch.id)).status in ("boosting", "starting", "running")
    )
    held = held_extra_rcu
    wave: list[str] = []
    for batch in sorted(batches, key=lambda b: (b.start_seconds, b.id)):
        if progress.get(batch.id, BatchProgress(batch_id=batch.id)).status != "pending":
            continue
        if batch.engine == "datapipeline" and running >= max_concurrent_pipelines:
            break
        extra = batch_extra_rcu(batch)
        if not fits_budget(held, extra, max_extra_rcu):
            break
        wave.append(batch.id)
        held += extra
        running += batch.engine == "datapipeline"
    return wave


def startable_batches(plan: Plan, progress: RunProgress, max_concurrent_pipelines: int) -> list[str]:
    """:func:`next_wave` for a run: its plan's budget and the extra RCU its raised tables hold now."""
    return next_wave(
        plan.batches, progress.batches, max_concurrent_pipelines, plan.max_extra_rcu, sum(progress.raised.values())
    )
