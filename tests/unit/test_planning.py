"""The planner: its invariants (property-tested) and the fleet shapes it must handle.

Every share it writes is within DynamoDBDataNode's readThroughputPercent range, 0.1 to 1.0; a
boost never takes the application's capacity; on-demand tables are estimated at the rate the EMR
export tool really reads them (40,000 RCU x their share x 8 KB/s) and their read requests are in
the cost.
"""

from __future__ import annotations

import math
import random

import pytest
from hippolyte import planning
from hippolyte.models import Batch, Plan, PlannedTable, PlannerSettings, Prices, SkippedTable, TableSnapshot
from hippolyte.planning import (
    HOUR,
    CostModel,
    boosted_capacity,
    estimate_seconds,
    extra_rcu_timeline,
    minimum_boost,
    peak_concurrent_pipelines,
    peak_extra_rcu,
    plan_batches,
    tables_past_window,
)
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

GIB = 2**30
TIB = 2**40
PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------
# Strategies
# --------------------------------------------------------------------------------------------


@st.composite
def fleets(draw: st.DrawFn, max_tables: int = 40) -> list[TableSnapshot]:
    """Tables from empty to many TB, 1 to 10,000 RCU, some on demand, some exported natively."""
    count = draw(st.integers(min_value=0, max_value=max_tables))
    tables = []
    for index in range(count):
        on_demand = draw(st.booleans().map(lambda b: b and draw(st.integers(0, 4)) == 0))
        exponent = draw(st.floats(min_value=0, max_value=13.5))
        size = 0 if draw(st.integers(0, 9)) == 0 else int(10**exponent)
        tables.append(
            TableSnapshot(
                name=f"table-{index:03d}",
                billing_mode="PAY_PER_REQUEST" if on_demand else "PROVISIONED",
                read_capacity_units=0 if on_demand else draw(st.integers(min_value=1, max_value=10_000)),
                size_bytes=size,
                engine="export" if draw(st.integers(0, 9)) == 0 else "datapipeline",
            )
        )
    return tables


planner_settings = st.builds(
    PlannerSettings,
    window_seconds=st.integers(min_value=1800, max_value=24 * 3600),
    read_throughput_percent=st.sampled_from([0.1, 0.11, 0.25, 0.5, 0.75, 1.0]),
    on_demand_read_throughput_percent=st.sampled_from([0.1, 0.5, 1.0]),
    bytes_per_rcu_second=st.sampled_from([4096.0, 8192.0]),
    max_tables_per_pipeline=st.integers(min_value=1, max_value=32),
    max_concurrent_pipelines=st.integers(min_value=1, max_value=12),
    max_extra_rcu=st.integers(min_value=0, max_value=100_000),
    table_max_rcu=st.integers(min_value=1, max_value=40_000),
    min_boosted_seconds=st.sampled_from([60, 600, 3600]),
    # Dear capacity makes the cheapest boost the smallest one that fits.
    prices=st.builds(Prices, rcu_hour_usd=st.sampled_from([0.00013, 0.01, 1.0])),
)


def planned_tables(plan: Plan) -> list:
    return [table for batch in plan.batches for table in batch.tables]


def pipeline_tables(plan: Plan) -> list:
    return [table for batch in plan.batches if batch.engine == "datapipeline" for table in batch.tables]


