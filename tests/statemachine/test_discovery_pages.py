"""DiscoverTables in pages, and Lambda's timeout, on the simulated clock.

Each AWS call DiscoverTables makes costs simulated time here (the session's ``call_seconds``), and
its function's Timeout is cut down, so a few hundred tables need several invocations, as 10,000
tables would at the account's rates in 15 minutes. The night must end as a one-page night does:
every table in the inventory once, leased once, backed up and in the report.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hippolyte.adapters.ledger import CapacityLedger
from hippolyte_local.fleet import DemoTable
from hippolyte_local.lambda_runtime import LambdaServiceError
from hippolyte_local.simulated_time import SimulatedClock

from tests.statemachine.fleet_support import build, sent_messages

START = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)
TABLE_COUNT = 120
# Simulated seconds each AWS call of DiscoverTables takes, and the function's cut-down Timeout:
# describing a table takes 3 calls (DescribeTable, ListTagsOfResource, DescribeContinuousBackups)
# and leasing it one or two, so a 20-second invocation, which starts a step of 40 tables only with
# 15 s in hand (its margin and the step's budget), describes 40 to 80 tables: several pages.
CALL_SECONDS = 0.1
DISCOVERY_TIMEOUT = 20


def fleet(count: int) -> list[DemoTable]:
    """Small tables: one item each, provisioned, quick to build and to back up."""
    return [DemoTable(f"t-{index:04d}", items=1, item_bytes=100, rcu=5) for index in range(count)]


def document(session: Any, run_id: str, name: str) -> dict[str, Any]:
    """One of the run's documents, as stored."""
    body = session.client("s3").get_object(Bucket=session.stack.bucket, Key=f"runs/{run_id}/{name}.json")["Body"]
    return json.loads(body.read())  # type: ignore[no-any-return]


def test_discovery_in_pages_finds_leases_and_backs_up_every_table_once(session_factory: Any) -> None:
    # GIVEN a few hundred tables, a DiscoverTables whose calls take simulated time and whose
    # Timeout is far too short for them all, and the Lambda service failing the second page's
    # answer after its work was done (Step Functions retries it)
    tables = fleet(TABLE_COUNT)
    invocations: list[str] = []

    def lose_second_page(name: str, _event: dict[str, Any], _result: Any) -> None:
        if name.endswith("-DiscoverTablesFunction"):
            invocations.append(name)
            if len(invocations) == 2:
                raise LambdaServiceError("ServiceException", "injected after the second page's work")

    session = session_factory(
        clock=SimulatedClock(START),
        function_timeouts={"DiscoverTablesFunction": DISCOVERY_TIMEOUT},
        call_seconds={"DiscoverTablesFunction": CALL_SECONDS},
        after_invoke=lose_second_page,
    )
    build(session, tables)
    leases: Counter[str] = Counter()
    take_leases = CapacityLedger.take_leases

    def counting(ledger: CapacityLedger, table_names: list[str], *args: Any) -> Any:
        leases.update(table_names)
        return take_leases(ledger, table_names, *args)

    # WHEN the night runs
    with mock.patch.object(CapacityLedger, "take_leases", counting):
        result = session.run({"poll_seconds": 120}, name="paged", timeout=240)

    # THEN it succeeds, after several pages of discovery (plus the retried one, within its state)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    pages = result.state_names.count("DiscoverTables")
    assert pages >= 3, result.state_names
    assert len(invocations) == pages + 1
    assert result.state_names.count("TablesLeftToDiscover") == pages
    # AND the inventory holds every table exactly once, each leased exactly once
    names = sorted(t.name for t in tables)
    inventory = document(session, "paged", "inventory")
    assert sorted(t["name"] for t in inventory["tables"]) == names
    # (the stack's own ledger table opts itself out by tag)
    assert [s["name"] for s in inventory["skipped"]] == [session.stack.refs["CapacityLedger"]]
    assert sorted(leases) == names and set(leases.values()) == {1}
    # AND every table is backed up, and the report names each one
    outcomes = document(session, "paged", "progress")["outcomes"]
    assert sorted(outcomes) == names
    assert {o["status"] for o in outcomes.values()} == {"backed_up"}
    ((subject, body),) = sent_messages(session)
    assert "SUCCEEDED" in subject
    assert all(name in body for name in names)


def test_an_invocation_past_its_timeout_fails_as_lambda_fails_it_and_the_night_fails_through_restore(
    session_factory: Any,
) -> None:
    # GIVEN a DiscoverTables with 5 seconds and calls of a simulated second each: its first step
    # (which every page takes, whatever its time) cannot finish in time
    session = session_factory(
        clock=SimulatedClock(START),
        function_timeouts={"DiscoverTablesFunction": 5},
        call_seconds={"DiscoverTablesFunction": 1.0},
    )
    build(session, fleet(3))

    # WHEN the function is invoked directly
    response = session.client("lambda").invoke(
        FunctionName=session.stack.function_arns["DiscoverTablesFunction"],
        Payload=json.dumps(
            {"input": {}, "execution_id": "arn:direct", "execution_name": "direct", "started_at": START.isoformat()}
        ).encode(),
    )
    # THEN Lambda's answer is the timeout's: an unhandled error, Sandbox.Timedout
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 5.00 seconds",
    }

    # WHEN the night runs
    result = session.run({"poll_seconds": 120}, name="too-slow", timeout=120)
    # THEN DiscoverTables is not retried (the ASL retries Lambda's service errors, not a timeout)
    # and the Catch takes the night through the capacity restore to its failure
    assert result.status == "FAILED"
    assert result.state_names.count("DiscoverTables") == 1
    assert result.state_names[-4:] == [
        "RestoreCapacityAfterFailure",
        "AllTablesRestored",
        "NotifyFailure",
        "BackupFailed",
    ]
    ((_subject, body),) = sent_messages(session)
    assert "Task timed out after 5.00 seconds" in body, body
