"""Freshness: which tables lack a verified backup younger than the limit, worst first.

Every time here comes from the test (a fixed ``now`` and backup times around it), never from the
machine's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hippolyte.freshness import DEFAULT_MAX_AGE_HOURS, FreshnessRecord, assess_freshness, assess_record, record_run
from hippolyte.models import Inventory, SkippedTable, TableOutcome, TableSnapshot
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)

names = st.text(alphabet="abcdefgh-", min_size=3, max_size=8)
# A backup between a week before now and an hour after it (another machine's clock running ahead).
ages = st.integers(min_value=-3600, max_value=7 * 86400)
fleets = st.dictionaries(names, st.none() | ages, max_size=25)
limits = st.floats(min_value=0.5, max_value=72, allow_nan=False)


def times(fleet: dict[str, int | None]) -> dict[str, datetime | None]:
    """Each table's newest backup: ``age`` seconds before NOW (None: no backup)."""
    return {name: None if age is None else NOW - timedelta(seconds=age) for name, age in fleet.items()}


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def test_a_table_without_a_verified_backup_comes_first_then_the_oldest():
    # GIVEN one table backed up last night, one two nights ago, one never
    newest = {"orders": NOW - timedelta(hours=8), "carts": NOW - timedelta(hours=56), "prices": None}
    # WHEN freshness is assessed with the default limit
    result = assess_freshness(["orders", "carts", "prices"], newest, NOW)
    # THEN the table never backed up is first, then the one that missed a night; the fresh one last
    assert result.stale == ["prices", "carts"]
    assert [(e.table, e.stale) for e in result.tables] == [("prices", True), ("carts", True), ("orders", False)]
    assert result.tables[1].age_seconds == 56 * 3600
    assert result.max_age_hours == DEFAULT_MAX_AGE_HOURS == 26


def test_a_backup_exactly_as_old_as_the_limit_is_still_fresh():
    at_limit = {"orders": NOW - timedelta(hours=26)}
    just_past = {"orders": NOW - timedelta(hours=26, seconds=1)}
    assert assess_freshness(["orders"], at_limit, NOW).stale == []
    assert assess_freshness(["orders"], just_past, NOW).stale == ["orders"]


def test_a_table_missing_from_the_backup_times_has_no_backup():
    result = assess_freshness(["orders"], {}, NOW)
    assert result.stale == ["orders"]
    assert result.tables[0].newest_backup is None and result.tables[0].age_seconds is None


def test_backups_of_tables_that_are_not_to_be_backed_up_are_ignored():
    result = assess_freshness(["orders"], {"orders": NOW, "old-table": NOW - timedelta(days=30)}, NOW)
    assert [entry.table for entry in result.tables] == ["orders"]
    assert result.stale == []


def test_the_json_names_the_stale_tables():
    dumped = assess_freshness(["orders"], {}, NOW).model_dump(mode="json")
    assert dumped["stale"] == ["orders"]
    assert dumped["now"] == "2026-11-28T08:00:00Z"


@pytest.mark.parametrize(
    ("now", "newest", "message"),
    [
        (NOW.replace(tzinfo=None), NOW, "now must be timezone-aware"),
        (NOW, NOW.replace(tzinfo=None), "the newest backup of orders must be timezone-aware"),
    ],
)
def test_a_time_without_a_zone_is_refused(now: datetime, newest: datetime, message: str):
    with pytest.raises(ValueError, match=message):
        assess_freshness(["orders"], {"orders": newest}, now)


def test_a_limit_that_is_not_positive_is_refused():
    with pytest.raises(ValueError, match="must be positive"):
        assess_freshness(["orders"], {}, NOW, max_age_hours=0)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(fleets, limits)
def test_every_table_is_listed_once_and_stale_exactly_when_it_has_no_backup_young_enough(fleet, hours):
    result = assess_freshness(fleet, times(fleet), NOW, hours)
    assert sorted(entry.table for entry in result.tables) == sorted(fleet)
    for entry in result.tables:
        age = fleet[entry.table]
        assert entry.stale == (age is None or age > hours * 3600)
        assert entry.age_seconds == (None if age is None else float(age))
    assert result.stale == [entry.table for entry in result.tables if entry.stale]


@PROPERTY
@given(fleets, limits)
def test_stale_tables_come_first_those_without_a_backup_first_then_oldest_first(fleet, hours):
    entries = assess_freshness(fleet, times(fleet), NOW, hours).tables
    keys = [(not e.stale, e.age_seconds is not None, -(e.age_seconds or 0.0), e.table) for e in entries]
    assert keys == sorted(keys)
    stale = [e.stale for e in entries]
    assert stale == sorted(stale, reverse=True)


@PROPERTY
@given(fleets, limits, limits)
def test_a_longer_limit_never_makes_more_tables_stale(fleet, first, second):
    shorter, longer = sorted((first, second))
    stale_short = set(assess_freshness(fleet, times(fleet), NOW, shorter).stale)
    stale_long = set(assess_freshness(fleet, times(fleet), NOW, longer).stale)
    assert stale_long <= stale_short