# --------------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_every_table_is_planned_once_or_skipped_with_a_reason(tables, config):
    # GIVEN any fleet and any settings
    # WHEN it is planned
    plan = plan_batches(tables, config)
    # THEN every table is planned exactly once or skipped, and nothing else appears
    names = [t.name for t in planned_tables(plan)] + [s.name for s in plan.skipped]
    assert sorted(names) == sorted(t.name for t in tables)
    assert all(s.reason for s in plan.skipped)


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_no_plan_leaves_fewer_tables_late_than_its_lower_bound(tables, config):
    # GIVEN any fleet and any settings
    # WHEN it is planned
    plan = plan_batches(tables, config)
    # THEN the plan carries a lower bound, and the plan itself never beats it
    assert plan.lower_bound is not None
    assert plan.lower_bound.late_tables <= len(tables_past_window(plan))
    # AND a bound above zero always says why
    assert bool(plan.lower_bound.reasons) == (plan.lower_bound.late_tables > 0)
    # AND boosts held only while their tables are read would never force more tables late
    if_read = plan.lower_bound.late_tables_if_boosts_held_only_while_read
    assert if_read is not None and if_read <= plan.lower_bound.late_tables
    assert bool(plan.lower_bound.reasons_if_boosts_held_only_while_read) == (if_read > 0)
    # AND the plan costs no less than the least any plan as late as it could cost
    assert plan.cost.total_usd >= plan.lower_bound.cost_usd - 0.001


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_boosts_never_take_capacity_from_the_application(tables, config):
    # GIVEN any fleet and any settings
    plan = plan_batches(tables, config)
    # THEN every percent, native exports' included, is within readThroughputPercent's range
    assert all(0.1 <= table.read_throughput_percent <= 1 for table in planned_tables(plan))
    for table in pipeline_tables(plan):
        if table.boosted:
            # AND a boosted table leaves the application at least its original capacity
            assert table.read_capacity_units * (1 - table.read_throughput_percent) >= (
                table.original_read_capacity_units
            )
            # AND the backup reads at least as fast as it would have unboosted
            backup = table.read_capacity_units * table.read_throughput_percent
            assert backup >= table.original_read_capacity_units * config.read_throughput_percent
            # AND the boost stays within the table maximum and the budget
            assert table.read_capacity_units <= config.table_max_rcu
            assert table.extra_read_capacity_units <= config.max_extra_rcu
        elif not table.on_demand:
            # AND an unboosted table is read at the configured share of its own capacity
            assert table.read_capacity_units == table.original_read_capacity_units
            assert table.read_throughput_percent == config.read_throughput_percent
        else:
            # AND an on-demand table at the on-demand share of the export tool's 40,000 RCU
            assert table.read_capacity_units == config.on_demand_assumed_rcu == 40_000
            assert table.read_throughput_percent == config.on_demand_read_throughput_percent
            assert table.estimated_seconds == config.activity_bootstrap_seconds + estimate_seconds(
                table.size_bytes, 40_000, config.on_demand_read_throughput_percent, config.bytes_per_rcu_second
            )


@PROPERTY
@given(
    rcu=st.integers(min_value=9, max_value=36_000),
    miss=st.floats(min_value=1.001, max_value=1.3),
    percent=st.sampled_from([0.1, 0.105, 0.11]),
    rcu_hour_usd=st.sampled_from([0.00013, 0.1, 1.0]),
)
def test_a_table_that_barely_misses_the_window_gets_a_boost_with_a_legal_share(rcu, miss, percent, rcu_hour_usd):
    # GIVEN one table read at a share near 0.1 that misses the window by up to 30 %, where the
    # smallest boost that fits is the cheapest when capacity is dear
    config = PlannerSettings(read_throughput_percent=percent, prices=Prices(rcu_hour_usd=rcu_hour_usd))
    room = config.window_seconds - config.emr_bootstrap_seconds - config.activity_bootstrap_seconds
    size = int(rcu * percent * config.bytes_per_rcu_second * room * miss)
    # WHEN it is planned
    [planned] = planned_tables(
        plan_batches([TableSnapshot(name="tight", read_capacity_units=rcu, size_bytes=size)], config)
    )
    # THEN its share is within readThroughputPercent's range and its application keeps its capacity
    assert 0.1 <= planned.read_throughput_percent <= 1
    assert planned.read_capacity_units * (1 - planned.read_throughput_percent) >= rcu


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_the_cost_counts_the_read_requests_of_on_demand_exports_and_nothing_else(tables, config):
    # GIVEN any fleet and any settings
    plan = plan_batches(tables, config)
    # THEN the plan's on-demand read requests are a unit per 8 KB of every on-demand table that a
    # pipeline exports (native exports and provisioned tables use none), at the on-demand price
    units = sum(t.size_bytes for t in pipeline_tables(plan) if t.on_demand) / 8192
    assert plan.cost.on_demand_read_units == pytest.approx(units, abs=1)
    assert plan.cost.on_demand_read_usd == pytest.approx(units / 1e6 * 0.125, abs=1e-4)
    assert plan.cost.total_usd == pytest.approx(
        plan.cost.emr_usd + plan.cost.rcu_usd + plan.cost.on_demand_read_usd, abs=1e-3
    )


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_the_reported_estimate_is_the_cost_the_planner_chose_its_plan_by(tables, config):
    # GIVEN any fleet and any settings
    # WHEN it is planned, and the planner's search runs again over the same tables
    plan = plan_batches(tables, config)
    working = planning._intake(tables, config, ()).pipeline
    chosen = planning._search(working, config) if working else None
    # THEN the clusters and boosts the plan reports cost what the search ranked the plan by, so
    # the planner never chooses a plan by one price and shows another
    ranked = chosen.cost_usd if chosen is not None else 0.0
    assert plan.cost.emr_usd + plan.cost.rcu_usd == pytest.approx(ranked, abs=1e-3)
    # AND both follow AWS's billing: a cluster per second with a minute's minimum, a boost for
    # every started hour from its pipeline's start to its table's end
    pipelines = [b for b in plan.batches if b.engine == "datapipeline"]
    cluster_seconds = sum(max(60, b.estimated_seconds) for b in pipelines)
    rcu_hours = sum(
        t.extra_read_capacity_units * max(1, math.ceil((t.start_offset_seconds + t.estimated_seconds) / HOUR))
        for b in pipelines
        for t in b.tables
    )
    model = CostModel.at(config.prices)
    assert plan.cost.emr_usd == pytest.approx(model.cluster_usd(cluster_seconds), abs=1e-4)
    assert plan.cost.rcu_usd == pytest.approx(model.rcu_usd(rcu_hours), abs=1e-4)
    assert plan.cost.extra_rcu_hours == rcu_hours


