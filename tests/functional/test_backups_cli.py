"""``hippolyte backups``: a table's backups listed from the bucket, as a person reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from hippolyte.adapters.stack_outputs import stack_output
from hippolyte.backup_manifest import (
    AttributeDefinition,
    BackupFacts,
    BackupManifest,
    DataFile,
    KeyElement,
    TableSchema,
    manifest_key,
)
from hippolyte.errors import ConfigurationError
from hippolyte_cli import main
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "hippolyte-prod-backups"
SCHEMA = TableSchema(
    name="orders",
    key_schema=[KeyElement(attribute_name="pk", key_type="HASH")],
    attribute_definitions=[AttributeDefinition(attribute_name="pk", attribute_type="S")],
)


def put_backup(s3: object, table: str, day: int, *, complete: bool = True, manifest: bool = True) -> None:
    """A Data Pipeline backup directory: data, the tool's manifest, _SUCCESS and Hippolyte's manifest."""
    started = datetime(2026, 11, day, 0, 10, 5, tzinfo=UTC)
    prefix = f"{table}/{started:%Y-%m-%d-%H-%M-%S}/"
    etag = s3.put_object(Bucket=BUCKET, Key=prefix + "part-0", Body=b'{"pk":{"s":"abc"}}\n' * 3)["ETag"]  # type: ignore[attr-defined]
    s3.put_object(Bucket=BUCKET, Key=prefix + "manifest", Body=b"{}")  # type: ignore[attr-defined]
    if complete:
        s3.put_object(Bucket=BUCKET, Key=prefix + "_SUCCESS", Body=b"")  # type: ignore[attr-defined]
    if manifest:
        # A run's start time has microseconds; its directory is named to the second.
        facts = BackupFacts(
            time=started.replace(microsecond=668_982),
            run_id=f"night-{day}",
            engine="datapipeline",
            items=3,
            bytes=57,
            location=f"s3://{BUCKET}/{prefix}",
            verified=True,
            required_files=[prefix + "_SUCCESS", prefix + "manifest"],
            data_files=[DataFile(key=prefix + "part-0", size=57, etag=etag.strip('"'))],
        )
        s3.put_object(
            Bucket=BUCKET,
            Key=manifest_key(table, started),  # type: ignore[attr-defined]
            Body=BackupManifest(table=SCHEMA, backup=facts).model_dump_json().encode(),
        )


@pytest.fixture
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("HIPPOLYTE_STACK", raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def test_backups_are_listed_newest_first_with_whether_each_can_be_restored(
    bucket: object, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN three nights of backups of orders, the last without _SUCCESS, and a table named like it
    put_backup(bucket, "orders", 26)
    put_backup(bucket, "orders", 27)
    put_backup(bucket, "orders", 28, complete=False)
    put_backup(bucket, "orders-archive", 28)

    # WHEN a person lists orders' backups
    code = main(["backups", "--table", "orders", "--bucket", BUCKET])

    # THEN they see one line per backup of orders only, newest first, with time, engine, items, size
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"Backups of orders in s3://{BUCKET}/ (newest first)"
    rows = out[2:]
    assert [row[:19] for row in rows] == ["2026-11-28 00:10:05", "2026-11-27 00:10:05", "2026-11-26 00:10:05"]
    assert rows[1].split()[2:6] == ["datapipeline", "3", "57", "B"]
    # AND whether each is verified, with the reason when it is not
    assert rows[0].endswith("no: orders/2026-11-28-00-10-05/_SUCCESS is missing")
    assert rows[1].endswith("yes") and rows[2].endswith("yes")


def test_the_json_listing_says_the_same(bucket: object, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN one backup with Hippolyte's manifest and one without (it never completed)
    put_backup(bucket, "orders", 26)
    put_backup(bucket, "orders", 27, complete=False, manifest=False)
    # WHEN listed as JSON
    assert main(["backups", "--table", "orders", "--bucket", BUCKET, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    # THEN the same facts come as fields
    assert [(b["time"][:10], b["engine"], b["items"], b["verified"]) for b in listed] == [
        ("2026-11-27", "datapipeline", None, False),
        ("2026-11-26", "datapipeline", 3, True),
    ]
    assert "no hippolyte-manifest.json" in listed[0]["problem"]


def test_a_table_without_backups_is_said_plainly(bucket: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backups", "--table", "nothing-here", "--bucket", BUCKET]) == 0
    assert capsys.readouterr().out == f"No backups of table nothing-here in s3://{BUCKET}/\n"


def test_without_a_bucket_or_a_stack_the_error_is_one_line_and_exit_2(
    bucket: object, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN neither --bucket, --stack nor HIPPOLYTE_STACK says where the backups are
    code = main(["backups", "--table", "orders"])
    # THEN one line names the option, and the exit code is 2
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("hippolyte backups: --stack:")


def test_a_bucket_that_does_not_exist_is_one_line_and_exit_2(
    bucket: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backups", "--table", "orders", "--bucket", "no-such-bucket-here"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bucket does not exist" in err


def test_the_bucket_is_found_from_the_stack_outputs() -> None:
    # GIVEN a deployed stack whose outputs name the bucket (CloudFormation's answer, stubbed)
    cloudformation = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "hippolyte-prod",
                        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [{"OutputKey": "BackupBucketName", "OutputValue": BUCKET}],
                    }
                ]
            },
            {"StackName": "hippolyte-prod"},
        )
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "hippolyte-prod",
                        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [],
                    }
                ]
            },
            {"StackName": "hippolyte-prod"},
        )
        # THEN the output is read, and a stack without it is a clear error
        assert stack_output(cloudformation, "hippolyte-prod", "BackupBucketName") == BUCKET
        with pytest.raises(ConfigurationError, match="has no output BackupBucketName"):
            stack_output(cloudformation, "hippolyte-prod", "BackupBucketName")