@PROPERTY
@given(fleets, st.integers(min_value=0, max_value=10 * 86400))
def test_as_time_passes_a_stale_table_never_becomes_fresh(fleet, later_seconds):
    before = set(assess_freshness(fleet, times(fleet), NOW).stale)
    after = set(assess_freshness(fleet, times(fleet), NOW + timedelta(seconds=later_seconds)).stale)
    assert before <= after


# --------------------------------------------------------------------------------------------
# The record kept between runs
# --------------------------------------------------------------------------------------------

TABLE_NAMES = st.sampled_from(["orders", "carts", "prices", "users", "audit", "events"])
# Each table of a run: backed up (at some minutes after NOW), failed, or skipped for the night
# (expected) or by a rule (not expected).
run_tables = st.dictionaries(
    TABLE_NAMES,
    st.sampled_from(["backed_up", "failed", "left_for_the_night", "excluded"]),
    max_size=6,
)
previous_records = st.none() | st.dictionaries(TABLE_NAMES, st.none() | ages, max_size=6)


def _run(tables: dict[str, str], minute: int) -> tuple[Inventory, list[TableOutcome]]:
    """An inventory and outcomes for a run whose backups are stamped ``minute`` after NOW."""
    stamp = (NOW + timedelta(minutes=minute)).strftime("%Y-%m-%d-%H-%M-%S")
    inventory = Inventory(
        tables=[TableSnapshot(name=name) for name, fate in tables.items() if fate in ("backed_up", "failed")],
        skipped=[
            SkippedTable(name=name, reason=fate, expected=fate == "left_for_the_night")
            for name, fate in tables.items()
            if fate in ("left_for_the_night", "excluded")
        ],
    )
    outcomes = [
        TableOutcome(name=name, status="backed_up", s3_path=f"s3://bucket/{name}/{stamp}/")
        if fate == "backed_up"
        else TableOutcome(name=name, status="failed" if fate == "failed" else "skipped", reason=fate)
        for name, fate in tables.items()
    ]
    return inventory, outcomes


def _record(previous: dict[str, int | None] | None) -> FreshnessRecord | None:
    return None if previous is None else FreshnessRecord(written_at=NOW, newest_backups=times(previous))


@PROPERTY
@given(previous_records, run_tables, st.booleans(), st.integers(min_value=0, max_value=600))
def test_the_record_after_a_run_knows_the_expected_tables_and_never_goes_back_in_time(
    previous, tables, whole_account, minute
):
    # GIVEN what the record knew, and a run over the whole account or over named tables
    inventory, outcomes = _run(tables, minute)
    inventory = inventory.model_copy(update={"whole_account": whole_account})
    before = _record(previous)

    # WHEN the run is folded in
    after = record_run(before, inventory, outcomes, NOW, whole_account=whole_account)

    # THEN a whole-account run's tables are exactly its expected ones; a re-run only adds
    expected = {name for name, fate in tables.items() if fate != "excluded"}
    if whole_account:
        assert set(after.newest_backups) == expected
    else:
        assert set(after.newest_backups) == expected | set(previous or {})
    # AND a table backed up by the run has that backup's time; no time ever moves backwards
    for name, fate in tables.items():
        if fate == "backed_up":
            assert after.newest_backups[name] is not None
            assert after.newest_backups[name] >= NOW + timedelta(minutes=minute)
    for name, newest in (before.newest_backups if before else {}).items():
        if name in after.newest_backups and newest is not None:
            assert after.newest_backups[name] is not None and after.newest_backups[name] >= newest


def test_a_table_excluded_since_stops_counting_after_a_whole_account_run():
    # GIVEN a record that knew an old table, and a night whose rules exclude it now
    before = FreshnessRecord(written_at=NOW, newest_backups={"orders": None, "legacy": None})
    inventory, outcomes = _run({"orders": "backed_up", "legacy": "excluded"}, minute=5)

    # WHEN the night is folded in
    after = record_run(before, inventory, outcomes, NOW, whole_account=True)

    # THEN only orders is expected, and fresh
    assert assess_record(after, NOW + timedelta(hours=1)).stale == []
    assert list(after.newest_backups) == ["orders"]


def test_an_older_verified_backup_found_in_the_bucket_counts_for_a_table_the_record_never_knew():
    # GIVEN a first run after an upgrade, in which carts fails but has a backup from last night
    inventory, outcomes = _run({"carts": "failed"}, minute=5)
    last_night = NOW - timedelta(hours=20)

    # WHEN it is folded in with what the bucket holds
    after = record_run(None, inventory, outcomes, NOW, whole_account=True, found={"carts": last_night})

    # THEN carts is fresh for another six hours, then stale
    assert assess_record(after, NOW + timedelta(hours=5)).stale == []
    assert assess_record(after, NOW + timedelta(hours=7)).stale == ["carts"]