@PROPERTY
@given(
    size=st.integers(1, 10**13),
    own=st.integers(1, 10_000),
    hours=st.integers(1, 24),
    cluster_hour_usd=st.sampled_from([0.048, 0.48, 4.8]),
    rcu_hour_usd=st.sampled_from([0.00013, 0.01, 1.0]),
)
def test_a_boost_sized_for_cost_is_the_cheapest_for_its_billed_hours(size, own, hours, cluster_hour_usd, rcu_hour_usd):
    # GIVEN a table, a number of billed hours, and prices
    model = CostModel(cluster_hour_usd=cluster_hour_usd, rcu_hour_usd=rcu_hour_usd)
    rcu_seconds = size / 8192
    # WHEN the cost model gives the read time whose boost costs least over those hours
    best = model.cheapest_read_seconds(rcu_seconds, hours)

    def cost(seconds: float) -> float:
        return model.cluster_usd(seconds) + model.rcu_usd(rcu_seconds / seconds * hours)

    # THEN reading a little faster or slower, at the same prices, costs no less
    assert cost(best) <= cost(best * 0.9) * (1 + 1e-9)
    assert cost(best) <= cost(best * 1.1) * (1 + 1e-9)


@PROPERTY
@given(original=st.integers(0, 40_000), extra=st.integers(1, 40_000))
@example(original=1_000, extra=50)  # 50 / 1,050 = 0.047
@example(original=1_000, extra=105)  # 0.095, what a minimal boost at a 0.1 share used to give
def test_a_boost_is_never_too_small_for_a_share_of_a_tenth(original, extra):
    # GIVEN any table and any boost asked for
    # WHEN its capacity and share are computed
    rcu, percent = boosted_capacity(original, extra)
    # THEN the share is within readThroughputPercent's range and the application keeps its capacity
    assert 0.1 <= percent <= 1
    assert rcu * (1 - percent) >= original
    # AND the boost is what was asked, or grown to the smallest that carries 0.1: never clamped
    assert rcu - original == max(extra, minimum_boost(original))
    # AND that smallest boost is about a ninth of the table
    assert minimum_boost(original) <= max(1, math.ceil(original / 9) + 1)


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_limits_hold_at_every_instant(tables, config):
    # GIVEN any fleet and any settings
    plan = plan_batches(tables, config)
    pipelines = [b for b in plan.batches if b.engine == "datapipeline"]
    # THEN no pipeline holds more tables than Data Pipeline's object limit allows
    assert all(len(b.tables) <= config.max_tables_per_pipeline for b in pipelines)
    # AND no more pipelines run at once than the limit
    assert peak_concurrent_pipelines(plan.batches) <= config.max_concurrent_pipelines
    # AND the extra RCU held never passes the budget, and the plan reports its true peak
    assert plan.peak_extra_rcu <= config.max_extra_rcu
    assert plan.peak_extra_rcu == max((held for _, held in extra_rcu_timeline(plan.batches)), default=0)
    # AND a pipeline's length is its bootstrap plus its tables, which run one after another
    for batch in pipelines:
        offset = config.emr_bootstrap_seconds
        for table in batch.tables:
            assert table.start_offset_seconds == offset
            offset += table.estimated_seconds
        assert batch.estimated_seconds == offset


