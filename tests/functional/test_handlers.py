"""Lambda handlers under moto, each invoked as Lambda would: an event from ``events/``, the
environment template.yaml gives every function, and a Lambda context object.

Messages the stack's SNS topic sends are read back through an SQS queue subscribed to it, as an
email subscriber would receive them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from hippolyte import runtime
from hippolyte.adapters import clients
from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.adapters.run_store import save_document
from hippolyte.capacity import CapacityState
from hippolyte.errors import ConfigurationError, InvalidExecutionInputError, UnknownTableError
from hippolyte.handlers import discover_tables, notify_result, reconcile_capacity
from hippolyte.models import (
    CapacityNote,
    Inventory,
    RunContext,
    RunProgress,
    SkippedTable,
    TableOutcome,
    TableSnapshot,
)
from hippolyte_local.lambda_runtime import LocalLambdaContext
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID

EVENTS = Path(__file__).resolve().parents[2] / "events"
REGION = "us-east-1"
BUCKET = "hippolyte-dev-backups"
LEDGER = "hippolyte-dev-ledger"
TOPIC = f"arn:aws:sns:{REGION}:{DEFAULT_ACCOUNT_ID}:hippolyte-dev-reports"

# template.yaml's Globals environment, every parameter at its default.
TEMPLATE_ENVIRONMENT = {
    "BACKUP_BUCKET": BUCKET,
    "TOPIC_ARN": TOPIC,
    "LEDGER_TABLE": LEDGER,
    "STAGE": "dev",
    "EXCLUDE_PATTERNS": "",
    "ALWAYS_BACKUP": "",
    "WINDOW_HOURS": "7",
    "READ_THROUGHPUT_PERCENT": "0.5",
    "MAX_TABLES_PER_PIPELINE": "32",
    "MAX_CONCURRENT_PIPELINES": "100",
    "MAX_EXTRA_RCU": "",
    "ENGINE": "datapipeline",
    "ENABLE_PITR": "false",
    "EMR_SUBNET_ID": "",
    "EMR_RELEASE_LABEL": "emr-5.23.0",
    "EMR_MASTER_INSTANCE_TYPE": "m5.xlarge",
    "EMR_CORE_INSTANCE_TYPE": "m5.xlarge",
    "EMR_CORE_INSTANCE_COUNT": "1",
    "EXPORT_JAR": "",
    "PIPELINE_ROLE": "DataPipelineDefaultRole",
    "PIPELINE_RESOURCE_ROLE": "DataPipelineDefaultResourceRole",
    "RCU_HOUR_USD": "0.00013",
    "INSTANCE_HOUR_USD": "0.240",
    "POWERTOOLS_SERVICE_NAME": "hippolyte",
    "POWERTOOLS_METRICS_NAMESPACE": "Hippolyte",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}
# What the Lambda runtime adds, and what keeps powertools quiet outside Lambda.
RUNTIME_ENVIRONMENT = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def event(name: str) -> Any:
    """A sample event from events/ (a fresh copy: tests may change it)."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def context(function: str) -> LocalLambdaContext:
    arn = f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:hippolyte-dev-{function}"
    return LocalLambdaContext(function, arn)


