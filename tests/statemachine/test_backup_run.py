"""The nightly backup, through the real ASL file executed by moto's interpreter with the real
handlers: the scenarios a platform team meets, asserted on what they would see (the execution's
status and history, the files in S3, the tables' capacity, the email)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hippolyte_local.fleet import DemoTable, demo_fleet
from hippolyte_local.session import LocalSession
from hippolyte_local.verify import backup_items, same_items, table_items

from tests.statemachine.fleet_support import BIG_SLOW_TABLE, build, capacity_snapshot, sent_messages

HAPPY_PATH_STATES = [
    "DiscoverTables",
    "PlanBatches",
    "ScaleUpReadCapacity",
    "CreatePipelines",
    "CheckPipelines",
    "ScaleDownReadCapacity",
    "AllBackupsDone",
    "NotifyResult",
    "AnyBackupFailed",
    "BackupsComplete",
]


def progress_of(session: LocalSession, run_id: str) -> dict[str, Any]:
    """The run's progress document, as stored in the backup bucket."""
    body = session.client("s3").get_object(Bucket=session.stack.bucket, Key=f"runs/{run_id}/progress.json")["Body"]
    return json.loads(body.read())  # type: ignore[no-any-return]


def test_a_30_table_fleet_is_backed_up_and_every_file_matches_its_table(session: LocalSession) -> None:
    # GIVEN a fleet of 30 tables to back up (provisioned, on-demand, GSIs, auto scaling, one
    # table too slow for the window) plus one opted out by tag
    fleet = demo_fleet(30)
    build(session, fleet)
    before = capacity_snapshot(session)

    # WHEN the nightly execution runs
    result = session.run({"poll_seconds": 120}, name="nightly", timeout=240)

    # THEN it succeeds through the named states
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    for state in HAPPY_PATH_STATES:
        assert state in result.state_names
    # AND every table's backup holds exactly the table's items
    outcomes = progress_of(session, "nightly")["outcomes"]
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    backed_up = {t.name for t in fleet if not t.opted_out}
    assert {name for name, o in outcomes.items() if o["status"] == "backed_up"} == backed_up
    for name in backed_up:
        path = outcomes[name]["s3_path"]
        assert path.startswith(f"s3://{session.stack.bucket}/{name}/") and path.endswith("/")
        assert same_items(backup_items(s3, path), table_items(dynamodb, name)), name
        assert outcomes[name]["items"] == len(table_items(dynamodb, name))
    # AND the tables too slow for the window were raised during the run (the ledger shows them),
    # and every table ends the night with exactly the capacity and scaling it had
    ledger = {
        i["table_name"]["S"]: i
        for i in session.client("dynamodb").scan(TableName=session.stack.refs["CapacityLedger"])["Items"]
    }
    assert "orders-history" in ledger and int(ledger["orders-history"]["boosted_rcu"]["N"]) > 1
    assert {item["status"]["S"] for item in ledger.values()} == {"restored"}
    assert capacity_snapshot(session) == before
    # AND one email lists every table, including the one skipped with its reason
    ((subject, body),) = sent_messages(session)
    assert "SUCCEEDED" in subject and "test" in subject and "us-east-1" in subject
    for table in fleet:
        assert table.name in body
    assert "scratch-experiments: opted out by tag hippolyte:backup=false" in body


def test_the_slow_table_is_boosted_while_it_is_exported_and_put_back_after(session: LocalSession) -> None:
    # GIVEN a 6 MB table at 1 RCU that cannot finish in the one-hour window at a 25% share
    build(session, [BIG_SLOW_TABLE])
    seen_rcu: list[int] = []

    def watching_export(directory: str, table: str, percent: str) -> None:
        seen_rcu.append(
            session.client("dynamodb").describe_table(TableName=table)["Table"]["ProvisionedThroughput"][
                "ReadCapacityUnits"
            ]
        )
        # The application keeps its original 1 RCU: the export reads only the added share.
        assert seen_rcu[-1] * (1 - float(percent)) >= 1 - 1e-9

    session.emr.before_export = watching_export

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="boost", timeout=120)

    # THEN the export ran against raised capacity, and the table is back to 1 RCU afterwards
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert seen_rcu and seen_rcu[0] > 1
    table = session.client("dynamodb").describe_table(TableName="big-slow")["Table"]
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 1
    assert progress_of(session, "boost")["restored"] == ["big-slow"]