@PROPERTY
@given(tables=fleets(), config=planner_settings, seed=st.integers(0, 2**16))
def test_the_same_inventory_always_gives_the_same_plan(tables, config, seed):
    # GIVEN a fleet, and the same fleet listed in another order
    shuffled = list(tables)
    random.Random(seed).shuffle(shuffled)
    # WHEN both are planned
    # THEN the plans are identical
    assert plan_batches(tables, config).model_dump() == plan_batches(shuffled, config).model_dump()


@PROPERTY
@given(tables=fleets(), config=planner_settings)
def test_batch_ids_follow_start_order_and_flags_name_every_late_table(tables, config):
    plan = plan_batches(tables, config)
    # THEN batches are numbered b0001, b0002, ... in the order they start
    assert [b.id for b in plan.batches] == [f"b{n:04d}" for n in range(1, len(plan.batches) + 1)]
    starts = [b.start_seconds for b in plan.batches]
    assert starts == sorted(starts)
    # AND every table that ends past the window is flagged with a reason
    flagged = {f.name for f in plan.flagged}
    assert set(tables_past_window(plan)) <= flagged
    assert all(f.reason for f in plan.flagged)


@st.composite
def feasible_nights(draw: st.DrawFn) -> tuple[list[TableSnapshot], PlannerSettings]:
    """Fleets that fit with room to spare: every table short, pipelines enough for all at once."""
    count = draw(st.integers(min_value=1, max_value=60))
    config = PlannerSettings(max_concurrent_pipelines=max(1, math.ceil(count / 4)), max_tables_per_pipeline=32)
    tables = [
        TableSnapshot(
            name=f"t{index:03d}",
            read_capacity_units=(rcu := draw(st.integers(min_value=5, max_value=10_000))),
            # at most about an hour at half capacity
            size_bytes=draw(st.integers(min_value=0, max_value=rcu * 4096 * 3600)),
        )
        for index in range(count)
    ]
    return tables, config


@PROPERTY
@given(night=feasible_nights())
def test_a_night_that_fits_ends_inside_the_window(night):
    # GIVEN a fleet that fits the window with room to spare
    tables, config = night
    # WHEN it is planned
    plan = plan_batches(tables, config)
    # THEN no table ends past the window and nothing is flagged
    assert tables_past_window(plan) == []
    assert plan.flagged == []


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def test_the_2017_capped_boost_now_leaves_the_application_its_capacity():
    # GIVEN the case aws-facts describes: 10 GiB at 100 RCU, too slow for 12 h at 4,096 B/s,
    # with the table capped at 1,000 RCU as Hippolyte 2017 did
    table = TableSnapshot(name="orders", read_capacity_units=100, size_bytes=10 * GIB)
    config = PlannerSettings(window_seconds=12 * 3600, bytes_per_rcu_second=4096, table_max_rcu=1000)
    # WHEN it is planned
    [planned] = planned_tables(plan_batches([table], config))
    # THEN it is boosted within the cap, and the application keeps its 100 RCU (2017 left it 60)
    assert planned.boosted
    assert planned.read_capacity_units <= 1000
    assert planned.read_capacity_units * (1 - planned.read_throughput_percent) >= 100
    # AND the backup now fits the window
    assert planned.start_offset_seconds + planned.estimated_seconds <= config.window_seconds