@dataclass
class Stack:
    """The deployed stack's resources in moto, and clients to look at them."""

    s3: Any
    dynamodb: Any
    sqs: Any
    queue_url: str
    monkeypatch: pytest.MonkeyPatch

    def configure(self, **values: str) -> None:
        """Change a SAM parameter (its environment variable)."""
        for key, value in values.items():
            self.monkeypatch.setenv(key, value)

    def create_table(self, name: str, rcu: int = 10, tags: dict[str, str] | None = None) -> None:
        self.dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 5},
            **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}),
        )

    def keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def document(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def messages(self) -> list[dict]:
        """Every SNS message published to the topic so far (Subject, Message)."""
        received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in received.get("Messages", [])]


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # The test's own clients are made once (about 0.1 s each) and used under each test's
    # mock_aws(); the handlers make theirs after clients.reset(), as a fresh Lambda would.
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def aws_clients(session: boto3.session.Session) -> dict[str, Any]:
    return {name: session.client(name) for name in ("s3", "dynamodb", "sns", "sqs")}


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, aws_clients: dict[str, Any]) -> Iterator[Stack]:
    for key, value in {**TEMPLATE_ENVIRONMENT, **RUNTIME_ENVIRONMENT}.items():
        monkeypatch.setenv(key, value)
    # The handlers' back-off and rate-limit sleeps take no real time here (DiscoverTables keeps
    # to 8 tables a second: 130 tables would take 16 real seconds).
    monkeypatch.setattr(runtime, "SLEEP", lambda seconds: None)
    with mock_aws():
        clients.reset()
        s3 = aws_clients["s3"]
        s3.create_bucket(Bucket=BUCKET)
        dynamodb = aws_clients["dynamodb"]
        dynamodb.create_table(
            TableName=LEDGER,
            KeySchema=[
                {"AttributeName": "table_name", "KeyType": "HASH"},
                {"AttributeName": "run_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "table_name", "AttributeType": "S"},
                {"AttributeName": "run_id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        sns = aws_clients["sns"]
        assert sns.create_topic(Name="hippolyte-dev-reports")["TopicArn"] == TOPIC
        sqs = aws_clients["sqs"]
        queue_url = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        queue_arn = attributes["QueueArn"]
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn)
        yield Stack(s3=s3, dynamodb=dynamodb, sqs=sqs, queue_url=queue_url, monkeypatch=monkeypatch)
    clients.reset()


def discover(input_: Any = None) -> dict:
    payload = event("discover_tables")
    if input_ is not None:
        payload["input"] = input_
    return discover_tables.lambda_handler(payload, context("DiscoverTables"))


# --------------------------------------------------------------------------------------------
# DiscoverTables
# --------------------------------------------------------------------------------------------


def test_discovery_applies_the_filters_and_writes_the_inventory(stack):
    # GIVEN tables excluded by pattern, opted out by tag, and protected by ALWAYS_BACKUP
    stack.configure(EXCLUDE_PATTERNS="tmp-.*", ALWAYS_BACKUP="tmp-keep,audit-log")
    stack.create_table("orders", rcu=100)
    stack.create_table("customers")
    stack.create_table("tmp-1")
    stack.create_table("tmp-keep")
    stack.create_table("legacy", tags={"hippolyte:backup": "false"})
    stack.create_table("audit-log", tags={"hippolyte:backup": "false"})
    # WHEN the nightly execution's first state runs
    result = discover()
    # THEN the next states get a small reference to the run, not the inventory itself
    context_ = RunContext.model_validate(result)
    assert context_.run.run_id == "nightly-2026-11-28"
    assert context_.run.bucket == BUCKET
    assert context_.run.started_at == datetime(2026, 11, 28, 0, 10, 0, 123000, tzinfo=UTC)
    assert context_.poll_seconds == 300
    # AND the inventory in S3 holds the selected tables, and the skipped ones with their reasons
    inventory = Inventory.model_validate(stack.document("runs/nightly-2026-11-28/inventory.json"))
    selected = sorted(t.name for t in inventory.tables)
    assert selected == ["audit-log", "customers", LEDGER, "orders", "tmp-keep"]
    reasons = {s.name: s.reason for s in inventory.skipped}
    assert sorted(reasons) == ["legacy", "tmp-1"]
    assert "hippolyte:backup=false" in reasons["legacy"]
    assert "tmp-.*" in reasons["tmp-1"]
    # AND (above) the stack's own ledger table is backed up like any other table of the account
    orders = next(t for t in inventory.tables if t.name == "orders")
    assert orders.read_capacity_units == 100
    # AND a table reporting size 0 (moto, like a table created today) is still backed up
    assert orders.size_bytes == 0
    # AND the run's deadline is the window plus an hour's grace
    progress = RunProgress.model_validate(stack.document("runs/nightly-2026-11-28/progress.json"))
    assert progress.deadline == context_.run.started_at + timedelta(hours=8)


def test_discovery_follows_list_tables_pages(stack):
    # GIVEN more tables than one ListTables page (100) holds
    stack.create_table("orders")
    for number in range(110):
        stack.create_table(f"table-{number:03d}")
    # WHEN the tables are discovered
    discover()
    # THEN every one of them is in the inventory
    inventory = Inventory.model_validate(stack.document("runs/nightly-2026-11-28/inventory.json"))
    assert len(inventory.tables) + len(inventory.skipped) == 112  # with orders and the ledger


def test_discovery_with_no_time_to_spare_goes_a_step_a_page_and_a_repeated_page_carries_on(stack):
    # GIVEN more tables than one step of discovery (40) takes, and invocations with no time left
    # beyond their first step
    for number in range(90):
        stack.create_table(f"table-{number:03d}")
    now = datetime(2026, 11, 28, 0, 11, tzinfo=UTC)
    no_time = LocalLambdaContext("DiscoverTables", "arn:local", deadline=now, clock=lambda: now)
    payload = event("discover_tables")
    # WHEN DiscoverTables is invoked again with its own answer until it returns the run's context,
    # and each page is invoked a second time with the same input (a retry whose answer was lost)
    answers = []
    while True:
        first = discover_tables.lambda_handler(copy.deepcopy(payload), no_time)
        again = discover_tables.lambda_handler(copy.deepcopy(payload), no_time)
        answers.append(first)
        if "tables_left" not in again:
            break
        assert again["tables_left"] < first["tables_left"]
        payload["input"] = again
    # THEN each invocation took one step of 40: 91 tables (with the ledger) described in 3, then
    # leased in 3, the repeats doing the next step rather than the same one again
    assert [a.get("tables_left") for a in answers] == [51, 91, 11]
    assert "tables_left" not in again
    inventory = Inventory.model_validate(stack.document("runs/nightly-2026-11-28/inventory.json"))
    names = [t.name for t in inventory.tables]
    assert len(names) == len(set(names)) == 91
    # AND the answer the next states get is the run's context
    assert RunContext.model_validate(again).run.run_id == "nightly-2026-11-28"


def test_a_manual_rerun_backs_up_exactly_the_named_table_whatever_the_filters(stack):
    # GIVEN a table every filter would skip, and another table
    stack.configure(EXCLUDE_PATTERNS="orders")
    stack.create_table("orders", tags={"hippolyte:backup": "false"})
    stack.create_table("customers")
    # WHEN a person re-runs it by name
    discover(event("manual_rerun"))
    # THEN only that table is in the inventory: a person asked for it by name
    inventory = Inventory.model_validate(stack.document("runs/nightly-2026-11-28/inventory.json"))
    assert [t.name for t in inventory.tables] == ["orders"]
    assert inventory.skipped == []


def test_a_rerun_naming_an_unknown_table_fails_naming_it_and_writes_nothing(stack):
    # GIVEN one existing table
    stack.create_table("orders")
    # WHEN a re-run names it and a table that does not exist
    # THEN the first state fails with UnknownTableError naming the missing table only
    with pytest.raises(UnknownTableError, match=r"no such table: orders-archive$"):
        discover({"tables": ["orders", "orders-archive"]})
    # AND nothing was written
    assert stack.keys() == []


@pytest.mark.parametrize(
    ("input_", "field"),
    [
        ({"table": ["orders"]}, "table"),
        ({"tables": []}, "tables"),
        ({"tables": ["orders"], "poll_seconds": -5}, "poll_seconds"),
    ],
)
def test_invalid_input_fails_naming_the_field_and_writes_nothing(stack, input_, field):
    # GIVEN an existing table
    stack.create_table("orders")
    # WHEN the execution input is invalid
    # THEN the first state fails with InvalidExecutionInputError naming the field
    with pytest.raises(InvalidExecutionInputError, match=rf"execution input {field}:"):
        discover(input_)
    # AND nothing was written
    assert stack.keys() == []


def test_a_bad_parameter_fails_naming_it_and_writes_nothing(stack):
    # GIVEN a stack deployed with an exclude pattern that does not compile
    stack.configure(EXCLUDE_PATTERNS="tmp-.*,[unclosed")
    stack.create_table("orders")
    # WHEN the nightly run starts
    # THEN it fails at once naming the parameter
    with pytest.raises(ConfigurationError, match="EXCLUDE_PATTERNS"):
        discover()
    # AND nothing was written
    assert stack.keys() == []


# --------------------------------------------------------------------------------------------
# NotifyResult
# --------------------------------------------------------------------------------------------


def test_the_report_is_one_message_listing_every_table(stack):
    # GIVEN a run's inventory and progress: one table backed up, one failed (with capacity still
    # raised), one that never got an outcome, one skipped
    payload = event("notify_result")
    run = RunContext.model_validate(payload).run
    retry = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
    save_document(
        stack.s3,
        run,
        "inventory",
        Inventory(
            tables=[TableSnapshot(name=n) for n in ("orders", "customers", "events")],
            skipped=[SkippedTable(name="tmp-1", reason="excluded by pattern 'tmp-.*'")],
        ),
    )
    save_document(
        stack.s3,
        run,
        "progress",
        RunProgress(
            outcomes={
                "orders": TableOutcome(
                    name="orders",
                    status="backed_up",
                    s3_path=f"s3://{BUCKET}/orders/x/",
                    items=42,
                    bytes=2048,
                ),
                "customers": TableOutcome(name="customers", status="failed", reason="pipeline df-1 ended FAILED"),
            },
            capacity_pending={
                "customers": CapacityNote(name="customers", reason="decrease limit", retry_after=retry),
            },
        ),
    )
    # WHEN NotifyResult runs
    report = notify_result.lambda_handler(payload, context("NotifyResult"))
    # THEN exactly one message is sent
    messages = stack.messages()
    assert len(messages) == 1
    subject, body = messages[0]["Subject"], messages[0]["Message"]
    # AND its subject names account, region, stage and outcome
    for part in (DEFAULT_ACCOUNT_ID, REGION, "dev", "FAILED"):
        assert part in subject
    # AND its body lists every table with its outcome, the silent one failed with a reason
    assert f"orders: s3://{BUCKET}/orders/x/" in body
    assert "customers: pipeline df-1 ended FAILED" in body
    assert "events: the run ended before this table's backup" in body
    assert "tmp-1: excluded by pattern 'tmp-.*'" in body
    # AND the table whose capacity is not back is listed with the retry time
    assert f"customers: decrease limit; reconcile retries after {retry.isoformat()}" in body
    # AND the state returns the counts, and the report is kept next to the run's documents
    counts = (report["outcome"], report["backed_up"], report["failed"], report["skipped"])
    assert counts == ("FAILED", 1, 2, 1)
    assert report["message_id"]
    stored = stack.s3.get_object(Bucket=BUCKET, Key="runs/nightly-2026-11-28/report.txt")["Body"].read()
    assert stored.decode() == body


# --------------------------------------------------------------------------------------------
# ReconcileCapacity
# --------------------------------------------------------------------------------------------


def reconcile() -> dict:
    return reconcile_capacity.lambda_handler(event("reconcile_capacity"), context("ReconcileCapacity"))


def test_reconcile_with_nothing_open_sends_nothing(stack):
    # GIVEN a ledger with no open record
    # WHEN the hourly reconcile runs
    result = reconcile()
    # THEN it does nothing and sends no message (no hourly noise)
    assert result["restored"] == []
    assert result["pending"] == []
    assert result["message_id"] is None
    assert stack.messages() == []


def test_reconcile_restores_a_table_a_dead_run_left_raised(stack):
    # GIVEN a table boosted from 100 to 400 by a run that no longer exists (it was stopped)
    stack.create_table("orders", rcu=400)
    ledger = CapacityLedger(boto3.resource("dynamodb", region_name=REGION).Table(LEDGER))
    dead = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:execution:hippolyte-dev-backup:nightly-2026-11-27"
    ledger.record_original(
        "nightly-2026-11-27",
        dead,
        CapacityState(table_name="orders", billing_mode="PROVISIONED", read_capacity_units=100, write_capacity_units=5),
    )
    ledger.update("orders", "nightly-2026-11-27", status="raised", boosted_rcu=400)
    # WHEN the hourly reconcile runs
    result = reconcile()
    # THEN the table is back at its original capacity, and the ledger says so
    throughput = stack.dynamodb.describe_table(TableName="orders")["Table"]["ProvisionedThroughput"]
    assert throughput["ReadCapacityUnits"] == 100
    assert result["restored"] == ["orders"]
    entry = ledger.get("orders", "nightly-2026-11-27")
    assert entry is not None
    assert entry.status == "restored"
    # AND one message tells the team
    messages = stack.messages()
    assert len(messages) == 1
    assert "orders" in messages[0]["Message"]


def test_discovery_follows_list_tables_pages_past_the_first_hundred(stack):
    # GIVEN more tables than one ListTables page holds (100)
    names = [f"table-{n:03d}" for n in range(130)]
    for name in names:
        stack.create_table(name)
    # WHEN discovery runs
    result = discover()
    # THEN every one of them is in the inventory (the ledger table is the stack's, not the app's)
    run = RunContext.model_validate(result).run
    inventory = Inventory.model_validate(stack.document(run.key("inventory")))
    assert sorted(t.name for t in inventory.tables if t.name != LEDGER) == names
