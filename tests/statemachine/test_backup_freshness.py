"""Every expected table's newest verified backup, watched after each night and every hour.

NotifyResult folds the night into the record the bucket keeps (``runs/freshness.json``) and lists
the tables without a verified backup from the last ``FreshnessHours``; the hourly reconcile reads
the record again, so a night that never ran still makes every table stale as the hours pass. Both
return the count the TablesWithoutFreshBackup metric (and its alarm) is built on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hippolyte_local.fleet import DemoTable
from hippolyte_local.session import LocalSession, local_session

from tests.statemachine.fleet_support import TEST_PARAMETERS, build, sent_messages
from tests.support.aws_rules import FakeClock

ORDERS = DemoTable("orders", items=4, item_bytes=100, rcu=5)
CARTS = DemoTable("carts", items=3, item_bytes=100, rcu=5)
# Excluded by its tag: never expected, never stale.
SCRATCH = DemoTable("scratch", items=1, item_bytes=100, rcu=5, opted_out=True)
STALE_SECTION = "Without a verified backup from the last 26 hours"


@pytest.fixture
def night_with_a_failure() -> Iterator[tuple[LocalSession, FakeClock]]:
    """A stack on a clock the test moves, whose EMR export of ``carts`` fails."""
    clock = FakeClock()
    with local_session(parameters=TEST_PARAMETERS, clock=clock, emr={"fail_tables": {"carts"}}) as session:
        build(session, [ORDERS, CARTS, SCRATCH])
        yield session, clock


def _section(body: str, title: str) -> list[str]:
    """The lines of one titled section of a report."""
    lines = body.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return lines[start : end + 1][:-1]


def test_a_table_that_failed_tonight_and_never_succeeded_is_reported_without_a_fresh_backup(
    night_with_a_failure: tuple[LocalSession, FakeClock],
) -> None:
    # GIVEN a night in which carts fails and orders is backed up
    session, _ = night_with_a_failure

    # WHEN the night runs to its report
    result = session.run({"poll_seconds": 120}, name="night-1", timeout=120)

    # THEN the report lists carts, and only carts, as without a verified backup
    assert result.status == "FAILED" and result.error == "TablesFailed"
    ((_, body),) = sent_messages(session)
    assert _section(body, STALE_SECTION) == [f"{STALE_SECTION} (1)", "  carts: no verified backup"]


def test_reconcile_counts_every_expected_table_once_no_night_has_backed_it_up_for_longer_than_the_limit(
    night_with_a_failure: tuple[LocalSession, FakeClock],
) -> None:
    # GIVEN a night that backed up orders only
    session, clock = night_with_a_failure
    session.run({"poll_seconds": 120}, name="night-1", timeout=120)

    # WHEN reconcile runs an hour later, and again after a night that never ran
    an_hour_later = session.invoke("ReconcileCapacityFunction")
    clock.advance(timedelta(hours=27))
    a_missed_night_later = session.invoke("ReconcileCapacityFunction")

    # THEN it counts carts alone at first, then orders as well (the excluded table never counts)
    assert an_hour_later["without_fresh_backup"] == 1
    assert a_missed_night_later["without_fresh_backup"] == 2


def test_a_rerun_that_backs_the_table_up_clears_it_and_keeps_the_other_tables(
    night_with_a_failure: tuple[LocalSession, FakeClock],
) -> None:
    # GIVEN a night in which carts failed
    session, clock = night_with_a_failure
    session.run({"poll_seconds": 120}, name="night-1", timeout=120)

    # WHEN carts is re-run alone two hours later, and its export now works
    session.emr.fail_tables.clear()
    clock.advance(timedelta(hours=2))
    result = session.run({"tables": ["carts"], "poll_seconds": 120}, name="carts-again", timeout=120)

    # THEN its report lists no table without a fresh backup, and the record still holds orders
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    _, (_, body) = sent_messages(session)
    assert _section(body, STALE_SECTION) == [f"{STALE_SECTION} (0)", "  none"]
    assert session.invoke("ReconcileCapacityFunction")["without_fresh_backup"] == 0
    # 24.5 hours on, orders (backed up at night-1's start, at least two hours before carts) is
    # older than 26 hours, and carts is not: however many polls each run took (none, or minutes).
    clock.advance(timedelta(hours=24, minutes=30))
    # AND orders goes stale first
    assert session.invoke("ReconcileCapacityFunction")["without_fresh_backup"] == 1