def test_a_slow_table_is_boosted_to_fit_a_short_window():
    # GIVEN a 50 GiB table at 100 RCU: unboosted it needs about 36 h
    table = TableSnapshot(name="events", read_capacity_units=100, size_bytes=50 * GIB)
    # WHEN the night is 7 h
    plan = plan_batches([table], PlannerSettings())
    [planned] = planned_tables(plan)
    # THEN it is boosted, ends inside the window and its boost is costed
    assert planned.boosted
    assert tables_past_window(plan) == []
    assert plan.cost.extra_rcu_hours > 0
    assert plan.peak_extra_rcu == planned.extra_read_capacity_units


def test_an_on_demand_table_is_estimated_at_the_export_tools_rate_and_its_reads_are_costed():
    # GIVEN a 100 GiB on-demand table
    table = TableSnapshot(name="clicks", billing_mode="PAY_PER_REQUEST", size_bytes=100 * GIB)
    # WHEN it is planned with the defaults
    plan = plan_batches([table], PlannerSettings())
    [planned] = planned_tables(plan)
    # THEN it is read as the export tool reads it: 0.1 of 40,000 RCU, 4,000 x 8 KB a second, about
    # 55 minutes (not 4,000 RCU x 0.5, 1 h 49 min, as assumed before)
    assert not planned.boosted
    assert (planned.read_capacity_units, planned.read_throughput_percent) == (40_000, 0.1)
    assert planned.estimated_seconds == 60 + math.ceil(100 * GIB / (4_000 * 8192))
    # AND its 13.1 million read request units (one per 8 KB) are in the night's cost
    assert plan.cost.on_demand_read_units == 100 * GIB / 8192 == 13_107_200
    assert plan.cost.on_demand_read_usd == pytest.approx(13.1072 * 0.125)
    assert plan.cost.total_usd == pytest.approx(plan.cost.emr_usd + plan.cost.on_demand_read_usd, abs=1e-3)


def test_an_on_demand_table_too_big_for_the_night_runs_alone_and_is_flagged():
    # GIVEN an on-demand table that takes longer than the night even at the tool's rate
    table = TableSnapshot(name="clicks", billing_mode="PAY_PER_REQUEST", size_bytes=2 * TIB)
    small = TableSnapshot(name="users", read_capacity_units=10, size_bytes=1000)
    # WHEN it is planned
    plan = plan_batches([table, small], PlannerSettings())
    [batch] = [b for b in plan.batches if any(t.name == "clicks" for t in b.tables)]
    # THEN it runs alone, and is flagged as one that cannot be boosted
    assert [t.name for t in batch.tables] == ["clicks"]
    [flag] = plan.flagged
    assert flag.name == "clicks" and "on-demand" in flag.reason and "0.1 of 40000 RCU" in flag.reason


def test_a_boost_too_small_for_a_tenth_is_sized_up_so_the_application_keeps_its_capacity():
    # GIVEN a 1,000 RCU table read at a share of 0.1 that misses the 7 h window by a few percent,
    # and capacity so dear that the cheapest boost is the smallest that fits: about 106 RCU, which
    # would need a share of 0.096
    size = int(1000 * 0.1 * 8192 * (7 * 3600 - 660) * 1.05)
    table = TableSnapshot(name="events", read_capacity_units=1000, size_bytes=size)
    config = PlannerSettings(read_throughput_percent=0.1, prices=Prices(rcu_hour_usd=1.0))
    # WHEN it is planned
    plan = plan_batches([table], config)
    [planned] = planned_tables(plan)
    # THEN it is boosted by at least a ninth of its capacity, so that a share of 0.1 or more reads
    # only the boost, and it fits the window
    assert planned.boosted
    assert planned.extra_read_capacity_units >= 112
    assert planned.read_throughput_percent >= 0.1
    assert planned.read_capacity_units * (1 - planned.read_throughput_percent) >= 1000
    assert tables_past_window(plan) == []


def test_a_table_whose_maximum_leaves_no_room_for_a_large_enough_boost_is_not_boosted():
    # GIVEN a 36,100 RCU table read at a share of 0.1, too slow for the night, and the 40,000
    # maximum: the 3,900 RCU left would read faster than its own share, but only at 0.0975
    table = TableSnapshot(name="hot", read_capacity_units=36_100, size_bytes=40 * TIB)
    # WHEN it is planned
    plan = plan_batches([table], PlannerSettings(read_throughput_percent=0.1))
    [planned] = planned_tables(plan)
    # THEN it is read unboosted at the configured share (and flagged), never at a share below 0.1
    assert not planned.boosted
    assert planned.read_throughput_percent == 0.1
    assert [f.name for f in plan.flagged] == ["hot"]


