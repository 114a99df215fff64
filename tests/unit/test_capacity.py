"""Capacity arithmetic and decisions: the promises that keep production tables safe.

* a boosted table's export never takes the application's original capacity;
* every share is within readThroughputPercent's range, 0.1 to 1.0;
* a decrease is attempted only when DynamoDB's daily rule allows it, otherwise a retry time is given;
* a restore never crashes on a deleted or on-demand table, and never fights an UPDATING one;
* a boost never passes the plan and never lowers anything, scaling bounds included;
* an auto-scaled table is put back by its scaling target, and only when DynamoDB would accept the
  change Application Auto Scaling then makes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hippolyte.capacity import (
    CapacityState,
    ScalingTargetState,
    boost_target,
    capacity_state_from_description,
    decide_restore,
    decide_scaled_restore,
    nearest_in_bounds,
    next_decrease_allowed,
    safe_read_percent,
    scaling_during_boost,
)
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=300, deadline=None, derandomize=True)
NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)

rcu = st.integers(min_value=1, max_value=40_000)
# DynamoDBDataNode's readThroughputPercent range: the plan and the settings stay inside it.
percent = st.floats(min_value=0.1, max_value=1.0, allow_nan=False)


# --------------------------------------------------------------------------------------------
# safe_read_percent
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(original=rcu, current=rcu, planned=percent, default=percent)
def test_safe_percent_is_a_share_never_above_the_plan(original, current, planned, default):
    # GIVEN any original and live capacity and any planned and default percent
    # WHEN the export's percent is chosen
    result = safe_read_percent(original, current, planned, default)
    # THEN it is within readThroughputPercent's range, and never more than the plan asked
    assert 0.1 <= result <= 1
    assert result <= planned


@PROPERTY
@given(original=rcu, current=rcu, planned=percent, default=percent)
# The smallest raise that can carry a share of 0.1 without taking from the application: 1,000 / 9.
@example(original=1_000, current=1_112, planned=0.5, default=0.5)
def test_a_boosted_table_keeps_its_original_capacity_for_the_application(original, current, planned, default):
    # GIVEN a table whose live capacity is above its ledger original by enough to carry a share of
    # 0.1 (at least a ninth of the original)
    assume(current > original and current * 0.9 >= original + 1e-6)
    # WHEN the export's percent is chosen
    result = safe_read_percent(original, current, planned, default)
    # THEN what the export leaves is at least the application's original capacity
    assert current * (1 - result) >= original - 1e-9


@PROPERTY
@given(original=rcu, extra=st.integers(1, 4_000), planned=percent, default=percent)
# 50 RCU over 1,000 would allow a share of 0.047, outside the range Data Pipeline accepts.
@example(original=1_000, extra=50, planned=0.5, default=0.5)
@example(original=20_000, extra=1, planned=0.5, default=0.5)
def test_a_raise_too_small_for_the_minimum_share_is_read_at_the_minimum(original, extra, planned, default):
    # GIVEN a table only a little above its ledger original (a boost that partly happened)
    assume(original + extra <= 40_000 and (original + extra) * 0.9 < original)
    # WHEN the export's percent is chosen
    result = safe_read_percent(original, original + extra, planned, default)
    # THEN it is the smallest share Data Pipeline accepts, which takes the least from the application
    assert result == 0.1


@PROPERTY
@given(capacity=rcu, planned=percent, default=percent)
def test_an_unboosted_table_is_read_at_no_more_than_the_default(capacity, planned, default):
    # GIVEN a table whose boost did not happen (live == original)
    # WHEN the export's percent is chosen
    # THEN it is never more than the default share (the plan assumed a boost)
    assert safe_read_percent(capacity, capacity, planned, default) <= default


def test_a_plan_that_asked_too_much_is_clamped():
    # GIVEN 100 RCU boosted to 400: the application needs 100, so at most 75% is free
    # WHEN the plan asked for 90%
    # THEN the export gets 75%
    assert safe_read_percent(100, 400, 0.9, 0.5) == pytest.approx(0.75)


# --------------------------------------------------------------------------------------------
# next_decrease_allowed (rule in capacity.py's docstring)
# --------------------------------------------------------------------------------------------


def next_midnight(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)


def reference_next_decrease(count: int, last: datetime | None, now: datetime) -> datetime | None:
    """The documented rule, written independently: 4 any time in the UTC day, then one per hour with
    no decrease in the hour before, at most 27; the counter resets at 00:00 UTC."""
    if last is None or last.astimezone(UTC).date() != now.astimezone(UTC).date() or count < 4:
        return None
    midnight = next_midnight(now)
    if count >= 27:
        return midnight
    if now - last >= timedelta(hours=1):
        return None
    return min(last + timedelta(hours=1), midnight)


def test_a_fresh_day_allows_a_decrease():
    # GIVEN yesterday's decreases, even the whole 27
    yesterday = NOW - timedelta(days=1)
    # WHEN a decrease is considered today
    # THEN it is allowed now
    assert next_decrease_allowed(27, yesterday, NOW) is None


def test_a_table_never_decreased_may_decrease():
    # GIVEN no LastDecreaseDateTime
    # THEN a decrease is allowed now
    assert next_decrease_allowed(0, None, NOW) is None


@pytest.mark.parametrize("count", [1, 2, 3])
def test_fewer_than_four_decreases_today_allow_one_now(count):
    # GIVEN 1 to 3 decreases today, the last one a minute ago
    # THEN another is allowed at once
    assert next_decrease_allowed(count, NOW - timedelta(minutes=1), NOW) is None


@pytest.mark.parametrize("count", [4, 10, 26])
def test_after_four_the_next_waits_an_hour_after_the_last(count):
    # GIVEN 4 or more (but under 27) decreases today, the last 20 minutes ago
    last = NOW - timedelta(minutes=20)
    # WHEN a decrease is considered
    # THEN it may happen an hour after the last one
    assert next_decrease_allowed(count, last, NOW) == last + timedelta(hours=1)


def test_after_four_a_quiet_hour_allows_one_now():
    # GIVEN 6 decreases today, the last 61 minutes ago
    # THEN another is allowed now
    assert next_decrease_allowed(6, NOW - timedelta(minutes=61), NOW) is None


def test_the_hourly_wait_never_runs_past_midnight():
    # GIVEN 5 decreases today, the last at 23:30
    last = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    # WHEN considered at 23:40
    # THEN the next chance is midnight, when the counter resets
    assert next_decrease_allowed(5, last, last + timedelta(minutes=10)) == MIDNIGHT


@pytest.mark.parametrize("count", [27, 30])
def test_twenty_seven_decreases_wait_for_midnight(count):
    # GIVEN the day's 27 decreases used, the last long ago
    # THEN the next chance is the next UTC midnight
    assert next_decrease_allowed(count, NOW - timedelta(hours=5), NOW) == MIDNIGHT


def test_a_last_decrease_in_another_time_zone_is_the_same_instant():
    # GIVEN boto3's LastDecreaseDateTime in the machine's local zone (botocore parses epoch
    # timestamps to tzlocal()); here UTC-5, where 00:20 UTC is still the day before
    now = datetime(2026, 11, 28, 0, 40, tzinfo=UTC)
    last = datetime(2026, 11, 28, 0, 20, tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    # WHEN 5 decreases were made today (UTC), the last 20 minutes ago
    # THEN the next decrease waits for an hour after it, as DynamoDB will
    assert next_decrease_allowed(5, last, now) == datetime(2026, 11, 28, 1, 20, tzinfo=UTC)


@PROPERTY
@given(
    count=st.integers(0, 30),
    minutes_ago=st.integers(0, 3 * 24 * 60),
    now=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)),
)
def test_next_decrease_follows_the_documented_rule(count, minutes_ago, now):
    # GIVEN any count, last decrease and time
    last = now - timedelta(minutes=minutes_ago)
    # WHEN the next allowed decrease is computed
    allowed = next_decrease_allowed(count, last, now)
    # THEN it matches the rule, and is never in the past nor later than the next midnight
    assert allowed == reference_next_decrease(count, last, now)
    if allowed is not None:
        assert now < allowed <= next_midnight(now)


# --------------------------------------------------------------------------------------------
# decide_restore
# --------------------------------------------------------------------------------------------

ORIGINAL = CapacityState(
    table_name="orders", billing_mode="PROVISIONED", read_capacity_units=100, write_capacity_units=10
)


def live(
    rcu: int = 400,
    status: str = "ACTIVE",
    decreases: int = 0,
    last: datetime | None = None,
    billing: str | None = None,
) -> dict:
    throughput = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": 10, "NumberOfDecreasesToday": decreases}
    if last is not None:
        throughput["LastDecreaseDateTime"] = last
    table = {"TableName": "orders", "TableStatus": status, "ProvisionedThroughput": throughput}
    if billing is not None:
        table["BillingModeSummary"] = {"BillingMode": billing}
    return table


def test_a_deleted_table_is_gone():
    # GIVEN the table was deleted during the run
    decision = decide_restore(ORIGINAL, None, NOW)
    # THEN it is recorded as gone, with a reason for the report
    assert decision.verdict == "gone"
    assert "deleted" in decision.reason


def test_a_table_switched_to_on_demand_is_left_alone():
    # GIVEN the owner switched the table to on-demand during the run
    decision = decide_restore(ORIGINAL, live(rcu=0, billing="PAY_PER_REQUEST"), NOW)
    # THEN Hippolyte does not switch it back
    assert decision.verdict == "now_on_demand"
    assert "on-demand" in decision.reason


def test_a_table_back_at_its_original_needs_nothing():
    # GIVEN the table is already at its original capacity (even while UPDATING for another reason)
    # THEN nothing is done
    assert decide_restore(ORIGINAL, live(rcu=100), NOW).verdict == "in_place"
    assert decide_restore(ORIGINAL, live(rcu=100, status="UPDATING"), NOW).verdict == "in_place"


def test_an_updating_table_is_waited_for():
    # GIVEN a boosted table still UPDATING
    decision = decide_restore(ORIGINAL, live(status="UPDATING"), NOW)
    # THEN the restore waits, and says when to look again
    assert decision.verdict == "wait"
    assert decision.retry_after is not None
    assert decision.retry_after > NOW


def test_a_decrease_refused_by_the_daily_limit_gives_the_retry_time():
    # GIVEN a boosted table that used 4 decreases today, the last 10 minutes ago
    decision = decide_restore(ORIGINAL, live(decreases=4, last=NOW - timedelta(minutes=10)), NOW)
    # THEN the restore is limited, and retries when DynamoDB allows it
    assert decision.verdict == "decrease_limited"
    assert decision.retry_after == NOW + timedelta(minutes=50)
    assert decision.reason


def test_a_boosted_active_table_within_the_limit_is_updated():
    # GIVEN a boosted ACTIVE table with decreases left
    # THEN it is updated now
    table = live(decreases=2, last=NOW - timedelta(minutes=1))
    assert decide_restore(ORIGINAL, table, NOW).verdict == "update"


def test_a_table_below_its_original_is_raised_back_whatever_the_decrease_count():
    # GIVEN a table someone lowered below its original, with the decrease quota used up
    # THEN it is updated (an increase is never limited)
    assert decide_restore(ORIGINAL, live(rcu=50, decreases=27, last=NOW), NOW).verdict == "update"


# --------------------------------------------------------------------------------------------
# decide_scaled_restore (auto-scaled tables: the owner's bounds, the capacity inside them)
# --------------------------------------------------------------------------------------------

SCALED = ORIGINAL.model_copy(update={"read_scaling": ScalingTargetState(min_capacity=5, max_capacity=200)})


def test_a_scaled_table_above_its_owners_range_is_brought_down_by_the_scaler():
    # GIVEN an auto-scaled table (5..200) boosted to 400, with decreases left
    decision = decide_scaled_restore(SCALED, live(rcu=400, decreases=2, last=NOW - timedelta(minutes=1)), NOW)
    # THEN the bounds go back and Application Auto Scaling lowers it now
    assert decision.verdict == "update"


def test_a_scaled_table_inside_its_owners_range_needs_no_change_whatever_its_old_capacity():
    # GIVEN a boost that stayed inside the owner's range (150 of 5..200), decreases used up
    decision = decide_scaled_restore(SCALED, live(rcu=150, decreases=27, last=NOW), NOW)
    # THEN putting the bounds back changes nothing: no decrease is needed, the owner's policy adjusts
    assert decision.verdict == "in_place"


def test_a_scaled_table_the_decrease_limit_holds_up_waits_for_the_time_dynamodb_gives():
    # GIVEN a boosted auto-scaled table that used 4 decreases today, the last 10 minutes ago
    decision = decide_scaled_restore(SCALED, live(rcu=400, decreases=4, last=NOW - timedelta(minutes=10)), NOW)
    # THEN the move down is limited until an hour after the last decrease
    assert decision.verdict == "decrease_limited"
    assert decision.retry_after == NOW + timedelta(minutes=50)


def test_a_scaled_table_that_is_not_active_is_waited_for():
    # GIVEN a boosted auto-scaled table still UPDATING (the scaler would not move it now)
    decision = decide_scaled_restore(SCALED, live(rcu=400, status="UPDATING"), NOW)
    # THEN the restore waits
    assert decision.verdict == "wait" and decision.retry_after is not None


def test_a_scaled_table_deleted_or_switched_to_on_demand_is_left_alone():
    assert decide_scaled_restore(SCALED, None, NOW).verdict == "gone"
    assert decide_scaled_restore(SCALED, live(rcu=0, billing="PAY_PER_REQUEST"), NOW).verdict == "now_on_demand"


@PROPERTY
@given(capacity=rcu, minimum=st.integers(1, 40_000), spread=st.integers(0, 40_000))
def test_auto_scaling_moves_a_capacity_to_the_nearest_bound(capacity, minimum, spread):
    # GIVEN any capacity and any bounds
    maximum = minimum + spread
    # WHEN the bounds are registered
    placed = nearest_in_bounds(capacity, minimum, maximum)
    # THEN the capacity ends inside them, unchanged when it already was, else at the bound it passed
    assert minimum <= placed <= maximum
    if minimum <= capacity <= maximum:
        assert placed == capacity
    else:
        assert placed == (minimum if capacity < minimum else maximum)


def test_capacity_state_reads_table_gsis_and_billing():
    # GIVEN DescribeTable output with a GSI
    table = live()
    table["GlobalSecondaryIndexes"] = [
        {"IndexName": "by-date", "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 3}}
    ]
    scaling = ScalingTargetState(min_capacity=5, max_capacity=500)
    # WHEN it becomes a capacity state
    state = capacity_state_from_description(table, scaling)
    # THEN everything a restore needs is there
    assert (state.billing_mode, state.read_capacity_units, state.write_capacity_units) == (
        "PROVISIONED",
        400,
        10,
    )
    assert [(g.name, g.read_capacity_units, g.write_capacity_units) for g in state.gsis] == [("by-date", 7, 3)]
    assert state.read_scaling == scaling


# --------------------------------------------------------------------------------------------
# Boosts
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(planned=rcu, current=rcu)
def test_a_boost_never_exceeds_the_plan_and_never_lowers(planned, current):
    # GIVEN any planned and live capacity
    # WHEN the boost target is chosen
    target = boost_target(planned, current)
    # THEN either nothing changes, or the table goes up to exactly the plan
    if target is None:
        assert current >= planned
    else:
        assert target == planned
        assert target > current


@PROPERTY
@given(
    minimum=st.integers(1, 40_000),
    spread=st.integers(0, 40_000),
    boosted=rcu,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_scaling_bounds_during_a_boost_are_raised_never_lowered(minimum, spread, boosted, flags):
    # GIVEN any owner's scaling target
    original = ScalingTargetState(
        min_capacity=minimum,
        max_capacity=minimum + spread,
        dynamic_scaling_in_suspended=flags[0],
        dynamic_scaling_out_suspended=flags[1],
        scheduled_scaling_suspended=flags[2],
    )
    # WHEN its bounds during the boost are chosen
    low, high = scaling_during_boost(original, boosted)
    # THEN neither bound goes down, the scaler cannot take the boost away, and min <= max
    assert low >= original.min_capacity
    assert high >= original.max_capacity
    assert low >= boosted
    assert high >= boosted
    assert low <= high
