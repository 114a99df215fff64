"""Verifying one table's export directory in S3 (moto): a table is backed up only if its own
directory holds the export tool's ``_SUCCESS`` marker, its ``manifest`` and every file the
manifest lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hippolyte.adapters.backup_files import inspect_backup
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "hippolyte-dev-backups"
TODAY = "2026-11-28-00-10-00"


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # Clients cost about 0.1 s each to create: made once, used under each test's own mock_aws().
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def s3_client(session: boto3.session.Session) -> Any:
    return session.client("s3")


@pytest.fixture
def s3(s3_client: Any) -> Iterator[Any]:
    with mock_aws():
        client = s3_client
        client.create_bucket(Bucket=BUCKET)
        yield client


def item(number: int) -> str:
    """One item's line as DynamoDBExport 4.11.0 writes it."""
    return f'{{"total":{{"n":"{number}"}},"id":{{"s":"order-{number}"}}}}'


def write_export(
    s3: Any,
    table: str,
    stamp: str = TODAY,
    *,
    files: dict[str, list[str]] | None = None,
    success: bool = True,
    manifest: bool = True,
    listed: list[str] | None = None,
) -> str:
    """Write a directory as the EMR export tool does; returns its s3:// URI."""
    prefix = f"{table}/{stamp}/"
    if files is None:
        files = {"part-0": [item(1), item(2), item(3)], "part-1": [item(4), item(5)]}
    for name, lines in files.items():
        s3.put_object(Bucket=BUCKET, Key=prefix + name, Body=("\n".join(lines) + "\n").encode())
    if manifest:
        entries = [{"url": f"s3://{BUCKET}/{prefix}{name}", "mandatory": True} for name in (listed or files)]
        document = {"name": "DynamoDB-export", "version": 3, "entries": entries}
        s3.put_object(Bucket=BUCKET, Key=prefix + "manifest", Body=json.dumps(document).encode())
    if success:
        s3.put_object(Bucket=BUCKET, Key=prefix + "_SUCCESS", Body=b"")
    return f"s3://{BUCKET}/{prefix}"


def test_a_complete_export_counts_items_and_bytes(s3):
    # GIVEN an export with _SUCCESS, a manifest and two data files of 3 and 2 items
    directory = write_export(s3, "orders")
    sizes = [
        s3.head_object(Bucket=BUCKET, Key=f"orders/{TODAY}/{name}")["ContentLength"] for name in ("part-0", "part-1")
    ]
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is complete, with every item counted and the data files' bytes summed
    assert check.complete
    assert check.items == 5
    assert check.bytes == sum(sizes)
    assert sorted(check.data_files) == [f"{directory}part-0", f"{directory}part-1"]


def test_blank_lines_are_not_items(s3):
    # GIVEN a data file with blank lines between items
    directory = write_export(s3, "orders", files={"part-0": [item(1), "", item(2), ""]})
    # WHEN it is inspected
    # THEN only the items are counted
    assert inspect_backup(s3, directory).items == 2


def test_a_backup_in_standard_dynamodb_json_is_not_a_backup(s3):
    # GIVEN a complete-looking export whose second data file is in standard DynamoDB JSON, which
    # the export tool never writes and DynamoDBImport cannot restore ({"S": ...} has no Gson field)
    standard = json.dumps({"id": {"S": "order-9"}, "total": {"N": "9"}})
    directory = write_export(s3, "orders", files={"part-0": [item(1)], "part-1": [standard, item(2)]})
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is not a backup, and the reason names the file, the line and what the import lacks
    assert not check.complete
    assert f"data file {directory}part-1 cannot be restored by DynamoDBImport: line 1: " in check.reason
    assert "needs exactly one of s, n, b" in check.reason


def test_binary_items_are_counted(s3):
    # GIVEN an export whose lines hold binary values as the tool writes them (base64)
    lines = ['{"id":{"b":"AP8Q"},"parts":{"bS":["AQ==","AgM="]}}', '{"id":{"b":"AQ=="},"empty":{"b":""}}']
    directory = write_export(s3, "blobs", files={"part-0": lines})
    # WHEN it is inspected
    # THEN both items are counted
    assert inspect_backup(s3, directory).items == 2


def test_an_empty_table_export_is_complete(s3):
    # GIVEN the export of an empty table: _SUCCESS and a manifest listing nothing
    directory = write_export(s3, "orders", files={})
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is a complete backup of zero items
    assert check.complete
    assert (check.items, check.bytes) == (0, 0)


def test_counting_can_be_left_to_dynamodb(s3):
    # GIVEN a complete export
    directory = write_export(s3, "orders")
    # WHEN it is inspected without reading the data back
    check = inspect_backup(s3, directory, count_items=False)
    # THEN it is complete, with bytes but no item count
    assert check.complete
    assert check.items is None
    assert check.bytes > 0


def test_a_directory_given_without_its_trailing_slash_is_the_same(s3):
    # GIVEN a complete export named without the trailing slash
    directory = write_export(s3, "orders").rstrip("/")
    # WHEN it is inspected
    # THEN it is found
    assert inspect_backup(s3, directory).complete


def test_no_success_marker_is_incomplete(s3):
    # GIVEN an export that wrote its files but not _SUCCESS (the job failed or is still running)
    directory = write_export(s3, "orders", success=False)
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is not a backup, and the reason names the marker
    assert not check.complete
    assert "_SUCCESS" in check.reason


def test_no_manifest_is_incomplete(s3):
    # GIVEN _SUCCESS without a manifest
    directory = write_export(s3, "orders", manifest=False)
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is not a backup, and the reason names the manifest
    assert not check.complete
    assert "manifest" in check.reason


def test_a_manifest_listing_a_missing_file_is_incomplete(s3):
    # GIVEN a manifest listing three files of which only two exist
    directory = write_export(s3, "orders", listed=["part-0", "part-1", "part-2"])
    # WHEN it is inspected
    check = inspect_backup(s3, directory)
    # THEN it is not a backup, and the reason says a listed file is missing
    assert not check.complete
    assert "missing" in check.reason
    assert "1" in check.reason


def test_another_table_sharing_the_name_prefix_does_not_count(s3):
    # GIVEN a complete export of "orders-archive" and nothing for "orders"
    write_export(s3, "orders-archive")
    # WHEN "orders" is inspected
    check = inspect_backup(s3, f"s3://{BUCKET}/orders/{TODAY}/")
    # THEN it is not backed up (the 2017 tool matched the bare prefix and said it was)
    assert not check.complete


def test_yesterdays_export_does_not_count_for_tonight(s3):
    # GIVEN last night's complete export, and nothing tonight
    write_export(s3, "orders", stamp="2026-11-27-00-10-00")
    # WHEN tonight's directory is inspected
    check = inspect_backup(s3, f"s3://{BUCKET}/orders/{TODAY}/")
    # THEN tonight's backup is missing
    assert not check.complete
    assert "_SUCCESS" in check.reason


def test_a_table_whose_name_extends_another_is_checked_in_its_own_directory(s3):
    # GIVEN a complete "orders" export, and an incomplete "orders-archive" one
    write_export(s3, "orders")
    archive = write_export(s3, "orders-archive", success=False)
    # WHEN both are inspected
    # THEN each has its own verdict
    assert inspect_backup(s3, f"s3://{BUCKET}/orders/{TODAY}/").complete
    assert not inspect_backup(s3, archive).complete
