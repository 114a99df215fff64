"""Documents written by a newer version of the functions, read by this one (moto).

A deploy can land while a run is under way, reconcile reads every run's records, and a restore
reads backups made by any version: a field a newer version added to a stored document (the run's
documents in S3, a backup's manifest, a ledger record) is ignored, not an error. The execution
input is another matter: an unknown field there is a person's typo, and is still refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hippolyte.adapters.backup_catalog import get_manifest, list_backups
from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.adapters.run_store import load_document, save_document
from hippolyte.capacity import CapacityState
from hippolyte.errors import InvalidExecutionInputError, InvalidRestoreRequestError
from hippolyte.models import BatchProgress, RunProgress, TableOutcome
from hippolyte.runtime import Runtime
from hippolyte.workflow.backup_manifest import write_backup_manifest
from hippolyte.workflow.discover_tables import parse_execution_input
from hippolyte.workflow.restore.find_backup import parse_restore_request
from moto import mock_aws

from tests.functional.test_backup_manifest_store import BUCKET, REGION, RUN, emr_export, rt  # noqa: F401

LEDGER = "hippolyte-test-ledger"


@pytest.fixture
def s3(rt: Runtime) -> Any:  # noqa: F811
    """The backup bucket's client (moto, with the bucket made by ``rt``)."""
    return boto3.client("s3", region_name=REGION)


def _with_new_fields(document: dict[str, Any]) -> dict[str, Any]:
    """The document as a newer version might write it: a new field at the top and in a nested model."""
    return {**document, "written_by": "hippolyte 2.0"}


def test_a_run_document_with_fields_a_newer_version_added_is_read(s3: Any) -> None:
    # GIVEN the run's progress as a newer version wrote it: a new field at the top and in a nested model
    progress = RunProgress(
        batches={"b0001": BatchProgress(batch_id="b0001", status="running", pipeline_id="df-1")},
        outcomes={"orders": TableOutcome(name="orders", status="backed_up", items=3)},
    )
    stored = _with_new_fields(progress.model_dump(mode="json"))
    stored["batches"]["b0001"]["step_concurrency"] = 4
    stored["outcomes"]["orders"]["checksum"] = "abc"
    s3.put_object(Bucket=BUCKET, Key=RUN.key("progress"), Body=json.dumps(stored).encode())

    # WHEN this version reads it
    loaded = load_document(s3, RUN, "progress", RunProgress)

    # THEN it has every field it knows, and the new ones are left out (not an error)
    assert loaded == progress
    # AND what it writes back is its own shape
    save_document(s3, RUN, "progress", loaded)
    assert "written_by" not in json.loads(s3.get_object(Bucket=BUCKET, Key=RUN.key("progress"))["Body"].read())


def test_a_backup_manifest_with_fields_a_newer_version_added_is_listed_and_restorable(s3: Any, rt: Runtime) -> None:  # noqa: F811
    # GIVEN a verified backup whose manifest a newer version wrote, with new fields at two levels
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    key = write_backup_manifest(rt, RUN, emr_export("orders"))
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    manifest = _with_new_fields(manifest)
    manifest["table"]["warm_throughput"] = {"read_units_per_second": 12000}
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(manifest).encode())

    # WHEN this version reads and lists it
    read = get_manifest(s3, BUCKET, key)
    (listed,) = list_backups(s3, BUCKET, "orders")

    # THEN it reads, and the backup can be restored
    assert read is not None and read.table is not None and read.table.name == "orders"
    assert listed.verified and listed.problem is None


@pytest.fixture
def ledger_table() -> Iterator[Any]:
    """The capacity ledger's table (moto), as template.yaml defines its keys."""
    with mock_aws():
        yield boto3.resource("dynamodb", region_name=REGION).create_table(
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


def test_a_ledger_record_a_newer_version_wrote_is_read(ledger_table: Any) -> None:
    # GIVEN a record whose original capacity a newer version wrote with a field this one does not know
    ledger = CapacityLedger(ledger_table, clock=lambda: datetime(2026, 11, 28, 1, 0, tzinfo=UTC))
    original = CapacityState(
        table_name="orders", billing_mode="PROVISIONED", read_capacity_units=10, write_capacity_units=5
    )
    ledger.record_original("night-1", "execution-1", original)
    ledger_table.update_item(
        Key={"table_name": "orders", "run_id": "night-1"},
        UpdateExpression="SET original = :o, new_attribute = :n",
        ExpressionAttributeValues={":o": json.dumps(_with_new_fields(original.model_dump(mode="json"))), ":n": "2.0"},
    )
    # WHEN this version reads it
    read = ledger.get("orders", "night-1")
    # THEN the original is the one recorded
    assert read is not None and read.original == original and read.status == "recorded"


@pytest.mark.parametrize(
    ("parse", "raw", "unknown", "error"),
    [
        (parse_execution_input, {"poll_seconds": 120, "tabels": ["orders"]}, "tabels", InvalidExecutionInputError),
        (
            parse_restore_request,
            {"table": "orders", "target": "orders-copy", "tagret": "x"},
            "tagret",
            InvalidRestoreRequestError,
        ),
    ],
)
def test_execution_input_with_an_unknown_field_is_still_refused_naming_it(
    parse: Any, raw: dict[str, Any], unknown: str, error: type[Exception]
) -> None:
    # GIVEN execution input with a misspelt field; WHEN it is read; THEN it is refused, naming the field
    with pytest.raises(error, match=f"input {unknown}: Extra inputs are not permitted"):
        parse(raw)
