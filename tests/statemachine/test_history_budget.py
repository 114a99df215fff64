"""The history budget: the event counts it assumes are those a real local night writes, and the
worst night at the poll floor stays inside Step Functions' 25,000 events."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hippolyte import history_budget
from hippolyte.history_budget import (
    BACKUP_EVENTS_PER_POLL,
    EXECUTION_HISTORY_LIMIT,
    MAX_STARTS_PER_NIGHT,
    MIN_POLL_SECONDS,
    MIN_RESTORE_POLL_SECONDS,
    worst_case_backup_events,
    worst_case_restore_events,
)
from hippolyte_local.session import LocalSession

from tests.statemachine.fleet_support import BIG_SLOW_TABLE, build

ROOT = Path(__file__).resolve().parents[2]


def test_the_budget_uses_the_state_machines_own_timeouts() -> None:
    # GIVEN the two state machines' execution timeouts
    backup = json.loads((ROOT / "statemachine" / "backup.asl.json").read_text())
    restore = json.loads((ROOT / "statemachine" / "restore.asl.json").read_text())
    # THEN the budget computes with the same ones
    assert backup["TimeoutSeconds"] == history_budget.BACKUP_TIMEOUT_SECONDS
    assert restore["TimeoutSeconds"] == history_budget.RESTORE_TIMEOUT_SECONDS


def test_the_worst_night_at_the_floor_fits_and_one_below_it_would_not() -> None:
    # GIVEN a night that polls until its timeout and starts the most batches, each in its own wave
    worst = worst_case_backup_events(MIN_POLL_SECONDS, MAX_STARTS_PER_NIGHT)
    # THEN it stays inside the history limit at the floor
    assert worst <= EXECUTION_HISTORY_LIMIT, worst
    # AND the floor is not arbitrary: halving it would run out of history
    assert worst_case_backup_events(MIN_POLL_SECONDS // 2, MAX_STARTS_PER_NIGHT) > EXECUTION_HISTORY_LIMIT
    # AND a restore polling at its floor until its timeout fits too, and would not at a third of it
    assert worst_case_restore_events(MIN_RESTORE_POLL_SECONDS) <= EXECUTION_HISTORY_LIMIT
    assert worst_case_restore_events(MIN_RESTORE_POLL_SECONDS // 3) > EXECUTION_HISTORY_LIMIT


def test_one_poll_of_a_real_night_writes_the_events_the_budget_counts(session: LocalSession) -> None:
    # GIVEN a night whose pipeline takes several polls (the emulated cluster holds it until
    # CheckPipelines has looked at it four times)
    def polls() -> int:
        return sum(1 for name, _ in session.invocations.calls if name.endswith("-CheckPipelinesFunction"))

    session.emr.hold = lambda pipeline_id: polls() < 4
    build(session, [BIG_SLOW_TABLE])

    # WHEN it runs
    result = session.run({"poll_seconds": MIN_POLL_SECONDS}, name="counted")
    assert result.status == "SUCCEEDED", (result.error, result.cause)

    # THEN between two consecutive waits, the history holds exactly one poll's events
    events = session.client("stepfunctions").get_execution_history(executionArn=result.arn, maxResults=1000)["events"]
    waits = [
        index
        for index, event in enumerate(events)
        if event["type"] == "WaitStateEntered" and event["stateEnteredEventDetails"]["name"] == "WaitForPipelines"
    ]
    assert len(waits) >= 2
    assert {later - earlier for earlier, later in itertools.pairwise(waits)} == {BACKUP_EVENTS_PER_POLL}