def test_a_table_too_big_even_at_its_maximum_is_planned_alone_at_its_maximum_and_flagged():
    # GIVEN a 20 TiB table: even at 40,000 RCU it takes about 17 h
    huge = TableSnapshot(name="ledger", read_capacity_units=500, size_bytes=20 * TIB)
    others = [TableSnapshot(name=f"small-{i}", read_capacity_units=50, size_bytes=10_000) for i in range(5)]
    # WHEN it is planned
    plan = plan_batches([huge, *others], PlannerSettings())
    [batch] = [b for b in plan.batches if any(t.name == "ledger" for t in b.tables)]
    # THEN it has a pipeline of its own, at the table maximum, and is flagged with the reason
    assert [t.name for t in batch.tables] == ["ledger"]
    assert batch.tables[0].read_capacity_units == 40_000
    assert [f.name for f in plan.flagged] == ["ledger"]
    assert "even at 40000 RCU" in plan.flagged[0].reason
    # AND the other tables still fit the window
    assert tables_past_window(plan) == ["ledger"]
    # AND the plan shows that no plan could do better, naming the table and its numbers
    assert plan.lower_bound is not None and plan.lower_bound.late_tables == 1
    assert plan.lower_bound.reasons[0].startswith("ledger: 22.0 TB at its fastest (a boost of 39,500 RCU) needs 18 h")


def test_zero_size_tables_are_still_backed_up():
    # GIVEN a table that reports 0 bytes (TableSizeBytes lags by up to 6 hours)
    plan = plan_batches([TableSnapshot(name="fresh", read_capacity_units=5)], PlannerSettings())
    # THEN it is planned, for its activity bootstrap only
    [planned] = planned_tables(plan)
    assert planned.estimated_seconds == 60
    assert not planned.boosted


def test_native_exports_go_into_export_batches_of_at_most_50_that_cost_nothing():
    # GIVEN 120 tables to export natively and one for Data Pipeline
    tables = [TableSnapshot(name=f"exp-{i:03d}", size_bytes=GIB, engine="export") for i in range(120)]
    tables.append(TableSnapshot(name="piped", read_capacity_units=100, size_bytes=1000))
    # WHEN they are planned
    plan = plan_batches(tables, PlannerSettings())
    exports = [b for b in plan.batches if b.engine == "export"]
    # THEN the exports form batches of 50, 50 and 20 that start with the night
    assert [len(b.tables) for b in exports] == [50, 50, 20]
    assert all(b.start_seconds == 0 and t.engine == "export" for b in exports for t in b.tables)
    # AND only the pipeline is costed
    assert plan.cost.emr_cluster_hours == pytest.approx((600 + 60 + 1) / 3600, abs=1e-3)
    assert plan.cost.extra_rcu_hours == 0


def test_more_pipelines_than_the_limit_run_in_waves():
    # GIVEN 6 tables of about 2 h each and room for 2 pipelines at once, 1 table per pipeline
    tables = [TableSnapshot(name=f"t-{i:02d}", read_capacity_units=100, size_bytes=100 * 4096 * 7000) for i in range(6)]
    config = PlannerSettings(
        window_seconds=24 * 3600, max_concurrent_pipelines=2, max_tables_per_pipeline=1, max_extra_rcu=0
    )
    # WHEN they are planned
    plan = plan_batches(tables, config)
    # THEN six pipelines run two at a time, each wave starting when a slot frees
    assert len(plan.batches) == 6
    assert peak_concurrent_pipelines(plan.batches) == 2
    starts = sorted({b.start_seconds for b in plan.batches})
    assert len(starts) == 3 and starts[0] == 0
    length = plan.batches[0].estimated_seconds
    assert starts == [0, length, 2 * length]


