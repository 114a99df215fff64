"""When the backup loop polls again: as soon after the next expected end as the history allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hippolyte.history_budget import MIN_POLL_SECONDS
from hippolyte.models import Batch, BatchProgress, CostEstimate, Plan, PlannedTable, Prices, RunProgress, TableOutcome
from hippolyte.poll_timing import POLL_AFTER_EXPECTED_END_SECONDS, RUN_READ_INTERVAL, next_poll_seconds, runs_to_read
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)
STARTED = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)
POLL = 300
# The plan's bootstrap: the cluster's 600 s plus one poll interval for noticing a free slot.
BOOTSTRAP = 600 + POLL


def plan(*durations: list[int]) -> Plan:
    """A plan of one batch per list, each table taking the listed seconds."""
    batches = [
        Batch(
            id=f"b{number:04d}",
            start_seconds=0,
            estimated_seconds=BOOTSTRAP + sum(seconds),
            tables=[
                PlannedTable(
                    name=f"t{number}-{index}",
                    size_bytes=1,
                    original_read_capacity_units=10,
                    read_capacity_units=10,
                    read_throughput_percent=0.5,
                    estimated_seconds=table_seconds,
                )
                for index, table_seconds in enumerate(seconds)
            ],
        )
        for number, seconds in enumerate(durations, start=1)
    ]
    cost = CostEstimate(emr_cluster_hours=0, extra_rcu_hours=0, emr_usd=0, rcu_usd=0, total_usd=0, prices=Prices())
    return Plan(
        batches=batches,
        window_seconds=7 * 3600,
        bytes_per_rcu_second=8192,
        emr_bootstrap_seconds=BOOTSTRAP,
        activity_bootstrap_seconds=60,
        max_extra_rcu=0,
        cost=cost,
    )


def running(the_plan: Plan, done: tuple[str, ...] = ()) -> RunProgress:
    return RunProgress(
        batches={
            b.id: BatchProgress(batch_id=b.id, status="running", started_at=STARTED, pipeline_id="df-1")
            for b in the_plan.batches
        },
        outcomes={name: TableOutcome(name=name, status="backed_up") for name in done},
    )


def test_the_poll_comes_just_after_the_next_table_is_due():
    # GIVEN a batch whose cluster is up at 10 min and whose first table takes 20 min
    the_plan = plan([1200, 1800])
    # WHEN the loop polls 27 min after the start (the first table is due at 30 min)
    now = STARTED + timedelta(minutes=27)
    # THEN it looks again just after 30 min, not a whole poll interval later
    assert next_poll_seconds(the_plan, running(the_plan), now, POLL) == 3 * 60 + POLL_AFTER_EXPECTED_END_SECONDS


def test_a_table_due_soon_is_waited_for_no_less_than_the_history_floor():
    # GIVEN a table due in 10 seconds
    the_plan = plan([1200])
    now = STARTED + timedelta(seconds=600 + 1200 - 10)
    # THEN the poll waits the floor, not 40 seconds
    assert next_poll_seconds(the_plan, running(the_plan), now, POLL) == MIN_POLL_SECONDS


def test_tables_already_backed_up_and_tables_already_late_do_not_bring_the_poll_forward():
    # GIVEN a batch whose first table is backed up and whose second is past its expected end
    the_plan = plan([600, 600, 6000])
    now = STARTED + timedelta(seconds=600 + 1200 + 60)
    # WHEN the third table is due much later than a poll interval
    # THEN the loop polls at its interval: it waits for the late table as it always did
    assert next_poll_seconds(the_plan, running(the_plan, done=("t1-0",)), now, POLL) == POLL


def test_the_earliest_end_of_any_running_batch_decides():
    # GIVEN two running batches, the second's table due 200 s from now
    the_plan = plan([4000], [1000])
    now = STARTED + timedelta(seconds=600 + 800)
    # THEN the poll comes just after that table's end
    assert next_poll_seconds(the_plan, running(the_plan), now, POLL) == 200 + POLL_AFTER_EXPECTED_END_SECONDS


def test_a_batch_not_running_brings_nothing_forward():
    # GIVEN a batch still pending
    the_plan = plan([100])
    pending = RunProgress(batches={"b0001": BatchProgress(batch_id="b0001")})
    # THEN the loop polls at its interval
    assert next_poll_seconds(the_plan, pending, STARTED, POLL) == POLL


@PROPERTY
@given(
    durations=st.lists(st.lists(st.integers(1, 20_000), min_size=1, max_size=5), min_size=1, max_size=6),
    elapsed=st.integers(0, 40_000),
    poll=st.integers(MIN_POLL_SECONDS, 3600),
)
def test_the_wait_never_leaves_the_poll_interval_nor_goes_under_the_history_floor(durations, elapsed, poll):
    # GIVEN any running batches and any moment of the night
    the_plan = plan(*durations)
    # WHEN the next wait is chosen
    wait = next_poll_seconds(the_plan, running(the_plan), STARTED + timedelta(seconds=elapsed), poll)
    # THEN it is within [floor, poll interval]: the history budget's polls-per-night bound holds
    assert MIN_POLL_SECONDS <= wait <= poll


def test_a_poll_reads_the_runs_due_unread_stale_or_unhealthy_and_leaves_the_others_for_s3():
    # GIVEN five running batches: one due to end by now, one never read, one read half an hour
    # ago, one read a minute ago whose pipeline's health is ERROR, and one read 25 minutes ago,
    # none of the last three due for hours
    the_plan = plan([600], [20_000], [20_000], [20_000], [20_000])
    now = STARTED + timedelta(seconds=3000)
    progress = running(the_plan)
    for batch_id, read_ago in (("b0001", 60), ("b0003", 1800), ("b0004", 60), ("b0005", 1500)):
        progress.batches[batch_id].run_read_at = now - timedelta(seconds=read_ago)
    # WHEN the poll chooses which pipelines' runs to read (poll interval 300 s)
    chosen = runs_to_read(the_plan, progress, now, POLL, unhealthy=frozenset({"b0004"}))
    # THEN it reads the due one, the unread one, the stale one and the unhealthy one; the one
    # read 25 minutes ago is checked through S3 and its health alone
    assert chosen == {"b0001", "b0002", "b0003", "b0004"}


def test_a_batch_whose_tables_are_all_accounted_for_has_its_run_read():
    # GIVEN a batch that finished early: its only table is backed up, its run read a minute ago
    the_plan = plan([20_000])
    now = STARTED + timedelta(seconds=1200)
    progress = running(the_plan, done=("t1-0",))
    progress.batches["b0001"].run_read_at = now - timedelta(seconds=60)
    # THEN its run is read, so that its pipeline ends and its slot is free this poll
    assert runs_to_read(the_plan, progress, now, POLL) == {"b0001"}


@PROPERTY
@given(
    read_ago=st.lists(st.integers(0, 4000), min_size=1, max_size=6),
    poll=st.integers(MIN_POLL_SECONDS, 3600),
)
def test_no_running_pipeline_goes_unread_for_longer_than_the_read_interval_and_a_poll(read_ago, poll):
    # GIVEN batches that are not due for a long time, each read some time ago
    the_plan = plan(*[[90_000] for _ in read_ago])
    now = STARTED + timedelta(seconds=5000)
    progress = running(the_plan)
    for batch, ago in zip(the_plan.batches, read_ago, strict=True):
        progress.batches[batch.id].run_read_at = now - timedelta(seconds=ago)
    # WHEN a poll skips some runs
    skipped = {b.id for b in the_plan.batches} - runs_to_read(the_plan, progress, now, poll)
    interval = max(RUN_READ_INTERVAL.total_seconds(), poll - MIN_POLL_SECONDS)
    for batch, ago in zip(the_plan.batches, read_ago, strict=True):
        if batch.id not in skipped:
            continue
        # THEN a skipped run was read less than the read interval ago, and any poll from the
        # moment its last read is that interval old reads it: the next poll, at most a poll
        # interval away, leaves it unread for under the read interval and a poll
        assert ago < interval
        due = now + timedelta(seconds=interval - ago)
        assert batch.id in runs_to_read(the_plan, progress, due, poll)
