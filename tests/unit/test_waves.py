"""Which batches start now: plan order, the pipeline limit and the account's extra-RCU budget."""

from __future__ import annotations

from hippolyte.models import Batch, BatchProgress, PlannedTable
from hippolyte.waves import batch_extra_rcu, next_wave
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=120, deadline=None, derandomize=True)


def batch(number: int, extra: int = 0, engine: str = "datapipeline", start: int | None = None) -> Batch:
    table = PlannedTable(
        name=f"table-{number:03d}",
        engine=engine,
        size_bytes=1,
        original_read_capacity_units=100,
        read_capacity_units=100 + extra,
        read_throughput_percent=0.5,
        estimated_seconds=60,
    )
    return Batch(
        id=f"b{number:04d}",
        engine=engine,
        start_seconds=number * 10 if start is None else start,
        estimated_seconds=60,
        tables=[table],
    )


def progress(**statuses: str) -> dict[str, BatchProgress]:
    return {key: BatchProgress(batch_id=key, status=status) for key, status in statuses.items()}


def test_the_pipeline_limit_caps_new_starts():
    # GIVEN 3 pipelines running, a limit of 4, and 3 batches pending
    batches = [batch(n) for n in range(1, 7)]
    state = progress(b0001="running", b0002="running", b0003="running")
    # WHEN the next wave is chosen
    wave = next_wave(batches, state, max_concurrent_pipelines=4, max_extra_rcu=10_000, held_extra_rcu=0)
    # THEN only one more starts, the first in plan order
    assert wave == ["b0004"]


def test_nothing_starts_when_every_pipeline_slot_is_taken():
    # GIVEN the limit reached
    batches = [batch(1), batch(2)]
    # WHEN the next wave is chosen
    # THEN nothing starts
    assert next_wave(batches, progress(b0001="running"), 1, 10_000, 0) == []


def test_ended_and_refused_batches_free_their_slots():
    # GIVEN batches that ended or could not start
    batches = [batch(1), batch(2), batch(3)]
    state = progress(b0001="ended", b0002="not_started")
    # WHEN the next wave is chosen with one slot
    # THEN the pending batch takes it
    assert next_wave(batches, state, 1, 10_000, 0) == ["b0003"]


def test_the_rcu_budget_holds_back_a_batch_while_boosts_are_held():
    # GIVEN 600 extra RCU held of a 1,000 budget, and a batch needing 500 more
    batches = [batch(1, extra=500), batch(2, extra=100)]
    # WHEN the next wave is chosen
    # THEN it waits (and the smaller batch behind it does not overtake it)
    assert next_wave(batches, {}, 100, max_extra_rcu=1_000, held_extra_rcu=600) == []


def test_boosts_fill_the_budget_in_plan_order():
    # GIVEN a 1,000 budget and batches needing 400 each
    batches = [batch(n, extra=400) for n in range(1, 5)]
    # WHEN the next wave is chosen with nothing held
    # THEN two start (800); the third would pass the budget
    assert next_wave(batches, {}, 100, 1_000, 0) == ["b0001", "b0002"]


def test_a_batch_over_the_budget_starts_alone_when_nothing_is_held():
    # GIVEN a batch needing more than the whole budget, and nothing held
    batches = [batch(1, extra=5_000), batch(2, extra=0), batch(3, extra=10)]
    # WHEN the next wave is chosen
    wave = next_wave(batches, {}, 100, 1_000, 0)
    # THEN it starts (waiting would never help), and alone
    assert wave == ["b0001"]


def test_plan_order_is_by_start_time_not_list_order():
    # GIVEN batches listed out of their planned start order
    batches = [batch(3, start=300), batch(1, start=0), batch(2, start=100)]
    # WHEN the next wave is chosen
    # THEN they start in plan order
    assert next_wave(batches, {}, 100, 10_000, 0) == ["b0001", "b0002", "b0003"]


def test_running_exports_do_not_count_as_pipelines():
    # GIVEN two native-export batches running and a pipeline limit of 1
    batches = [batch(1, engine="export"), batch(2, engine="export"), batch(3)]
    state = progress(b0001="running", b0002="running")
    # WHEN the next wave is chosen
    # THEN the pipeline batch still gets the one slot
    assert next_wave(batches, state, 1, 10_000, 0) == ["b0003"]


def test_exports_start_while_every_pipeline_slot_is_taken():
    # GIVEN the pipeline limit reached and an export batch pending next
    batches = [batch(1), batch(2, engine="export"), batch(3, engine="export")]
    # WHEN the next wave is chosen
    # THEN the exports start: they use no pipeline
    assert next_wave(batches, progress(b0001="running"), 1, 10_000, 0) == ["b0002", "b0003"]


def test_batch_extra_rcu_counts_only_boosts():
    # GIVEN a batch with a boosted table and an unboosted one
    boosted, plain = batch(1, extra=250).tables[0], batch(2).tables[0]
    # THEN its extra RCU is the boost alone
    assert batch_extra_rcu(Batch(id="b0009", estimated_seconds=1, tables=[boosted, plain])) == 250


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@st.composite
def situations(draw: st.DrawFn):
    count = draw(st.integers(0, 12))
    batches, state = [], {}
    for number in range(1, count + 1):
        engine = draw(st.sampled_from(["datapipeline", "datapipeline", "export"]))
        extra = draw(st.sampled_from([0, 0, 100, 400, 2_000]))
        batches.append(batch(number, extra=extra, engine=engine, start=draw(st.integers(0, 5)) * 100))
        status = draw(st.sampled_from(["pending", "pending", "running", "ended", "not_started"]))
        state[f"b{number:04d}"] = BatchProgress(batch_id=f"b{number:04d}", status=status)
    return batches, state


@PROPERTY
@given(situation=situations(), limit=st.integers(1, 6), budget=st.integers(0, 3_000), held=st.integers(0, 3_000))
def test_a_wave_respects_every_limit(situation, limit, budget, held):
    batches, state = situation
    by_id = {b.id: b for b in batches}
    running = sum(1 for b in batches if b.engine == "datapipeline" and state[b.id].status == "running")
    # WHEN the next wave is chosen
    wave = next_wave(batches, state, limit, budget, held)
    # THEN it holds only pending batches, each once
    assert len(set(wave)) == len(wave)
    assert all(state[batch_id].status == "pending" for batch_id in wave)
    # AND it is the start of the pending batches in plan order (nothing overtakes)
    in_plan_order = sorted(batches, key=lambda b: (b.start_seconds, b.id))
    pending = [b.id for b in in_plan_order if state[b.id].status == "pending"]
    assert wave == pending[: len(wave)]
    # AND pipelines never pass the limit
    new_pipelines = sum(1 for batch_id in wave if by_id[batch_id].engine == "datapipeline")
    assert new_pipelines == 0 or running + new_pipelines <= limit
    # AND boosts never pass the budget, except a batch started when nothing at all was held
    total = held
    for batch_id in wave:
        extra = batch_extra_rcu(by_id[batch_id])
        assert total == 0 or total + extra <= budget
        total += extra
    # AND the wave stops only for a reason: the next pending batch is blocked by a limit
    if len(wave) < len(pending):
        blocked = by_id[pending[len(wave)]]
        pipelines_full = blocked.engine == "datapipeline" and running + new_pipelines >= limit
        over_budget = total > 0 and total + batch_extra_rcu(blocked) > budget
        assert pipelines_full or over_budget
