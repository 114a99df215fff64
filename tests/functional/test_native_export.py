"""The native export engine's two steps (start, then poll and verify) under moto, with DynamoDB's
export emulated in AWS's own layout (hippolyte_local.native_export)."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from hippolyte.adapters import clients
from hippolyte.adapters.backup_catalog import get_manifest, list_backups
from hippolyte.adapters.exports import start_export
from hippolyte.backup_manifest import manifest_key
from hippolyte.models import Batch, BatchProgress, CreateBatchRequest, PlannedTable, RunContext, RunProgress, RunRef
from hippolyte.pipelines import output_directory
from hippolyte.runtime import RETURN_MARGIN_SECONDS, Runtime
from hippolyte.settings import StackSettings
from hippolyte.workflow.native_export import check_exports, start_exports
from hippolyte.workflow.time_left import VERIFY_SECONDS
from hippolyte_local.native_export import LocalNativeExports, export_items
from hippolyte_local.verify import same_items, table_items
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "hippolyte-test-backups"
STARTED = datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC)
RUN = RunRef(
    run_id="nightly",
    execution_id="arn:aws:states:us-east-1:123456789012:execution:b:nightly",
    bucket=BUCKET,
    started_at=STARTED,
)
# When the tests poll the exports: the stamp of a batch that ends (nothing reads the real clock).
POLLED_AT = STARTED + timedelta(minutes=30)


@dataclass
class Account:
    """In-memory AWS with the export emulation, and a runtime for the workflow steps."""

    rt: Runtime
    exports: LocalNativeExports
    dynamodb: object


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        clients.reset()
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        with LocalNativeExports(region=REGION) as exports:
            rt = Runtime(settings=StackSettings.model_validate({"BACKUP_BUCKET": BUCKET}), region=REGION)
            yield Account(rt=rt, exports=exports, dynamodb=boto3.client("dynamodb", region_name=REGION))
        clients.reset()


def make_table(dynamodb: object, name: str, items: int, pitr: bool = True) -> None:
    dynamodb.create_table(  # type: ignore[attr-defined]
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
    )
    if pitr:
        dynamodb.update_continuous_backups(  # type: ignore[attr-defined]
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    for number in range(items):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"{name}-{number}"}, "n": {"N": str(number)}})  # type: ignore[attr-defined]


def export_batch(*names: str) -> Batch:
    return Batch(
        id="b0001",
        engine="export",
        estimated_seconds=60,
        tables=[
            PlannedTable(
                name=name,
                engine="export",
                size_bytes=1000,
                original_read_capacity_units=3,
                read_capacity_units=3,
                read_throughput_percent=0.5,
                estimated_seconds=60,
            )
            for name in names
        ],
    )


def wait_for_exports(account: Account, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(e.status == "IN_PROGRESS" for e in account.exports.exports.values()) and time.monotonic() < deadline:
        time.sleep(0.02)


def poll(
    account: Account, batch: Batch, arns: dict[str, str], past_deadline: bool = False
) -> tuple[RunProgress, BatchProgress]:
    progress = RunProgress()
    state = BatchProgress(batch_id=batch.id, status="running", export_arns=arns)
    check_exports(
        account.rt,
        RunContext(run=RUN, poll_seconds=0),
        progress,
        {batch.id: batch},
        {batch.id: state},
        past_deadline,
        POLLED_AT,
    )
    return progress, state


def test_an_export_is_started_once_verified_and_recorded_with_its_manifest(account: Account) -> None:
    # GIVEN a table with PITR on, in an export batch
    make_table(account.dynamodb, "orders", items=250)
    batch = export_batch("orders")
    request = CreateBatchRequest(run=RUN, batch_id=batch.id)

    # WHEN the batch is started twice (a retried Map iteration) and polled once the export ends
    first = start_exports(account.rt, request, batch)
    again = start_exports(account.rt, request, batch)
    wait_for_exports(account)
    progress, state = poll(account, batch, first.export_arns)

    # THEN one export was made (same ClientToken, same ARN), into the run's directory for the table
    assert first.error is None and first.export_arns == again.export_arns
    assert len(account.exports.exports) == 1
    # AND the table is backed up by the export engine, with its items and bytes, and the batch has ended
    outcome = progress.outcomes["orders"]
    assert (outcome.status, outcome.engine, outcome.items) == ("backed_up", "export", 250)
    assert outcome.s3_path == output_directory(BUCKET, "orders", STARTED) and outcome.bytes > 0
    assert state.status == "ended"
    # AND the files hold exactly the table's items
    s3 = boto3.client("s3", region_name=REGION)
    assert same_items(export_items(s3, outcome.s3_path), table_items(account.dynamodb, "orders"))
    # AND the Hippolyte manifest next to them records the schema and every data file, verified
    manifest = get_manifest(s3, BUCKET, manifest_key("orders", STARTED))
    assert manifest is not None and manifest.table is not None
    assert [k.attribute_name for k in manifest.table.key_schema] == ["pk"]
    assert manifest.backup.engine == "export" and manifest.backup.verified
    assert sum(f.items or 0 for f in manifest.backup.data_files) == 250
    assert manifest.backup.export_arn == first.export_arns["orders"]
    (listed,) = list_backups(s3, BUCKET, "orders")
    assert listed.verified and listed.engine == "export" and listed.items == 250


def test_exports_left_unverified_when_time_runs_short_are_verified_on_the_next_poll(account: Account) -> None:
    # GIVEN two finished exports in one batch
    for name in ("orders", "payments"):
        make_table(account.dynamodb, name, items=20)
    batch = export_batch("orders", "payments")
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    progress = RunProgress()
    state = BatchProgress(batch_id=batch.id, status="running", export_arns=started.export_arns)
    # WHEN the first poll's invocation has time to verify one table only
    left = iter([VERIFY_SECONDS + RETURN_MARGIN_SECONDS])
    short = replace(account.rt, remaining_seconds=lambda: next(left, 0.0))
    context = RunContext(run=RUN, poll_seconds=0)
    check_exports(short, context, progress, {batch.id: batch}, {batch.id: state}, False, POLLED_AT)
    # THEN one table is verified, the other waits, and the batch still runs
    assert list(progress.outcomes) == ["orders"] and state.status == "running"
    # AND the next poll verifies the other and ends the batch
    check_exports(account.rt, context, progress, {batch.id: batch}, {batch.id: state}, False, POLLED_AT)
    assert {name: o.status for name, o in progress.outcomes.items()} == dict.fromkeys(
        ["orders", "payments"], "backed_up"
    )
    assert state.status == "ended"


def test_the_export_uses_no_read_capacity(account: Account) -> None:
    # GIVEN a table at 3 RCU
    make_table(account.dynamodb, "orders", items=10)
    batch = export_batch("orders")
    # WHEN it is exported and verified
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    poll(account, batch, started.export_arns)
    # THEN its read capacity was never touched
    throughput = account.dynamodb.describe_table(TableName="orders")["Table"]["ProvisionedThroughput"]  # type: ignore[attr-defined]
    assert throughput["ReadCapacityUnits"] == 3 and throughput.get("LastIncreaseDateTime") is None


def test_a_table_without_pitr_is_failed_with_dynamodbs_reason_and_the_others_go_on(account: Account) -> None:
    # GIVEN one table with PITR and one without, in the same batch
    make_table(account.dynamodb, "orders", items=5)
    make_table(account.dynamodb, "legacy", items=5, pitr=False)
    batch = export_batch("orders", "legacy")
    # WHEN the batch starts and is polled
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    progress, _ = poll(account, batch, started.export_arns)
    # THEN the table with PITR is backed up, the other failed with the refusal's reason
    assert set(started.export_arns) == {"orders"}
    assert progress.outcomes["orders"].status == "backed_up"
    legacy = progress.outcomes["legacy"]
    assert legacy.status == "failed" and "PointInTimeRecoveryUnavailableException" in (legacy.reason or "")


def test_a_batch_whose_exports_all_fail_to_start_is_refused_as_a_whole(account: Account) -> None:
    make_table(account.dynamodb, "legacy", items=1, pitr=False)
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id="b0001"), export_batch("legacy"))
    assert started.error == "ExportStartError" and "legacy" in (started.cause or "")


def test_a_failed_export_is_reported_with_its_failure_message(account: Account) -> None:
    # GIVEN an export DynamoDB fails
    make_table(account.dynamodb, "orders", items=5)
    account.exports.fail_tables.add("orders")
    batch = export_batch("orders")
    # WHEN it is polled
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    progress, _ = poll(account, batch, started.export_arns)
    # THEN the table failed with the export's own message, and no manifest makes it restorable
    outcome = progress.outcomes["orders"]
    assert outcome.status == "failed" and "injected fault" in (outcome.reason or "")
    assert not list_backups(boto3.client("s3", region_name=REGION), BUCKET, "orders")[0].verified


def test_an_export_whose_checksum_does_not_match_is_failed_and_never_restorable(account: Account) -> None:
    # GIVEN an export whose files manifest lists a wrong MD5 for a data file
    make_table(account.dynamodb, "orders", items=5)
    account.exports.corrupt_tables.add("orders")
    batch = export_batch("orders")
    # WHEN it is verified
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    progress, _ = poll(account, batch, started.export_arns)
    # THEN the table failed on the checksum, and the backup is listed as not restorable
    outcome = progress.outcomes["orders"]
    assert outcome.status == "failed" and "checksum mismatch" in (outcome.reason or "")
    (listed,) = list_backups(boto3.client("s3", region_name=REGION), BUCKET, "orders")
    assert not listed.verified and "hippolyte-manifest.json" in (listed.problem or "")


def test_an_export_still_running_at_the_deadline_is_failed(account: Account) -> None:
    # GIVEN an export that takes longer than the window
    make_table(account.dynamodb, "orders", items=5)
    account.exports.delay_seconds = 30
    batch = export_batch("orders")
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    # WHEN it is polled before and after the deadline
    before, state = poll(account, batch, started.export_arns)
    after, _ = poll(account, batch, started.export_arns, past_deadline=True)
    # THEN it is running before, and failed with the reason after
    assert "orders" not in before.outcomes and state.status == "running"
    assert after.outcomes["orders"].status == "failed"
    assert "did not finish inside the window" in (after.outcomes["orders"].reason or "")


def test_binary_attributes_are_exported_as_base64_as_dynamodb_json_has_them(account: Account) -> None:
    # GIVEN a table whose items hold binary values and binary sets, at the top level and nested
    make_table(account.dynamodb, "blobs", items=0)
    item = {
        "pk": {"S": "blobs-1"},
        "raw": {"B": b"\x00\xff\x10"},
        "parts": {"BS": [b"\x01", b"\x02\x03"]},
        "doc": {"M": {"thumb": {"B": b"\x89PNG"}, "history": {"L": [{"B": b""}, {"BS": [b"z"]}]}}},
    }
    account.dynamodb.put_item(TableName="blobs", Item=item)  # type: ignore[attr-defined]
    batch = export_batch("blobs")

    # WHEN it is exported and verified
    started = start_exports(account.rt, CreateBatchRequest(run=RUN, batch_id=batch.id), batch)
    wait_for_exports(account)
    progress, _ = poll(account, batch, started.export_arns)

    # THEN the export completed and its data line holds the binary values as base64 text
    assert progress.outcomes["blobs"].status == "backed_up", progress.outcomes["blobs"].reason
    s3 = boto3.client("s3", region_name=REGION)
    data_key = next(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="blobs/")["Contents"] if "/data/" in o["Key"]
    )
    (line,) = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=data_key)["Body"].read()).decode().splitlines()
    assert json.loads(line)["Item"] == {
        "pk": {"S": "blobs-1"},
        "raw": {"B": "AP8Q"},
        "parts": {"BS": ["AQ==", "AgM="]},
        "doc": {"M": {"thumb": {"B": "iVBORw=="}, "history": {"L": [{"B": ""}, {"BS": ["eg=="]}]}}},
    }
    # AND reading the export back gives the table's item, bytes for bytes
    assert export_items(s3, progress.outcomes["blobs"].s3_path or "") == [item]


@pytest.mark.parametrize(
    ("kms_key_arn", "encryption"),
    [
        ("", {"S3SseAlgorithm": "AES256"}),
        (
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            {
                "S3SseAlgorithm": "KMS",
                "S3SseKmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
        ),
    ],
    ids=["bucket-default", "customer-key"],
)
def test_an_export_is_encrypted_with_the_stacks_key_when_it_has_one(kms_key_arn: str, encryption: dict[str, str]):
    # GIVEN a DynamoDB client whose ExportTableToPointInTime request is checked as sent
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    expected = {
        "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        "ClientToken": "token",
        "S3Bucket": "backups",
        "S3Prefix": "orders/2026-11-28-00-10-05",
        "ExportFormat": "DYNAMODB_JSON",
        "ExportType": "FULL_EXPORT",
        **encryption,
    }
    with Stubber(dynamodb) as stub:
        stub.add_response(
            "export_table_to_point_in_time",
            {"ExportDescription": {"ExportArn": f"{expected['TableArn']}/export/1"}},
            expected,
        )
        # WHEN an export starts with (or without) the stack's KMS key
        arn = start_export(
            dynamodb, expected["TableArn"], "backups", "orders/2026-11-28-00-10-05", "token", kms_key_arn
        )
        # THEN the request names that key (or the bucket's default encryption), and nothing else
        stub.assert_no_pending_responses()
    assert arn.endswith("/export/1")