def test_a_tight_budget_staggers_boosts_instead_of_holding_them_together():
    # GIVEN two 40 GiB tables at 100 RCU (about 29 h each unboosted) and a budget that allows
    # only about one boost at a time
    tables = [TableSnapshot(name=f"big-{i}", read_capacity_units=100, size_bytes=40 * GIB) for i in range(2)]
    config = PlannerSettings(window_seconds=12 * 3600, max_extra_rcu=3000)
    # WHEN they are planned
    plan = plan_batches(tables, config)
    # THEN both are boosted, the budget holds and both still end inside the window
    assert all(t.boosted for t in planned_tables(plan))
    assert plan.peak_extra_rcu <= 3000
    assert tables_past_window(plan) == []


def test_tables_packed_behind_a_boost_that_waits_for_the_budget_move_to_time_left_unused():
    # GIVEN two 300 GB tables at 100 RCU whose boosts cannot be held together within a budget of
    # 10,000 extra RCU, six 5 GB tables read unboosted in about 21 min each, two pipelines at once
    # and a 4 h window
    tables = [TableSnapshot(name=f"big-{i}", read_capacity_units=100, size_bytes=300 * 10**9) for i in range(2)]
    tables += [TableSnapshot(name=f"small-{i}", read_capacity_units=1000, size_bytes=5 * 10**9) for i in range(6)]
    config = PlannerSettings(window_seconds=4 * HOUR, max_extra_rcu=10_000, max_concurrent_pipelines=2)
    # WHEN they are planned
    plan = plan_batches(tables, config)
    # THEN the second big table's pipeline waits for the first one's boost to be lowered
    big_starts = sorted(b.start_seconds for b in plan.batches if any(t.name.startswith("big") for t in b.tables))
    assert big_starts[0] == 0 < big_starts[1]
    assert plan.peak_extra_rcu <= 10_000
    # AND the small tables do not wait with it (behind it, 3 would end late): they run where the
    # night has time, and every table ends in the window, as the lower bound says is possible
    assert plan.lower_bound is not None and plan.lower_bound.late_tables == 0
    assert tables_past_window(plan) == []
    assert plan.flagged == []
    assert peak_concurrent_pipelines(plan.batches) <= 2


def test_without_a_budget_nothing_is_boosted_and_slow_tables_are_flagged():
    # GIVEN a table too slow for the window and no extra RCU to give
    table = TableSnapshot(name="slow", read_capacity_units=10, size_bytes=10 * GIB)
    # WHEN it is planned
    plan = plan_batches([table], PlannerSettings(max_extra_rcu=0))
    # THEN it runs unboosted, alone, and is flagged
    [planned] = planned_tables(plan)
    assert not planned.boosted and planned.read_capacity_units == 10
    assert [f.name for f in plan.flagged] == ["slow"]


def test_skipped_tables_pass_through_and_duplicates_are_skipped():
    # GIVEN discovery skipped one table, and the inventory lists another twice
    table = TableSnapshot(name="twice", read_capacity_units=5, size_bytes=10)
    skipped = [SkippedTable(name="excluded", reason="matches an exclude pattern")]
    # WHEN it is planned
    plan = plan_batches([table, table], PlannerSettings(), skipped)
    # THEN the skipped table keeps its reason and the duplicate is reported, not planned twice
    assert [(s.name, s.reason) for s in plan.skipped] == [
        ("excluded", "matches an exclude pattern"),
        ("twice", "listed more than once"),
    ]
    assert [t.name for t in planned_tables(plan)] == ["twice"]


def test_the_plan_states_its_assumptions_and_prices():
    # GIVEN custom settings
    config = PlannerSettings(bytes_per_rcu_second=4096, window_seconds=5 * 3600, max_extra_rcu=1234)
    # WHEN an empty inventory is planned
    document = plan_batches([], config).model_dump(mode="json")
    # THEN the JSON carries the assumptions a reader needs to check the estimate
    assert document["window_seconds"] == 5 * 3600
    assert document["bytes_per_rcu_second"] == 4096
    assert document["emr_bootstrap_seconds"] == 600
    assert document["activity_bootstrap_seconds"] == 60
    assert document["max_extra_rcu"] == 1234
    assert document["cost"]["prices"]["rcu_hour_usd"] == 0.00013
    assert document["cost"]["total_usd"] == 0


def test_boosted_capacity_reproduces_the_backup_share_exactly():
    # GIVEN the 2017 example with the percent recomputed
    rcu, percent = boosted_capacity(100, 900)
    # THEN the application keeps 100 RCU and the backup gets (just under, by rounding down) 900
    assert rcu == 1000
    assert rcu * (1 - percent) >= 100
    assert 899.9 < rcu * percent <= 900


