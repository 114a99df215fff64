"""Invocations that run short of time, over the real state machine.

Every raise and restore is allowed only a couple of tables per invocation (the check
``has_time_for_tables`` answers no after that, as it would with thousands of tables in Lambda's 15
minutes). The night still raises every boost before its batch starts and puts every table back;
a run that fails goes round RestoreCapacityAfterFailure, AllTablesRestored and
WaitBeforeRestoringMore until every table is back, and only then notifies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hippolyte.runtime import Runtime
from hippolyte.workflow import table_capacity
from hippolyte_local.fleet import DemoTable
from hippolyte_local.session import LocalSession

from tests.statemachine.fleet_support import build, capacity_snapshot, sent_messages
from tests.support.aws_rules import StrictAws

# Tables the plan boosts (large and slow at their own capacity), more than one invocation handles.
BOOSTED = [DemoTable(f"big-slow-{n}", items=160, item_bytes=20_000, rcu=1) for n in range(4)]
# What one invocation is allowed: two answers of "yes, there is time for a table".
TABLES_PER_INVOCATION = 2


@pytest.fixture
def short_invocations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each invocation's Runtime gets two tables' worth of time; returns how many times time ran out."""
    ran_out: list[int] = []

    def has_time_for_tables(rt: Runtime, tables: int = 1, seconds_each: float = 0.0) -> bool:
        used = rt.__dict__.get("_tables_used", 0)
        rt.__dict__["_tables_used"] = used + 1
        if used >= TABLES_PER_INVOCATION:
            ran_out.append(used)
            return False
        return True

    monkeypatch.setattr(table_capacity, "has_time_for_tables", has_time_for_tables)
    return ran_out


def test_a_night_whose_invocations_run_short_raises_and_restores_every_table(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], short_invocations: list[int]
) -> None:
    # GIVEN four tables the plan boosts, and invocations with time for two tables each
    session, strict = strict_session()
    build(session, BOOSTED)
    strict.settle()
    before = capacity_snapshot(session)
    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="short-invocations", timeout=300)
    # THEN time ran out, and still every table was backed up and put back
    assert short_invocations, "no invocation ran short of time"
    assert result.status == "SUCCEEDED", result.error
    strict.settle()
    assert capacity_snapshot(session) == before
    assert len(sent_messages(session)) == 1


def test_the_failure_path_goes_round_until_every_table_is_restored(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], short_invocations: list[int]
) -> None:
    # GIVEN four boosted tables, invocations with time for two tables each, and CheckPipelines
    # failing on its second poll (when the second ScaleUpReadCapacity has raised the last two)
    checks: list[str] = []
    failed: list[str] = []

    def fault(name: str, *_: Any) -> None:
        if name.endswith("-CheckPipelinesFunction"):
            checks.append(name)
            if len(checks) == 2:
                failed.append(name)
                raise RuntimeError("injected fault in CheckPipelines")

    session, strict = strict_session(after_invoke=fault)
    build(session, BOOSTED)
    strict.settle()
    before = capacity_snapshot(session)
    # WHEN the backup runs and fails
    result = session.run({"poll_seconds": 120}, name="short-failure", timeout=300)
    # THEN the restore ran more than once, through its loop, before the failure was notified
    assert failed and result.status == "FAILED" and result.error == "RuntimeError"
    names = result.state_names
    assert names.count("RestoreCapacityAfterFailure") >= 2
    assert "WaitBeforeRestoringMore" in names
    last_restore = len(names) - 1 - names[::-1].index("RestoreCapacityAfterFailure")
    assert names[last_restore + 1 :][:2] == ["AllTablesRestored", "NotifyFailure"]
    # AND every table is back at its original capacity
    strict.settle()
    assert capacity_snapshot(session) == before
