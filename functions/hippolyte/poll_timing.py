"""When the backup loop looks again, and which pipelines' runs it reads when it does.

Pure. A pipeline slot, and the boosts of the tables a pipeline has read, are given back only when
a poll sees the work ended. Polling only every ``poll_seconds`` leaves each slot idle for half an
interval on average, and a night of hundreds of batches strings those waits one after another in
every slot. So CheckPipelines asks for the next poll at the moment the plan expects the next
running table to end (a table's files appear as its step ends; a batch ends with its last
table), never later than ``poll_seconds`` and never sooner than :data:`MIN_POLL_SECONDS`, the
floor that keeps the night's execution history in budget (:mod:`hippolyte.history_budget`).

A poll that comes early for one table need not read every pipeline's run: Data Pipeline allows
two status reads a second for the whole account, and reading a hundred runs takes most of two
minutes. Every poll describes every running pipeline (DescribePipelines, 25 to a call), whose
health turns ERROR when a component fails, times out or is cancelled ("Interpreting Pipeline and
Component Health State"); a table's own end is seen in S3 (its ``_SUCCESS``). A pipeline's run
(its instances) is read when its health is ERROR or the pipeline is gone, when its batch is due
to end or has all its tables accounted for, and otherwise once its last read is
:data:`RUN_READ_INTERVAL` old (or a poll interval less the floor, when that is longer): that
bound is for a run that ends without a failure and without some table's files, which its health
does not show. At the deadline every run is read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hippolyte.history_budget import MIN_POLL_SECONDS
from hippolyte.models import Batch, Plan, RunProgress

# How long a running pipeline's run goes unread when neither its health, its due time nor its
# tables call for it. A failure shows in the health at every poll; this bounds only how late a run
# that finished without some table's files is noticed (a fault of the export, not of the cluster),
# and it keeps a hundred running pipelines' status reads well inside Data Pipeline's rate.
RUN_READ_INTERVAL = timedelta(minutes=30)

# A poll planned for the moment a table should end comes this much after it, so that a table
# on time has written its files when the poll reads them.
POLL_AFTER_EXPECTED_END_SECONDS = 30


def start_allowance_seconds(poll_seconds: int) -> int:
    """Time the planner adds to each batch's cluster bootstrap for the loop to notice that the
    slot before it is free: at most one poll interval.

    >>> start_allowance_seconds(300)
    300
    """
    return poll_seconds


def _poll_floor(poll_seconds: int) -> int:
    """The shortest wait between polls: the history floor, or the interval itself if shorter."""
    return min(MIN_POLL_SECONDS, poll_seconds)


def _cluster_up_at(plan: Plan, started_at: datetime, poll_seconds: int) -> datetime:
    """When a started batch's cluster is up: the plan's bootstrap less the allowance for noticing
    a free slot, which a started batch has already had."""
    return started_at + timedelta(seconds=max(0, plan.emr_bootstrap_seconds - start_allowance_seconds(poll_seconds)))


def expected_table_ends(plan: Plan, progress: RunProgress, poll_seconds: int) -> list[datetime]:
    """When each table of a running batch, not yet backed up or failed, should end.

    A batch's tables run one after another on its cluster, once the cluster is up.
    """
    ends: list[datetime] = []
    for batch in plan.batches:
        state = progress.batches.get(batch.id)
        if state is None or state.status != "running" or state.started_at is None:
            continue
        at = _cluster_up_at(plan, state.started_at, poll_seconds)
        for table in batch.tables:
            at += timedelta(seconds=table.estimated_seconds)
            if table.name not in progress.outcomes:
                ends.append(at)
    return ends


def next_poll_seconds(plan: Plan, progress: RunProgress, now: datetime, poll_seconds: int) -> int:
    """Seconds to wait before the next poll: until just after the next expected end, within
    ``[MIN_POLL_SECONDS, poll_seconds]`` (a poll interval under the floor is kept as it is).

    A table already past its expected end is late, and waiting for it is what the poll interval
    is for: only ends still ahead bring the poll forward.
    """
    floor = _poll_floor(poll_seconds)
    ahead = [end for end in expected_table_ends(plan, progress, poll_seconds) if end > now]
    if not ahead:
        return poll_seconds
    until = (min(ahead) - now).total_seconds() + POLL_AFTER_EXPECTED_END_SECONDS
    return int(min(poll_seconds, max(floor, until)))


def batch_due_at(plan: Plan, batch: Batch, started_at: datetime, poll_seconds: int) -> datetime:
    """When a started batch's last table should end."""
    reading = sum(table.estimated_seconds for table in batch.tables)
    return _cluster_up_at(plan, started_at, poll_seconds) + timedelta(seconds=reading)


def runs_to_read(
    plan: Plan, progress: RunProgress, now: datetime, poll_seconds: int, unhealthy: frozenset[str] = frozenset()
) -> set[str]:
    """The running batches whose pipeline run this poll reads: those in ``unhealthy`` (health
    ERROR, or the pipeline gone), those due to end by now or whose tables are all accounted for,
    those never read, and those whose last read is :data:`RUN_READ_INTERVAL` old or more."""
    stale_after = max(RUN_READ_INTERVAL, timedelta(seconds=poll_seconds - _poll_floor(poll_seconds)))
    batches = {batch.id: batch for batch in plan.batches}
    chosen = set()
    for batch_id, state in progress.batches.items():
        if state.status != "running" or not state.pipeline_id or batch_id not in batches:
            continue
        if (
            batch_id in unhealthy
            or state.run_read_at is None
            or state.started_at is None
            or now - state.run_read_at >= stale_after
            or batch_due_at(plan, batches[batch_id], state.started_at, poll_seconds) <= now
            or all(table.name in progress.outcomes for table in batches[batch_id].tables)
        ):
            chosen.add(batch_id)
    return chosen
