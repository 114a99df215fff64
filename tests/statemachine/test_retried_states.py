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
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from hippolyte_local.fleet import DemoTable
from hippolyte_local.lambda_runtime import LambdaServiceError
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.verify import same_items, table_items

from tests.statemachine.fleet_support import (
    BIG_SLOW_TABLE,
    TEST_PARAMETERS,
    assert_capacity_restored,
    build,
    capacity_snapshot,
    sent_messages,
)
from tests.statemachine.test_restore_roundtrip import (
    EXPORT_TABLE,
    PIPELINE_TABLE,
    create_source,
    described,
    imports_made,
    restore,
    ttl_attribute,
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


# ------------------------------------------------------------------------------- the restore

RESTORE_STATES = [
    # (state, backup to restore, the Lambda API error)
    ("FindBackup", PIPELINE_TABLE, "ServiceException"),
    ("CreateTargetTable", PIPELINE_TABLE, "ServiceException"),
    ("RaiseWriteCapacity", PIPELINE_TABLE, "TooManyRequestsException"),
    ("ImportData", PIPELINE_TABLE, "ServiceException"),
    ("CheckImport", PIPELINE_TABLE, "ServiceException"),
    ("VerifyItemCount", PIPELINE_TABLE, "ServiceException"),
    ("RestoreCapacityAndTtl", PIPELINE_TABLE, "ServiceException"),
    ("NotifyRestored", PIPELINE_TABLE, "ServiceException"),
    ("ImportTable", EXPORT_TABLE, "ServiceException"),
]
RESTORE_FUNCTIONS = {
    "FindBackup": "RestoreFindBackup",
    "CreateTargetTable": "RestoreCreateTargetTable",
    "RaiseWriteCapacity": "RestoreRaiseWriteCapacity",
    "ImportData": "RestoreImportPipeline",
    "ImportTable": "RestoreImportTable",
    "CheckImport": "RestoreCheckImport",
    "VerifyItemCount": "RestoreVerifyItemCount",
    "RestoreCapacityAndTtl": "RestoreCapacityAndTtl",
    "NotifyRestored": "RestoreNotify",
}


@dataclass
class BackedUpAccount:
    """A stack whose night backed up one table per engine, with a fault hook tests can set."""

    session: LocalSession
    strict: StrictAws
    fault: list[Callable[..., None]]


@pytest.fixture(scope="module")
def backed_up() -> Iterator[BackedUpAccount]:
    """One nightly backup per engine, shared by the restore cases (each restores into its own table)."""
    fault: list[Callable[..., None]] = []

    def dispatch(name: str, event: dict[str, Any], result: Any) -> None:
        for hook in fault:
            hook(name, event, result)

    with StrictAws(auto_advance_on_describe=True) as strict_rules, ExitStack() as stack:
        session = stack.enter_context(
            local_session(parameters=TEST_PARAMETERS, after_invoke=dispatch, clock=strict_rules.clock)
        )
        create_source(session, PIPELINE_TABLE, 60, engine=None, on_demand=False, lsi=False)
        create_source(session, EXPORT_TABLE, 40, engine="export", on_demand=True, lsi=False)
        strict_rules.settle()
        result = session.run({"poll_seconds": 120}, name="nightly", timeout=120)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        yield BackedUpAccount(session=session, strict=strict_rules, fault=fault)


@pytest.mark.parametrize(("state", "table", "code"), RESTORE_STATES, ids=[s for s, _, _ in RESTORE_STATES])
def test_a_restore_state_retried_after_its_work_restores_once(
    backed_up: BackedUpAccount, state: str, table: str, code: str
) -> None:
    # GIVEN a verified backup, and the restore state's Lambda invocation failing once after its work
    session = backed_up.session
    function = RESTORE_FUNCTIONS[state]
    faulted: list[dict[str, Any]] = []
    backed_up.fault[:] = [fail_once_after_work(function, code, faulted)]
    target = f"{table}-{state.lower()}"
    messages_before = len(sent_messages(session))
    imports_before = imports_made(session)

    # WHEN it is restored into a new table
    result = restore(session, table, target, f"restore-{state}")
    backed_up.fault.clear()

    # THEN the state ran again with the same input, and the restore succeeded
    assert faulted, "the fault was never injected"
    assert invocations_of(session, function, faulted[0]) >= 2
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # AND the new table holds exactly the original's items, loaded once
    dynamodb = session.client("dynamodb")
    assert same_items(table_items(dynamodb, table), table_items(dynamodb, target))
    assert imports_made(session) - imports_before == (1 if table == EXPORT_TABLE else 0)
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    # AND the new table has the original's write capacity and TTL, and one message said so
    backed_up.strict.settle()
    assert described(session, target).get("ProvisionedThroughput", {}).get("WriteCapacityUnits") == described(
        session, table
    ).get("ProvisionedThroughput", {}).get("WriteCapacityUnits")
    assert ttl_attribute(session, target) == "expires"
    new_messages = sent_messages(session)[messages_before:]
    assert [subject.endswith("SUCCEEDED") for subject, _ in new_messages] == [True]


def test_a_refused_restore_retried_in_its_notification_tells_once(backed_up: BackedUpAccount) -> None:
    # GIVEN a restore that must be refused (no such table), and NotifyRestoreFailed failing once
    # after it published
    session = backed_up.session
    faulted: list[dict[str, Any]] = []
    backed_up.fault[:] = [fail_once_after_work("RestoreNotifyFailure", "ServiceException", faulted)]
    messages_before = len(sent_messages(session))

    # WHEN the restore runs
    result = restore(session, "no-such-table", "new-table", "refused-retried")
    backed_up.fault.clear()

    # THEN it ends FAILED with the named error, after telling the topic exactly once
    assert faulted and invocations_of(session, "RestoreNotifyFailure", faulted[0]) >= 2
    assert result.status == "FAILED" and result.error == "UnknownTableError"
    new_messages = sent_messages(session)[messages_before:]
    assert len(new_messages) == 1 and new_messages[0][0].endswith("FAILED")


def test_the_restore_failure_path_retried_after_its_work_stops_the_import_and_tells_once(
    backed_up: BackedUpAccount,
) -> None:
    # GIVEN a restore whose first CheckImport fails with an error the ASL does not retry while the
    # import pipeline runs with the target's write capacity raised, and StopImportAndLowerCapacity
    # failing once after it deleted the pipeline and put the capacity back
    session = backed_up.session
    crashed: list[dict[str, Any]] = []
    faulted: list[dict[str, Any]] = []

    def crash_first_check(name: str, event: dict[str, Any], _result: Any) -> None:
        if name.endswith("-RestoreCheckImportFunction") and not crashed:
            crashed.append(event)
            raise RuntimeError("injected crash in CheckImport")

    backed_up.fault[:] = [crash_first_check, fail_once_after_work("RestoreCleanup", "ServiceException", faulted)]
    target = f"{PIPELINE_TABLE}-cleanup-retried"
    messages_before = len(sent_messages(session))

    # WHEN it is restored into a new table
    result = restore(session, PIPELINE_TABLE, target, "restore-cleanup-retried")
    backed_up.fault.clear()

    # THEN the cleanup ran again with the same input, and the restore ends FAILED with the real error
    assert crashed and faulted, "the faults were never injected"
    assert invocations_of(session, "RestoreCleanup", faulted[0]) >= 2
    assert result.status == "FAILED" and result.error == "RuntimeError"
    # AND no import pipeline is left running, and the target's write capacity is the original's
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    backed_up.strict.settle()
    assert (
        described(session, target)["ProvisionedThroughput"]["WriteCapacityUnits"]
        == described(session, PIPELINE_TABLE)["ProvisionedThroughput"]["WriteCapacityUnits"]
    )
    # AND exactly one failure message went out, naming the error
    new_messages = sent_messages(session)[messages_before:]
    assert len(new_messages) == 1 and new_messages[0][0].endswith("FAILED")
    assert "injected crash in CheckImport" in new_messages[0][1]
