"""The backups' data lines, through the real state machines: a data file written by hand as
DynamoDBExport 4.11.0 writes it is restored attribute for attribute; a table holding every attribute
type (binary keys and values included) is backed up and restored by each engine; and a backup in
standard DynamoDB JSON fails its import, as DynamoDBImport fails on it."""

from __future__ import annotations

import gzip
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hippolyte.backup_manifest import (
    AttributeDefinition,
    BackupFacts,
    BackupManifest,
    DataFile,
    KeyElement,
    TableSchema,
    Throughput,
    manifest_key,
)
from hippolyte.emr_export_format import parse_data_file
from hippolyte.export_format import item_from_export_line
from hippolyte.pipelines import output_directory
from hippolyte_local.native_export import export_items
from hippolyte_local.session import ExecutionResult, LocalSession, local_session
from hippolyte_local.verify import backup_items, same_items, table_items

from tests.fixtures import dynamodb_export_4_11_0 as fixture
from tests.statemachine.fleet_support import TEST_PARAMETERS

PIPELINE_TABLE = "every-type-dp"
EXPORT_TABLE = "every-type-ex"
PLACED_AT = datetime(2026, 11, 2, 0, 10, 5, tzinfo=UTC)


def _every_type_item(number: int, rng: random.Random) -> dict[str, Any]:
    """An item with a binary sort key and every attribute type, nested ones included."""
    blob = bytes(rng.randrange(256) for _ in range(rng.randint(0, 24)))
    return {
        "pk": {"S": f"p{number % 3}"},
        "sk": {"B": number.to_bytes(2, "big") + b"\x00\xff"},
        "text": {"S": f'line {number}\n"quoted" \\ <tag> & é 😀 \u2028'},
        "empty": {"S": ""},
        "amount": {"N": f"-{number}.5"},
        "blob": {"B": blob},
        "names": {"SS": [f"n{number}", "shared"]} if number % 2 else {"SS": ["only"]},
        "numbers": {"NS": [str(number), "0.001", "-7"]},
        "chunks": {"BS": [b"\x00", bytes([number % 256, 1])]},
        "missing": {"NULL": True},
        "flag": {"BOOL": number % 2 == 0},
        "doc": {
            "M": {
                "inner": {"M": {"deep": {"L": [{"B": blob}, {"NULL": True}, {"M": {}}]}}},
                "list": {"L": [{"S": ""}, {"N": "1"}, {"BS": [b"z"]}, {"L": []}]},
                "bool": {"BOOL": False},
            }
        },
    }


def _create_every_type_table(session: LocalSession, name: str, engine: str | None, items: int) -> None:
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "B"},
        ],
        BillingMode="PAY_PER_REQUEST",
        Tags=[{"Key": "hippolyte:engine", "Value": engine}] if engine else [],
    )
    if engine == "export":
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    rng = random.Random(name)
    for number in range(items):
        dynamodb.put_item(TableName=name, Item=_every_type_item(number, rng))


def _restore(session: LocalSession, table: str, target: str, name: str, **options: Any) -> ExecutionResult:
    return session.run(
        {"table": table, "target": target, "poll_seconds": 120, **options},
        machine="RestoreStateMachine",
        name=name,
        timeout=120,
    )


def _place_backup(session: LocalSession, table: str, body: bytes, items: int) -> str:
    """A verified Data Pipeline backup of ``table`` whose one data file is ``body``; returns its URI.

    The directory holds what the export tool leaves (the data file, its manifest in the tool's own
    layout, _SUCCESS) and Hippolyte's manifest with the schema of ``fixture.KEY_SCHEMA``.
    """
    s3, bucket = session.client("s3"), session.stack.bucket
    directory = output_directory(bucket, table, PLACED_AT)
    prefix = directory.removeprefix(f"s3://{bucket}/")
    data_key = prefix + "0a8b6f61-3c4d-4e5f-8a9b-0c1d2e3f4a5b"
    etag = s3.put_object(Bucket=bucket, Key=data_key, Body=body)["ETag"].strip('"')
    # ExportManifestRecordWriter: the header without its brace, ",\n", then the entries.
    manifest = (
        '{"name":"DynamoDB-export","version":3,\n"entries": [\n'
        f'{{"url":"s3://{bucket}/{data_key}","mandatory":true}}\n]}}'
    )
    s3.put_object(Bucket=bucket, Key=prefix + "manifest", Body=manifest.encode())
    s3.put_object(Bucket=bucket, Key=prefix + "_SUCCESS", Body=b"")
    schema = TableSchema(
        name=table,
        key_schema=[KeyElement(attribute_name=name, key_type=key) for name, _, key in fixture.KEY_SCHEMA],
        attribute_definitions=[
            AttributeDefinition(attribute_name=name, attribute_type=kind) for name, kind, _ in fixture.KEY_SCHEMA
        ],
        throughput=Throughput(read_capacity_units=5, write_capacity_units=5),
    )
    facts = BackupFacts(
        time=PLACED_AT,
        run_id="placed-by-test",
        engine="datapipeline",
        items=items,
        bytes=len(body),
        location=directory,
        data_files=[DataFile(key=data_key, size=len(body), etag=etag)],
        required_files=[prefix + "_SUCCESS", prefix + "manifest"],
        verified=True,
        verified_at=PLACED_AT,
    )
    s3.put_object(
        Bucket=bucket,
        Key=manifest_key(table, PLACED_AT),
        Body=BackupManifest(table=schema, backup=facts).model_dump_json().encode(),
    )
    return directory


