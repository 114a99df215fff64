"""Writing a verified Data Pipeline backup's hippolyte-manifest.json under moto: the live table's
schema (without this run's boost), and every data file with its ETag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from hippolyte.adapters import clients
from hippolyte.adapters.backup_catalog import get_manifest, list_backups
from hippolyte.models import RunRef, TableOutcome
from hippolyte.pipelines import output_directory
from hippolyte.runtime import Runtime
from hippolyte.settings import StackSettings
from hippolyte.workflow.backup_manifest import write_backup_manifest
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "hippolyte-test-backups"
STARTED = datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC)
RUN = RunRef(run_id="nightly", execution_id="x", bucket=BUCKET, started_at=STARTED)


@pytest.fixture
def rt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        clients.reset()
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield Runtime(settings=StackSettings.model_validate({"BACKUP_BUCKET": BUCKET}), region=REGION)
        clients.reset()


def emr_export(table: str) -> TableOutcome:
    """What the EMR export tool leaves: two data files, its manifest and _SUCCESS."""
    s3 = boto3.client("s3", region_name=REGION)
    directory = output_directory(BUCKET, table, STARTED)
    prefix = directory.removeprefix(f"s3://{BUCKET}/")
    entries = []
    for part in ("a", "b"):
        s3.put_object(Bucket=BUCKET, Key=prefix + part, Body=b'{"pk":{"s":"xyz"}}\n')
        entries.append({"url": f"{directory}{part}", "mandatory": True})
    s3.put_object(Bucket=BUCKET, Key=prefix + "manifest", Body=json.dumps({"entries": entries}).encode())
    s3.put_object(Bucket=BUCKET, Key=prefix + "_SUCCESS", Body=b"")
    return TableOutcome(name=table, status="backed_up", s3_path=directory, items=2, bytes=38)


def test_the_manifest_records_the_table_without_the_runs_boost_and_every_data_file(rt: Runtime) -> None:
    # GIVEN a table at 30 RCU while this run's boost of 25 holds, with TTL and tags
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    arn = dynamodb.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 30, "WriteCapacityUnits": 4},
        Tags=[{"Key": "team", "Value": "shop"}],
    )["TableDescription"]["TableArn"]
    dynamodb.update_time_to_live(TableName="orders", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    outcome = emr_export("orders")

    # WHEN its verified backup's manifest is written
    key = write_backup_manifest(rt, RUN, outcome, raised_rcu=25)

    # THEN it sits next to the data and records the capacity a restore must give: 5 RCU, not 30
    assert key == "orders/2026-11-28-00-10-05/hippolyte-manifest.json"
    manifest = get_manifest(boto3.client("s3", region_name=REGION), BUCKET, key)
    assert manifest is not None and manifest.table is not None
    assert (manifest.table.throughput.read_capacity_units, manifest.table.throughput.write_capacity_units) == (5, 4)
    assert manifest.table.ttl_attribute == "ttl" and manifest.table.tags == {"team": "shop"}
    # AND the backup's facts: run, engine, items, and each data file with size and ETag
    facts = manifest.backup
    assert (facts.run_id, facts.engine, facts.items, facts.verified) == ("nightly", "datapipeline", 2, True)
    assert [f.key.rsplit("/", 1)[1] for f in facts.data_files] == ["a", "b"]
    assert all(f.size == 19 and f.etag for f in facts.data_files)
    assert sorted(k.rsplit("/", 1)[1] for k in facts.required_files) == ["_SUCCESS", "manifest"]
    assert arn.endswith("/orders")


def test_a_table_deleted_before_verification_leaves_a_backup_that_is_listed_but_not_restorable(rt: Runtime) -> None:
    # GIVEN a backup whose table no longer exists when it is verified
    outcome = emr_export("gone-table")
    # WHEN its manifest is written
    write_backup_manifest(rt, RUN, outcome)
    # THEN the backup is listed, but not as restorable: there is no schema to create the table from
    (listed,) = list_backups(boto3.client("s3", region_name=REGION), BUCKET, "gone-table")
    assert not listed.verified and "no table schema" in (listed.problem or "")
