"""Restore, through the real state machines executed locally: a nightly backup by each engine, then
the restore state machine into a new table, compared item for item and index for index; every
refusal; and incomplete backups, which are never chosen."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hippolyte import restore_plan
from hippolyte.backup_manifest import schema_from_description, shape_differences
from hippolyte_local.session import ExecutionResult, LocalSession, local_session
from hippolyte_local.stack import ACCOUNT_ID
from hippolyte_local.verify import same_items, table_items
from moto.dynamodb.models import dynamodb_backends

from tests.statemachine.fleet_support import TEST_PARAMETERS, sent_messages

PIPELINE_TABLE = "orders-dp"
EXPORT_TABLE = "events-ex"
NO_PITR_TABLE = "legacy-ex"
PIPELINE_PATH = [
    "FindBackup",
    "ChooseImportPath",
    "CreateTargetTable",
    "RaiseWriteCapacity",
    "ImportData",
    "WaitForImport",
    "CheckImport",
    "ImportFinished",
    "VerifyItemCount",
    "RestoreCapacityAndTtl",
    "NotifyRestored",
    "RestoreSucceeded",
]
IMPORT_TABLE_PATH = [
    "FindBackup",
    "ChooseImportPath",
    "ImportTable",
    "WaitForImport",
    "CheckImport",
    "ImportFinished",
    "VerifyItemCount",
    "RestoreCapacityAndTtl",
    "NotifyRestored",
    "RestoreSucceeded",
]
REFUSED_PATH = ["FindBackup", "NotifyRestoreFailed", "RestoreFailed"]
REFUSAL_NUMBERS = itertools.count(1)


def _item(table: str, number: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"{table}#{number % 40:03d}"},
        "sk": {"N": str(number)},
        "status": {"S": f"s{number % 3}"},
        "at": {"N": str(1_700_000_000 + number)},
        "total": {"N": f"{number}.25"},
        "expires": {"N": str(4_000_000_000 + number)},
        "lines": {"L": [{"S": "widget"}, {"N": str(number % 5)}, {"BOOL": number % 2 == 0}]},
        "address": {"M": {"city": {"S": "Lyon"}, "zip": {"NULL": True}}},
    }
    if number % 4 == 0:
        item["labels"] = {"SS": ["gift", f"l{number % 7}"]}
    return item


def create_source(
    session: LocalSession, name: str, items: int, *, engine: str | None, on_demand: bool, lsi: bool, pitr: bool = True
) -> None:
    """A table with the parts a restore must bring back: keys, GSI projection, LSI, TTL, stream, tags."""
    dynamodb = session.client("dynamodb")
    spec: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": t}
            for a, t in (("pk", "S"), ("sk", "N"), ("status", "S"), ("at", "N"))
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-status",
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "Tags": [{"Key": "team", "Value": "shop"}] + ([{"Key": "hippolyte:engine", "Value": engine}] if engine else []),
    }
    if on_demand:
        spec["BillingMode"] = "PAY_PER_REQUEST"
    else:
        spec["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": 4}
        spec["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] = {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}
    if lsi:
        spec["LocalSecondaryIndexes"] = [
            {
                "IndexName": "by-time",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    dynamodb.create_table(**spec)
    dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    for start in range(0, items, 25):
        dynamodb.batch_write_item(
            RequestItems={
                name: [{"PutRequest": {"Item": _item(name, n)}} for n in range(start, min(items, start + 25))]
            }
        )


def restore(session: LocalSession, table: str, target: str, name: str, **options: Any) -> ExecutionResult:
    """One restore execution, polled without waiting."""
    return session.run(
        {"table": table, "target": target, "poll_seconds": 120, **options},
        machine="RestoreStateMachine",
        name=name,
        timeout=120,
    )


def described(session: LocalSession, name: str) -> dict[str, Any]:
    return session.client("dynamodb").describe_table(TableName=name)["Table"]  # type: ignore[no-any-return]


def ttl_attribute(session: LocalSession, name: str) -> str | None:
    ttl = session.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None


def tags_of(session: LocalSession, name: str) -> dict[str, str]:
    arn = described(session, name)["TableArn"]
    return {t["Key"]: t["Value"] for t in session.client("dynamodb").list_tags_of_resource(ResourceArn=arn)["Tags"]}


def imports_made(session: LocalSession) -> int:
    return len(dynamodb_backends[ACCOUNT_ID][session.region].table_imports)


@pytest.fixture(scope="module")
def backed_up() -> Iterator[LocalSession]:
    """A stack whose nightly run backed up one table per engine (and skipped one without PITR)."""
    with local_session(parameters=TEST_PARAMETERS) as session:
        create_source(session, PIPELINE_TABLE, 120, engine=None, on_demand=False, lsi=True)
        create_source(session, EXPORT_TABLE, 230, engine="export", on_demand=True, lsi=False)
        create_source(session, NO_PITR_TABLE, 3, engine="export", on_demand=False, lsi=False, pitr=False)
        result = session.run({"poll_seconds": 120}, name="nightly", timeout=120)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        yield session


def test_the_night_backs_up_each_table_with_its_engine_and_reports_a_table_without_pitr(
    backed_up: LocalSession,
) -> None:
    # GIVEN the nightly run over a Data Pipeline table, an export table and an export table without PITR
    ((subject, body),) = sent_messages(backed_up)
    # THEN the export table's backup is DynamoDB's own export layout, under the same directory scheme
    s3 = backed_up.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=backed_up.stack.bucket, Prefix=f"{EXPORT_TABLE}/")["Contents"]]
    assert any("/AWSDynamoDB/" in key and key.endswith("/manifest-summary.json") for key in keys)
    assert any(key.endswith("/hippolyte-manifest.json") for key in keys)
    # AND the table without PITR is reported skipped with the reason, not dropped
    assert f"{NO_PITR_TABLE}: the export engine needs point-in-time recovery" in body
    assert "SUCCEEDED" in subject


def test_a_data_pipeline_backup_is_restored_item_for_item_into_a_table_shaped_like_the_original(
    backed_up: LocalSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the Data Pipeline backup of a provisioned table with a GSI, an LSI, TTL, a stream and tags,
    # and an import target time of one second, so that the restore must raise the new table's capacity
    monkeypatch.setattr(restore_plan, "IMPORT_TARGET_SECONDS", 1)
    seen: list[int] = []

    def watching_import(directory: str, table: str, percent: str) -> None:
        seen.append(described(backed_up, table)["ProvisionedThroughput"]["WriteCapacityUnits"])

    backed_up.emr.before_import = watching_import

    # WHEN it is restored into a new table
    result = restore(backed_up, PIPELINE_TABLE, "orders-dp-restored", "restore-dp", at="latest")

    # THEN the restore went through the import pipeline path, named for what it does
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert set(result.state_names) == set(PIPELINE_PATH)
    # AND the new table holds exactly the original's items
    assert same_items(
        table_items(backed_up.client("dynamodb"), PIPELINE_TABLE),
        table_items(backed_up.client("dynamodb"), "orders-dp-restored"),
    )
    # AND it has the original's keys, attributes, GSI and LSI with their projections, and capacity
    original, restored = described(backed_up, PIPELINE_TABLE), described(backed_up, "orders-dp-restored")
    assert shape_differences(schema_from_description(original), schema_from_description(restored)) == []
    assert restored["LocalSecondaryIndexes"][0]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert restored["GlobalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["total"],
    }
    # AND its writes were raised while the import ran, and are back to the original's 4 WCU
    assert seen and seen[0] > 4
    assert restored["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    # AND TTL, stream and tags are the original's, with a tag saying where it came from
    assert ttl_attribute(backed_up, "orders-dp-restored") == "expires"
    assert restored["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    tags = tags_of(backed_up, "orders-dp-restored")
    assert tags["team"] == "shop" and tags["hippolyte:restored-from"].startswith(f"{PIPELINE_TABLE}/")
    # AND the import pipeline is gone, and the topic was told
    assert backed_up.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    assert any("restore orders-dp -> orders-dp-restored: SUCCEEDED" in s for s, _ in sent_messages(backed_up))


def test_a_native_export_is_restored_by_importtable_into_a_table_shaped_like_the_original(
    backed_up: LocalSession,
) -> None:
    # GIVEN the native export of an on-demand table with a GSI, TTL, a stream and tags
    # WHEN it is restored into a new table
    result = restore(backed_up, EXPORT_TABLE, "events-ex-restored", "restore-ex")

    # THEN ImportTable created and filled the table (no CreateTargetTable, no capacity raised)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert set(result.state_names) == set(IMPORT_TABLE_PATH)
    assert imports_made(backed_up) == 1
    # AND the new table holds exactly the original's items, with the same keys, index and projection
    dynamodb = backed_up.client("dynamodb")
    assert same_items(table_items(dynamodb, EXPORT_TABLE), table_items(dynamodb, "events-ex-restored"))
    original, restored = described(backed_up, EXPORT_TABLE), described(backed_up, "events-ex-restored")
    assert shape_differences(schema_from_description(original), schema_from_description(restored)) == []
    # AND TTL, stream and tags are set after the import, as ImportTable cannot
    assert ttl_attribute(backed_up, "events-ex-restored") == "expires"
    assert restored["StreamSpecification"]["StreamEnabled"] is True
    assert tags_of(backed_up, "events-ex-restored")["team"] == "shop"


def test_an_existing_empty_table_is_filled_when_into_existing_is_given(backed_up: LocalSession) -> None:
    # GIVEN an empty table with the original's keys and its own capacity
    dynamodb = backed_up.client("dynamodb")
    dynamodb.create_table(
        TableName="orders-dp-empty",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 7},
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
    )
    # WHEN the Data Pipeline backup is restored into it
    result = restore(backed_up, PIPELINE_TABLE, "orders-dp-empty", "restore-into-empty", into_existing=True)
    # THEN it was not created again, and holds the original's items with its own capacity kept
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "CreateTargetTable" not in result.state_names and "RaiseWriteCapacity" in result.state_names
    assert same_items(table_items(dynamodb, PIPELINE_TABLE), table_items(dynamodb, "orders-dp-empty"))
    assert described(backed_up, "orders-dp-empty")["ProvisionedThroughput"]["WriteCapacityUnits"] == 7


@pytest.mark.parametrize(
    ("execution_input", "error", "message"),
    [
        ({"table": PIPELINE_TABLE, "target": PIPELINE_TABLE}, "RestoreTargetExistsError", "already exists"),
        (
            {"table": PIPELINE_TABLE, "target": EXPORT_TABLE, "into_existing": True},
            "RestoreTargetExistsError",
            "is not empty",
        ),
        (
            {"table": EXPORT_TABLE, "target": "orders-dp-empty-2", "into_existing": True},
            "RestoreTargetExistsError",
            "ImportTable, which only creates new tables",
        ),
        (
            {"table": PIPELINE_TABLE, "target": "new-table", "at": "2020-01-01"},
            "BackupNotFoundError",
            "no backup of table orders-dp at or before 2020-01-01",
        ),
        ({"table": "no-such-table", "target": "new-table"}, "UnknownTableError", "no table named no-such-table"),
        (
            {"table": PIPELINE_TABLE, "target": "new-table", "at": "last tuesday"},
            "InvalidRestoreRequestError",
            "restore input at: 'last tuesday' is not a time",
        ),
        (
            {"table": PIPELINE_TABLE, "target": "new-table", "backup": "s3://elsewhere/orders-dp/2026-01-01-00-00-00/"},
            "InvalidRestoreRequestError",
            "is not in the backup bucket",
        ),
        ({"table": PIPELINE_TABLE, "target": "x"}, "InvalidRestoreRequestError", "restore input target"),
    ],
)
def test_every_refusal_is_a_clear_error_and_creates_nothing(
    backed_up: LocalSession, execution_input: dict[str, Any], error: str, message: str
) -> None:
    # GIVEN the account as it is (for the export case, an existing empty table to restore into)
    dynamodb = backed_up.client("dynamodb")
    if execution_input.get("target") == "orders-dp-empty-2":
        dynamodb.create_table(
            TableName="orders-dp-empty-2",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
    tables_before = sorted(dynamodb.list_tables()["TableNames"])
    imports_before = imports_made(backed_up)

    # WHEN a restore that must be refused is started
    result = restore(
        backed_up,
        execution_input.pop("table"),
        execution_input.pop("target"),
        f"refused-{next(REFUSAL_NUMBERS)}",
        **execution_input,
    )

    # THEN it fails at the first state with the named error and a message saying what is wrong
    assert result.status == "FAILED"
    assert result.error == error and message in (result.cause or ""), result.cause
    assert result.state_names == REFUSED_PATH
    # AND nothing was created: no table, no pipeline, no import
    assert sorted(dynamodb.list_tables()["TableNames"]) == tables_before
    assert backed_up.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    assert imports_made(backed_up) == imports_before
    # AND the topic was told, saying so
    subject, body = sent_messages(backed_up)[-1]
    assert subject.endswith("FAILED") and "Nothing was created" in body
