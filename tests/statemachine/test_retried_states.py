"""Every Task state survives being run again after its work was done.

Step Functions retries a Task whose Lambda invocation fails with ``Lambda.ServiceException`` or
``Lambda.TooManyRequestsException`` (the ASL's Retry lists both). Such a failure can come after
the function did its work: the Lambda service failed on the way back. The fault here is exactly
that: the handler runs to the end, then the Invoke call fails with the Lambda API's own error
(``LambdaServiceError`` in the local Lambda runtime), and the ASL's Retry runs the state again.

Each run must still end as it would have without the fault: every table backed up or reported,
capacity equal to the ledger's originals, each table exported once (no second pipeline, no second
activation), no batch lost, and one message per outcome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hippolyte_local.fleet import DemoTable
from hippolyte_local.lambda_runtime import LambdaServiceError
from hippolyte_local.session import LocalSession

from tests.statemachine.fleet_support import (
    BIG_SLOW_TABLE,
    assert_capacity_restored,
    build,
    capacity_snapshot,
    sent_messages,
)
from tests.support.aws_rules import StrictAws

SMALL = DemoTable("small-orders", items=5, item_bytes=200, rcu=5, gsi=True)
AUTOSCALED = DemoTable("autoscaled-slow", items=160, item_bytes=20_000, rcu=1, autoscaled=True)
TABLES = [BIG_SLOW_TABLE, SMALL, AUTOSCALED]

# (state, the Lambda API error its invocation fails with after the work)
BACKUP_STATES = [
    ("DiscoverTables", "ServiceException"),
    ("PlanBatches", "TooManyRequestsException"),
    ("ScaleUpReadCapacity", "ServiceException"),
    ("CreatePipeline", "ServiceException"),
    ("CheckPipelines", "TooManyRequestsException"),
    ("ScaleDownReadCapacity", "ServiceException"),
    ("NotifyResult", "ServiceException"),
]


def fail_once_after_work(state: str, code: str, faulted: list[dict[str, Any]]) -> Callable[..., None]:
    """An after-invoke hook: the first invocation of ``state``'s function fails after its work."""

    def hook(name: str, event: dict[str, Any], _result: Any) -> None:
        if name.endswith(f"-{state}Function") and not faulted:
            faulted.append(event)
            raise LambdaServiceError(code, f"injected {code} after {state} did its work")

    return hook


def exports_seen(session: LocalSession) -> Counter[str]:
    """Counts every export step the emulated EMR runs, by table."""
    counts: Counter[str] = Counter()

    def count(directory: str, table: str, percent: str) -> None:
        counts[table] += 1

    session.emr.before_export = count
    return counts


def invocations_of(session: LocalSession, state: str, event: dict[str, Any]) -> int:
    """How many times ``state``'s function was invoked with exactly ``event``."""
    return sum(
        1 for name, payload in session.invocations.calls if name.endswith(f"-{state}Function") and payload == event
    )


@pytest.mark.parametrize(("state", "code"), BACKUP_STATES, ids=[s for s, _ in BACKUP_STATES])
def test_a_backup_state_retried_after_its_work_ends_the_night_as_without_the_fault(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], state: str, code: str
) -> None:
    # GIVEN a boosted table, a table with a GSI and an auto-scaled table, and the state's Lambda
    # invocation failing once after its work, with an error the ASL retries
    faulted: list[dict[str, Any]] = []
    session, strict = strict_session(after_invoke=fail_once_after_work(state, code, faulted))
    build(session, TABLES)
    strict.settle()
    before = capacity_snapshot(session)
    exports = exports_seen(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name=f"retried-{state}", timeout=120)

    # THEN the state ran again with the same input, and the night succeeded
    assert faulted, "the fault was never injected"
    assert invocations_of(session, state, faulted[0]) >= 2
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # AND every table was exported exactly once: no batch lost, no second pipeline or activation
    assert exports == {table.name: 1 for table in TABLES}
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    # AND every table is back to its original capacity and scaling
    strict.settle()
    assert_capacity_restored(before, capacity_snapshot(session))
    # AND one report was sent, listing every table as backed up
    ((subject, body),) = sent_messages(session)
    assert "SUCCEEDED" in subject
    assert f"Backed up ({len(TABLES)})" in body


@pytest.mark.parametrize("state", ["RestoreCapacityAfterFailure", "NotifyFailure"])
def test_the_failure_path_retried_after_its_work_restores_and_reports_once(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], state: str
) -> None:
    # GIVEN a run that fails in CheckPipelines (an error the ASL does not retry) while its tables
    # are boosted, and the failure path's state failing once after its work
    faulted: list[dict[str, Any]] = []
    retried = fail_once_after_work(state, "ServiceException", faulted)

    def crash_check(name: str, *_: Any) -> None:
        if name.endswith("-CheckPipelinesFunction"):
            raise RuntimeError("injected crash in CheckPipelines")

    session, strict = strict_session(before_invoke=crash_check, after_invoke=retried)
    build(session, TABLES)
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the backup runs and fails
    result = session.run({"poll_seconds": 120}, name=f"failing-{state}", timeout=120)

    # THEN the failure path ran again after the fault, and the run ends FAILED with the real error
    assert faulted and invocations_of(session, state, faulted[0]) >= 2
    assert result.status == "FAILED" and result.error == "RuntimeError"
    # AND every table is back to its original capacity, and no pipeline is left
    strict.settle()
    assert_capacity_restored(before, capacity_snapshot(session))
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    # AND exactly one failure message went out, naming the error
    ((subject, body),) = sent_messages(session)
    assert "FAILED" in subject and "injected crash in CheckPipelines" in body