def test_a_manual_rerun_backs_up_only_the_named_table(session: LocalSession) -> None:
    # GIVEN three tables
    build(session, [DemoTable(f"orders-{n}", items=5, item_bytes=100, rcu=5) for n in range(3)])

    # WHEN a person starts an execution for one of them
    result = session.run({"tables": ["orders-1"], "poll_seconds": 120}, name="rerun-orders-1")

    # THEN only that table is backed up and reported
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert list(progress_of(session, "rerun-orders-1")["outcomes"]) == ["orders-1"]
    listed = session.client("s3").list_objects_v2(Bucket=session.stack.bucket)["Contents"]
    assert {obj["Key"].split("/")[0] for obj in listed} == {"orders-1", "runs"}


def test_a_failed_pipeline_reports_its_table_failed_and_puts_capacity_back(session_factory: Any) -> None:
    # GIVEN a slow table that needs a boost and a small one, and an EMR export that fails for the slow one
    session: LocalSession = session_factory(emr={"fail_tables": {"big-slow"}})
    build(session, [BIG_SLOW_TABLE, DemoTable("small", items=3, item_bytes=100, rcu=5)])
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="fails", timeout=120)

    # THEN the execution fails saying tables failed, the report names the table and why
    assert result.status == "FAILED"
    assert result.error == "TablesFailed"
    outcomes = progress_of(session, "fails")["outcomes"]
    assert outcomes["big-slow"]["status"] == "failed"
    assert "FAILED" in outcomes["big-slow"]["reason"] and "_SUCCESS" in outcomes["big-slow"]["reason"]
    assert outcomes["small"]["status"] == "backed_up"
    # AND capacity is back, AND the email says so
    assert capacity_snapshot(session) == before
    ((subject, body),) = sent_messages(session)
    assert "FAILED" in subject and "big-slow" in body


def test_a_lambda_that_raises_goes_through_restore_and_notification(session_factory: Any) -> None:
    # GIVEN a boosted table, and CheckPipelines failing with an unexpected error
    def fault(function_name: str, event: dict[str, Any]) -> None:
        if function_name.endswith("CheckPipelinesFunction"):
            raise RuntimeError("injected: CheckPipelines crashed")

    session: LocalSession = session_factory(before_invoke=fault)
    build(session, [BIG_SLOW_TABLE])
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="crash", timeout=120)

    # THEN the Catch path restores capacity and notifies, and the execution fails with the error
    assert result.status == "FAILED"
    assert result.error == "RuntimeError" and "CheckPipelines crashed" in (result.cause or "")
    names = result.state_names
    assert names.index("RestoreCapacityAfterFailure") < names.index("NotifyFailure") < names.index("BackupFailed")
    assert capacity_snapshot(session) == before
    ((subject, body),) = sent_messages(session)
    assert "FAILED" in subject and "CheckPipelines crashed" in body
    # AND the pipeline that was running is stopped (deleted), not left to read unboosted capacity
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []


@pytest.mark.parametrize(
    ("execution_input", "error", "field"),
    [
        ({"tables": "orders"}, "InvalidExecutionInputError", "tables"),
        ({"poll_seconds": -5}, "InvalidExecutionInputError", "poll_seconds"),
        ({"tabels": ["orders"]}, "InvalidExecutionInputError", "tabels"),
        ({"tables": ["orders", "nope"]}, "UnknownTableError", "nope"),
    ],
)
def test_bad_input_fails_at_the_first_state_naming_the_field_and_changes_nothing(
    session: LocalSession, execution_input: dict[str, Any], error: str, field: str
) -> None:
    # GIVEN one table
    build(session, [DemoTable("orders", items=3, item_bytes=100, rcu=5)])
    before = capacity_snapshot(session)

    # WHEN an execution starts with bad input
    result = session.run(execution_input, name="bad-input")

    # THEN it fails at DiscoverTables with an error naming what is wrong
    assert result.status == "FAILED"
    assert result.error == error
    assert field in (result.cause or "")
    assert result.state_names[:2] == ["DiscoverTables", "RestoreCapacityAfterFailure"]
    # AND nothing was created or changed in the account
    assert session.client("s3").list_objects_v2(Bucket=session.stack.bucket).get("KeyCount", 0) == 0
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    assert session.client("dynamodb").scan(TableName=session.stack.refs["CapacityLedger"])["Items"] == []
    assert capacity_snapshot(session) == before
