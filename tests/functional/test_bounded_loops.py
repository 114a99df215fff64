"""Loops over a run's tables stop before Lambda's timeout and the next invocation finishes them.

Each invocation here gets a Runtime whose remaining time is measured on the fake clock that
moto's DynamoDB (with AWS's rules, StrictAws) advances on every DescribeTable, so the time left
drops as the step calls AWS, as it does in Lambda. A budget of a few tables' worth makes
ScaleUpReadCapacity, ScaleDownReadCapacity, RestoreCapacityAfterFailure and ReconcileCapacity stop
early; the next invocation, with a fresh budget, goes on where the last stopped. Every table is raised once,
its original recorded once, and every table is put back.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hippolyte.adapters import clients
from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.models import (
    Batch,
    CostEstimate,
    FailureContext,
    Plan,
    PlannedTable,
    Prices,
    RunContext,
    RunProgress,
    RunRef,
    TableOutcome,
)
from hippolyte.runtime import RETURN_MARGIN_SECONDS, Runtime
from hippolyte.settings import StackSettings
from hippolyte.workflow.reconcile_capacity import reconcile_capacity, render_reconcile
from hippolyte.workflow.restore_capacity_after_failure import restore_after_failure
from hippolyte.workflow.scale_down_read_capacity import scale_down_finished
from hippolyte.workflow.scale_up_read_capacity import scale_up_next_wave
from hippolyte.workflow.time_left import TABLE_SECONDS
from hippolyte_local.aws_calls import AwsCallLog, invoking, recording_aws_calls
from moto import mock_aws

from tests.support.aws_rules import DEFAULT_DESCRIBE_STEP, StrictAws

REGION = "us-east-1"
LEDGER = "hippolyte-test-ledger"
BUCKET = "hippolyte-test"
RUN = "nightly"
ORIGINAL_RCU, BOOST_RCU = 5, 100
BATCHES = {"b0001": ["t01", "t02", "t03"], "b0002": ["t04", "t05", "t06"]}
TABLES = [name for names in BATCHES.values() for name in names]
# Each plain table costs one DescribeTable (one step of the fake clock) to raise or to restore.
# This budget leaves time to start four of them: the loop asks for two tables' worth (a wait for
# ACTIVE, and an auto-scaled table's second wait) before each.
FOUR_TABLES = 2 * TABLE_SECONDS + RETURN_MARGIN_SECONDS + 3.5 * DEFAULT_DESCRIBE_STEP.total_seconds()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StrictAws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.reset()
    with mock_aws(), StrictAws(auto_advance_on_describe=True) as strict:
        yield strict
    clients.reset()


@pytest.fixture
def calls(aws: StrictAws) -> Iterator[AwsCallLog]:
    with recording_aws_calls() as log:
        clients.reset()  # clients made from now on carry the recorder's hooks
        yield log


@pytest.fixture
def run(aws: StrictAws, calls: AwsCallLog) -> RunRef:
    dynamodb = clients.client("dynamodb")
    dynamodb.create_table(
        TableName=LEDGER,
        KeySchema=[{"AttributeName": "table_name", "KeyType": "HASH"}, {"AttributeName": "run_id", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "table_name", "AttributeType": "S"},
            {"AttributeName": "run_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for name in TABLES:
        dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": ORIGINAL_RCU, "WriteCapacityUnits": 5},
        )
    clients.client("s3").create_bucket(Bucket=BUCKET)
    ref = RunRef(
        run_id=RUN,
        execution_id=f"arn:aws:states:{REGION}:123456789012:execution:backup:{RUN}",
        bucket=BUCKET,
        started_at=aws.now,
    )
    s3 = clients.client("s3")
    save_document(s3, ref, "plan", plan())
    save_document(s3, ref, "progress", RunProgress(deadline=aws.now + timedelta(hours=8)))
    return ref


def plan() -> Plan:
    tables = {
        name: PlannedTable(
            name=name,
            size_bytes=10**9,
            original_read_capacity_units=ORIGINAL_RCU,
            read_capacity_units=BOOST_RCU,
            read_throughput_percent=0.9,
            estimated_seconds=3600,
        )
        for name in TABLES
    }
    return Plan(
        batches=[
            Batch(id=batch_id, estimated_seconds=3600, tables=[tables[name] for name in names])
            for batch_id, names in BATCHES.items()
        ],
        window_seconds=7 * 3600,
        bytes_per_rcu_second=8192,
        emr_bootstrap_seconds=600,
        activity_bootstrap_seconds=60,
        max_extra_rcu=10_000,
        cost=CostEstimate(emr_cluster_hours=0, extra_rcu_hours=0, emr_usd=0, rcu_usd=0, total_usd=0, prices=Prices()),
    )


def invocation(aws: StrictAws, seconds: float, topic_arn: str = "") -> Runtime:
    """A Runtime as one Lambda invocation with ``seconds`` left builds it: the time left drops with the clock."""
    ends = aws.clock() + timedelta(seconds=seconds)

    def remaining_seconds() -> float:
        return (ends - aws.clock()).total_seconds()

    settings = StackSettings.model_validate({"BACKUP_BUCKET": BUCKET, "LEDGER_TABLE": LEDGER, "TOPIC_ARN": topic_arn})
    return Runtime(
        settings=settings, region=REGION, clock=aws.clock, sleep=lambda _: None, remaining_seconds=remaining_seconds
    )


def calls_of(log: AwsCallLog, operation: str, table_name: str | None = None) -> list[str]:
    """Tables named by each ``operation`` call the steps made (``table_name``: only that one's)."""
    with log.lock:
        named = [call.params.get("TableName", "") for call in log.calls if call.operation == operation]
    return [name for name in named if table_name is None or name == table_name]


def read_capacity(name: str) -> int:
    return clients.client("dynamodb").describe_table(TableName=name)["Table"]["ProvisionedThroughput"][
        "ReadCapacityUnits"
    ]


def progress_of(run: RunRef) -> RunProgress:
    return load_document(clients.client("s3"), run, "progress", RunProgress)


def raise_all(aws: StrictAws, run: RunRef) -> list[list[str]]:
    """ScaleUpReadCapacity with four tables' time each, until no batch waits for its boosts; the waves."""
    waves = []
    context = RunContext(run=run, poll_seconds=120)
    for _ in range(5):
        with invoking("ScaleUpReadCapacity"):
            context = scale_up_next_wave(invocation(aws, FOUR_TABLES), context)
        waves.append([item.batch_id for item in context.wave])
        if not any(state.status == "boosting" for state in progress_of(run).batches.values()):
            return waves
    raise AssertionError(f"boosts never finished: {waves}")


def test_scale_up_stops_in_time_and_the_next_invocation_finishes_the_wave(
    aws: StrictAws, run: RunRef, calls: AwsCallLog
) -> None:
    # GIVEN two batches of three boosted tables each, and invocations with time for four tables
    # WHEN ScaleUpReadCapacity runs until every admitted batch has its boosts
    waves = raise_all(aws, run)
    # THEN the first invocation raised four tables and started only the batch whose boosts were all done
    # (b0001 goes again under the same attempt: no CreatePipeline stored its result in between)
    assert waves == [["b0001"], ["b0001", "b0002"]]
    assert calls_of(calls, "UpdateTable")[:4] == ["t01", "t02", "t03", "t04"]
    # AND every table was raised exactly once, to its boost
    assert sorted(calls_of(calls, "UpdateTable")) == TABLES
    aws.settle()
    assert {name: read_capacity(name) for name in TABLES} == dict.fromkeys(TABLES, BOOST_RCU)
    # AND each original went into the ledger once, and it is the original, not a boost
    assert len(calls_of(calls, "PutItem", LEDGER)) == len(TABLES)
    items = clients.ledger_table(LEDGER).scan()["Items"]
    assert {item["table_name"]: (item["status"], item["run_id"]) for item in items} == dict.fromkeys(
        TABLES, ("raised", RUN)
    )
    progress = progress_of(run)
    assert progress.raised == dict.fromkeys(TABLES, BOOST_RCU - ORIGINAL_RCU)
    assert {bid: (s.status, s.attempt) for bid, s in progress.batches.items()} == {
        "b0001": ("starting", 1),
        "b0002": ("starting", 1),
    }


def test_a_batch_waiting_for_its_boosts_is_never_started_and_blocks_new_batches(
    aws: StrictAws, run: RunRef, calls: AwsCallLog
) -> None:
    # GIVEN an invocation with time for four tables only
    rt = invocation(aws, FOUR_TABLES)
    context = scale_up_next_wave(rt, RunContext(run=run, poll_seconds=120))
    # THEN the batch with a table still to raise is kept back, boosting, with what it has done
    progress = progress_of(run)
    assert [item.batch_id for item in context.wave] == ["b0001"]
    assert progress.batches["b0002"].status == "boosting"
    assert progress.batches["b0002"].boosts_done == ["t04"]
    # AND an invocation with no time at all raises nothing, starts nothing, and loses nothing
    again = scale_up_next_wave(invocation(aws, RETURN_MARGIN_SECONDS), context)
    assert again.wave == [item for item in context.wave if item.batch_id != "b0002"]
    assert progress_of(run).batches["b0002"].boosts_done == ["t04"]


def finish_backups(run: RunRef) -> None:
    """Every batch ended and every table backed up, as CheckPipelines records it."""
    progress = progress_of(run)
    for state in progress.batches.values():
        state.status = "ended"
    for name in TABLES:
        progress.outcomes[name] = TableOutcome(name=name, status="backed_up")
    save_document(clients.client("s3"), run, "progress", progress)


def test_scale_down_stops_in_time_and_the_loop_comes_back_before_it_reports(
    aws: StrictAws, run: RunRef, calls: AwsCallLog
) -> None:
    # GIVEN every table raised and every backup ended
    raise_all(aws, run)
    finish_backups(run)
    aws.settle()
    context = RunContext(run=run, poll_seconds=120)
    # WHEN ScaleDownReadCapacity runs with time for four tables at a time
    statuses = []
    for _ in range(5):
        with invoking("ScaleDownReadCapacity"):
            context = scale_down_finished(invocation(aws, FOUR_TABLES), context)
        statuses.append(context.status)
        if context.status == "done":
            break
    # THEN the loop is not done (NotifyResult not reached) until every table was put back
    assert statuses == ["start_next", "done"]
    aws.settle()
    assert {name: read_capacity(name) for name in TABLES} == dict.fromkeys(TABLES, ORIGINAL_RCU)
    progress = progress_of(run)
    assert not progress.raised and not progress.capacity_pending
    assert sorted(progress.restored) == TABLES
    # AND each table was updated twice in all: raised once, restored once
    assert sorted(calls_of(calls, "UpdateTable")) == sorted(TABLES * 2)


def test_the_failure_path_restores_in_passes_until_every_table_is_back(
    aws: StrictAws, run: RunRef, calls: AwsCallLog
) -> None:
    # GIVEN every table raised when the run fails
    raise_all(aws, run)
    aws.settle()
    failure = FailureContext(
        state={"run": run.model_dump(mode="json"), "error": {"Error": "States.TaskFailed", "Cause": "boom"}},
        execution_id=run.execution_id,
        execution_name=RUN,
    )
    # WHEN RestoreCapacityAfterFailure runs with time for four tables, as often as it asks
    answers = []
    for _ in range(5):
        with invoking("RestoreCapacityAfterFailure"):
            answers.append(restore_after_failure(invocation(aws, FOUR_TABLES), failure))
        if answers[-1]:
            break
    # THEN it asked once to be run again, and then every table was back at its original
    assert answers == [False, True]
    aws.settle()
    assert {name: read_capacity(name) for name in TABLES} == dict.fromkeys(TABLES, ORIGINAL_RCU)
    assert sorted(progress_of(run).restored) == TABLES
    assert sorted(calls_of(calls, "UpdateTable")) == sorted(TABLES * 2)
    # AND no ledger record is left open
    items = clients.ledger_table(LEDGER).scan()["Items"]
    assert {item["table_name"]: item["status"] for item in items} == dict.fromkeys(TABLES, "restored")


def test_reconcile_stops_in_time_and_leaves_the_rest_to_the_next_hour(
    aws: StrictAws, run: RunRef, calls: AwsCallLog
) -> None:
    # GIVEN every table left raised by a run Step Functions no longer knows (it died)
    raise_all(aws, run)
    aws.settle()
    topic = clients.client("sns").create_topic(Name="hippolyte-reports")["TopicArn"]
    # WHEN the hourly reconcile runs with time for a few tables, hour after hour
    reports = []
    for _ in range(5):
        with invoking("ReconcileCapacity"):
            reports.append(reconcile_capacity(invocation(aws, FOUR_TABLES, topic_arn=topic)))
        if not reports[-1].left_for_next_hour:
            break
    # THEN the first pass restored what it had time for and named the rest, which the next pass restored
    first, second = reports
    assert first.restored and first.left_for_next_hour
    assert sorted(first.restored + first.left_for_next_hour) == TABLES
    assert sorted(second.restored) == sorted(first.left_for_next_hour)
    assert first.message_id is not None
    assert "Left for the next hour" in render_reconcile(invocation(aws, FOUR_TABLES), first)[1]
    aws.settle()
    assert {name: read_capacity(name) for name in TABLES} == dict.fromkeys(TABLES, ORIGINAL_RCU)
    assert sorted(calls_of(calls, "UpdateTable")) == sorted(TABLES * 2)
