"""Every Task state of the restore state machine survives being run again after its work was done.

The fault is the one ``test_retried_states.py`` injects for the backup: the handler runs to the
end, then the Invoke call fails with the Lambda API's own error, and the ASL's Retry runs the state
again. The cases share one backed-up account (a module fixture, live for the module), so they have
a module of their own: no other test's in-memory AWS is started while that account is alive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.verify import same_items, table_items

from tests.statemachine.fleet_support import (
    TEST_PARAMETERS,
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
from tests.statemachine.test_retried_states import fail_once_after_work, invocations_of
from tests.support.aws_rules import StrictAws

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
