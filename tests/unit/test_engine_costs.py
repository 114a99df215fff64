"""Each table's nightly cost on EMR and as a native export, and the cheaper engine.

* the choice is the cheaper of the two, and EMR only when its read fits the window;
* a native export costs its size times the export price, plus a night's share of PITR when the
  table does not have it already;
* large provisioned tables are cheaper on EMR, tiny ones as exports (the premise of the engines);
* the same plan costs less, and holds less extra capacity at its peak, when each boost is held
  only while its table is read.
"""

from __future__ import annotations

from hippolyte.engine_costs import GB, cheaper_engine, engine_costs, export_usd
from hippolyte.models import PlannerSettings, TableSnapshot
from hippolyte.planning import estimate_cost, peak_extra_rcu, plan_batches
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = PlannerSettings()

snapshots = st.builds(
    TableSnapshot,
    name=st.from_regex(r"[a-z]{3,12}", fullmatch=True),
    billing_mode=st.sampled_from(["PROVISIONED", "PAY_PER_REQUEST"]),
    read_capacity_units=st.integers(1, 40_000),
    size_bytes=st.integers(0, 20 * 2**40),
    pitr_enabled=st.booleans(),
)


@given(snapshots)
def test_the_choice_is_the_cheaper_engine_and_emr_only_within_the_window(snapshot: TableSnapshot) -> None:
    choice = cheaper_engine(snapshot, SETTINGS)
    costs = choice.costs
    if not costs.emr_fits_window:
        assert choice.engine == "export"
        assert "cannot read it within the 7 h window" in choice.reason
    elif costs.export_usd < costs.emr_usd:
        assert choice.engine == "export"
    else:
        assert choice.engine == "emr"
    assert f"${costs.emr_usd:,.4f}" in choice.reason or not costs.emr_fits_window
    assert f"${costs.export_usd:,.4f}" in choice.reason


@given(st.integers(0, 100 * 2**40), st.booleans())
def test_an_export_costs_its_size_and_pitr_only_when_hippolyte_turns_it_on(size: int, pitr: bool) -> None:
    prices = SETTINGS.prices
    expected = size / GB * prices.export_gb_usd + (0 if pitr else size / GB * prices.pitr_gb_month_usd * 24 / 730)
    assert abs(export_usd(size, pitr, SETTINGS) - expected) <= 1e-9 * max(1.0, expected)
    assert export_usd(size, True, SETTINGS) <= export_usd(size, False, SETTINGS)


@settings(max_examples=50)
@given(st.integers(100 * GB, 4 * 2**40), st.integers(1, 20_000))
def test_a_large_provisioned_table_that_can_be_read_in_the_window_is_cheaper_on_emr(size: int, rcu: int) -> None:
    snapshot = TableSnapshot(name="orders", size_bytes=size, read_capacity_units=rcu, pitr_enabled=True)
    choice = cheaper_engine(snapshot, SETTINGS)
    if choice.costs.emr_fits_window:
        assert choice.engine == "emr", choice.reason
        # at least five times cheaper: reading costs about 34 RCU-hours per GB, $0.0044
        assert choice.costs.emr_usd * 5 < choice.costs.export_usd


def test_a_table_too_big_to_read_in_the_window_goes_to_the_native_export() -> None:
    # 10 TiB at the table maximum, 40,000 RCU at 8 KB each, takes over 9 hours
    snapshot = TableSnapshot(name="events", size_bytes=10 * 2**40, read_capacity_units=1_000)
    choice = cheaper_engine(snapshot, SETTINGS)
    assert choice.engine == "export"
    assert not choice.costs.emr_fits_window


def test_a_tiny_table_is_cheaper_as_a_native_export() -> None:
    costs = engine_costs(TableSnapshot(name="flags", size_bytes=5 * 2**20, read_capacity_units=5), SETTINGS)
    assert costs.export_usd < costs.emr_usd


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(10 * 2**30, 2 * 2**40), st.integers(5, 5_000)),
        min_size=2,
        max_size=40,
    )
)
def test_boosts_held_only_while_read_cost_no_more_and_peak_no_higher(tables: list[tuple[int, int]]) -> None:
    snapshots = [
        TableSnapshot(name=f"table-{index:03d}", size_bytes=size, read_capacity_units=rcu)
        for index, (size, rcu) in enumerate(tables)
    ]
    plan = plan_batches(snapshots, SETTINGS.model_copy(update={"max_concurrent_pipelines": 3}))
    held = estimate_cost(plan.batches, SETTINGS.prices)
    while_read = estimate_cost(plan.batches, SETTINGS.prices, while_read=True)
    assert while_read.extra_rcu_hours <= held.extra_rcu_hours
    assert while_read.total_usd <= held.total_usd
    assert while_read.waiting_rcu_hours == 0
    assert peak_extra_rcu(plan.batches, while_read=True) <= peak_extra_rcu(plan.batches)


@given(snapshots)
def test_without_point_in_time_recovery_a_table_stays_on_emr_and_the_reason_says_why(snapshot: TableSnapshot) -> None:
    # GIVEN a table the native export would back up for less, and Hippolyte not allowed to turn PITR on
    choice = cheaper_engine(snapshot, SETTINGS, export_allowed=False)
    allowed = cheaper_engine(snapshot, SETTINGS)
    # THEN it stays on the cluster engine, and the reason says what the export would need
    assert choice.engine == "emr"
    if allowed.engine == "export":
        assert "point-in-time recovery, which is off" in choice.reason