@pytest.fixture(scope="module")
def backed_up() -> Iterator[LocalSession]:
    """A stack whose nightly run backed up a table of every attribute type with each engine."""
    with local_session(parameters=TEST_PARAMETERS) as session:
        _create_every_type_table(session, PIPELINE_TABLE, None, 40)
        _create_every_type_table(session, EXPORT_TABLE, "export", 40)
        result = session.run({"poll_seconds": 120}, name="nightly", timeout=120)
        assert result.status == "SUCCEEDED", (result.error, result.cause)
        yield session


def _backup_directory(session: LocalSession, table: str) -> str:
    keys = [
        o["Key"]
        for o in session.client("s3").list_objects_v2(Bucket=session.stack.bucket, Prefix=f"{table}/")["Contents"]
    ]
    (stamp,) = {key.split("/")[1] for key in keys}
    return f"s3://{session.stack.bucket}/{table}/{stamp}/"


def test_a_data_file_written_as_dynamodbexport_4_11_0_writes_it_is_restored_attribute_for_attribute(
    backed_up: LocalSession,
) -> None:
    # GIVEN a verified backup whose data file is the hand-written DynamoDBExport 4.11.0 fixture
    directory = _place_backup(backed_up, "fixture-source", fixture.DATA_FILE.read_bytes(), len(fixture.ITEMS))

    # WHEN it is restored into a new table by the restore state machine (import pipeline)
    result = _restore(backed_up, "fixture-source", "fixture-restored", "restore-fixture", backup=directory)

    # THEN the import went through, and the table holds exactly the fixture's items, attribute for attribute
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ImportData" in result.state_names and "VerifyItemCount" in result.state_names
    restored = {item["pk"]["S"]: item for item in table_items(backed_up.client("dynamodb"), "fixture-restored")}
    assert sorted(restored) == sorted(item["pk"]["S"] for item in fixture.ITEMS)
    for expected in fixture.ITEMS:
        got = restored[expected["pk"]["S"]]
        assert sorted(got) == sorted(expected), expected["pk"]
        for name, value in expected.items():
            assert got[name] == value, (expected["pk"], name)


def test_a_table_of_every_attribute_type_is_backed_up_as_dynamodbexport_lines_and_restored(
    backed_up: LocalSession,
) -> None:
    # GIVEN the nightly Data Pipeline backup of a table with binary keys and every attribute type
    dynamodb, s3 = backed_up.client("dynamodb"), backed_up.client("s3")
    directory = _backup_directory(backed_up, PIPELINE_TABLE)
    # THEN its data lines are the export tool's: Gson's field names, binary in base64
    bucket, _, prefix = directory.removeprefix("s3://").partition("/")
    data_keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"]
        if o["Key"].rsplit("/", 1)[1] not in ("_SUCCESS", "manifest", "hippolyte-manifest.json")
    ]
    body = b"".join(s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in data_keys)
    assert b'"sk":{"b":"' in body and b'"bS":["AA==",' in body and b'"nULLValue":true' in body
    assert b'{"S":' not in body and b'{"B":' not in body
    assert same_items(parse_data_file(body), table_items(dynamodb, PIPELINE_TABLE))
    assert same_items(backup_items(s3, directory), table_items(dynamodb, PIPELINE_TABLE))

    # WHEN it is restored into a new table
    result = _restore(backed_up, PIPELINE_TABLE, "every-type-dp-restored", "restore-every-type-dp")

    # THEN the new table holds exactly the original's items, binary keys and values included
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ImportData" in result.state_names
    assert same_items(table_items(dynamodb, PIPELINE_TABLE), table_items(dynamodb, "every-type-dp-restored"))


def test_a_native_export_of_every_attribute_type_holds_binary_in_base64_and_is_restored(
    backed_up: LocalSession,
) -> None:
    # GIVEN the nightly native export of a table with binary keys and every attribute type
    dynamodb, s3 = backed_up.client("dynamodb"), backed_up.client("s3")
    directory = _backup_directory(backed_up, EXPORT_TABLE)
    # THEN its data files hold DynamoDB JSON with binary as base64 text, and every item
    assert same_items(export_items(s3, directory), table_items(dynamodb, EXPORT_TABLE))
    bucket, _, prefix = directory.removeprefix("s3://").partition("/")
    data_key = next(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["Contents"] if "/data/" in o["Key"]
    )
    first = gzip.decompress(s3.get_object(Bucket=bucket, Key=data_key)["Body"].read()).decode().splitlines()[0]
    assert '"sk": {"B": "' in first and '"chunks": {"BS": ["AA==", ' in first
    assert item_from_export_line(first) in table_items(dynamodb, EXPORT_TABLE)

    # WHEN it is restored (ImportTable)
    result = _restore(backed_up, EXPORT_TABLE, "every-type-ex-restored", "restore-every-type-ex")

    # THEN the new table holds exactly the original's items
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ImportTable" in result.state_names
    assert same_items(table_items(dynamodb, EXPORT_TABLE), table_items(dynamodb, "every-type-ex-restored"))


def test_a_backup_in_standard_dynamodb_json_fails_its_import_as_dynamodbimport_would(
    backed_up: LocalSession,
) -> None:
    # GIVEN a backup marked verified whose data line is standard DynamoDB JSON, which the export
    # tool never writes and DynamoDBImport reads as attribute values with no type
    body = b'{"pk": {"S": "standard"}, "sk": {"N": "1"}}\n'
    directory = _place_backup(backed_up, "standard-json", body, 1)

    # WHEN it is restored
    result = _restore(backed_up, "standard-json", "standard-json-restored", "restore-standard-json", backup=directory)

    # THEN the import pipeline fails, and the restore says so
    assert result.status == "FAILED"
    assert result.error == "RestoreImportFailedError", (result.error, result.cause)
    errors = [error for errors in backed_up.emr.errors.values() for error in errors]
    assert any("an attribute value needs exactly one of s, n, b" in error and "found S" in error for error in errors)