def test_peak_extra_rcu_counts_only_holds_that_overlap():
    # GIVEN two boosts in one batch (both raised at its start) and one in a later batch
    def boosted(name: str, offset: int, seconds: int, extra: int) -> PlannedTable:
        return PlannedTable(
            name=name,
            size_bytes=1,
            original_read_capacity_units=100,
            read_capacity_units=100 + extra,
            read_throughput_percent=0.5,
            start_offset_seconds=offset,
            estimated_seconds=seconds,
        )

    first = Batch(
        id="b0001",
        start_seconds=0,
        estimated_seconds=2600,
        tables=[boosted("a", 600, 1000, 300), boosted("b", 1600, 1000, 200)],
    )
    later = Batch(id="b0002", start_seconds=1600, estimated_seconds=1600, tables=[boosted("c", 600, 1000, 400)])
    # THEN "a" is lowered at 1,600 s, when "c" is raised: the peak is b + c, not a + b + c
    assert peak_extra_rcu([first, later]) == 600
    assert extra_rcu_timeline([first, later]) == [(0, 500), (1600, 600), (2600, 400), (3200, 0)]


def test_the_lower_bound_counts_the_tables_the_budget_cannot_boost_in_time():
    # GIVEN ten tables that each need 2 h at half their 100 RCU, a 1 h window, and a budget that
    # holds boosts for only a few of them
    size = 100 * 8192 * 2 * HOUR // 2  # 2 h at 50 RCU
    tables = [TableSnapshot(name=f"table-{i}", read_capacity_units=100, size_bytes=size) for i in range(10)]
    config = PlannerSettings(window_seconds=HOUR, max_extra_rcu=400)
    # WHEN they are planned
    plan = plan_batches(tables, config)
    # THEN the bound says how many must be late because of the budget, and the plan is no better
    assert plan.lower_bound is not None
    # Each needs 100 RCU-hours of boost; 400 RCU over the 49 min left after bootstraps hold 326.
    assert plan.lower_bound.late_tables == 7
    assert "extra-RCU budget holds at most 327 RCU-hours" in plan.lower_bound.reasons[0]
    assert len(tables_past_window(plan)) >= 7


def test_boosts_held_from_their_pipelines_start_can_force_a_table_late_that_reading_alone_would_not():
    # GIVEN twelve tables read at a tenth of their 9,000 RCU, each just too slow for a 1 h window
    # unboosted, whose smallest legal boost (1,000 RCU) is more than reading in time needs
    # (950 RCU), and a budget of 9,550 extra RCU
    size = 950 * 2940 * 8192  # 950 RCU for the 49 min left after the bootstraps: 22.9 GB
    tables = [TableSnapshot(name=f"table-{i:02d}", read_capacity_units=9000, size_bytes=size) for i in range(12)]
    config = PlannerSettings(window_seconds=HOUR, read_throughput_percent=0.1, max_extra_rcu=9550)
    # WHEN they are planned
    plan = plan_batches(tables, config)
    # THEN boosts held only while read would leave 2 late, and holding them from the pipeline's
    # start, through the 11 min of bootstraps, leaves 3 late in every plan: this plan among them
    assert plan.lower_bound is not None
    assert plan.lower_bound.late_tables_if_boosts_held_only_while_read == 2
    assert plan.lower_bound.late_tables == 3
    assert len(tables_past_window(plan)) == 3
    # AND each bound names the budget with its numbers
    assert "held from their pipeline's start" in plan.lower_bound.reasons[0]
    assert "9,550 RCU-hours of boosts in the 1 h 00 min window" in plan.lower_bound.reasons[0]
    assert "7,799 RCU-hours of boosts in the 49 min 00 s" in plan.lower_bound.reasons_if_boosts_held_only_while_read[0]
    # AND each late table's flag says what held its pipeline back, with the numbers
    assert len(plan.flagged) == 3
    for flag in plan.flagged:
        assert "for the extra-RCU budget (its boosts need 1,000 RCU; 9,000 of the 9,550 are held" in flag.reason
        assert "to read 22.9 GB at 1,000 RCU" in flag.reason
