"""Incomplete or damaged backups are never restored, whichever engine made them: through the real
backup and restore state machines, executed locally."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.verify import same_items, table_items

from tests.statemachine.fleet_support import TEST_PARAMETERS
from tests.statemachine.test_restore_roundtrip import EXPORT_TABLE, PIPELINE_TABLE, _item, create_source, restore


@pytest.fixture
def two_nights() -> Iterator[tuple[LocalSession, dict[str, list[dict[str, Any]]]]]:
    """Two nightly backups of one table per engine, the table changed between them."""
    with local_session(parameters=TEST_PARAMETERS) as session:
        create_source(session, PIPELINE_TABLE, 30, engine=None, on_demand=True, lsi=False)
        create_source(session, EXPORT_TABLE, 30, engine="export", on_demand=True, lsi=False)
        dynamodb = session.client("dynamodb")
        first = {name: table_items(dynamodb, name) for name in (PIPELINE_TABLE, EXPORT_TABLE)}
        assert session.run({"poll_seconds": 120}, name="night-1", timeout=120).status == "SUCCEEDED"
        for name in (PIPELINE_TABLE, EXPORT_TABLE):
            dynamodb.put_item(TableName=name, Item=_item(name, 999))
        time.sleep(1.1)  # backup directories are named to the second
        session.exports.corrupt_tables.add(EXPORT_TABLE)  # type: ignore[union-attr]
        second = session.run({"poll_seconds": 120}, name="night-2", timeout=120)
        assert second.status == "FAILED" and second.error == "TablesFailed"  # the export failed its checksum
        yield session, first


def test_an_incomplete_or_damaged_backup_is_never_chosen(
    two_nights: tuple[LocalSession, dict[str, list[dict[str, Any]]]],
) -> None:
    session, first = two_nights
    s3, bucket, dynamodb = session.client("s3"), session.stack.bucket, session.client("dynamodb")
    directories = sorted(
        {o["Key"].split("/")[1] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{PIPELINE_TABLE}/")["Contents"]}
    )
    assert len(directories) == 2
    older, newer = directories

    # GIVEN the newer Data Pipeline backup lost its _SUCCESS marker
    s3.delete_object(Bucket=bucket, Key=f"{PIPELINE_TABLE}/{newer}/_SUCCESS")
    # WHEN the latest backup is restored
    result = restore(session, PIPELINE_TABLE, "dp-latest", "restore-latest-dp", at="latest")
    # THEN the older, complete one was chosen: the new table holds the first night's items
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert same_items(table_items(dynamodb, "dp-latest"), first[PIPELINE_TABLE])

    # GIVEN the newer export failed its checksum when it was verified
    # WHEN the latest export is restored
    result = restore(session, EXPORT_TABLE, "ex-latest", "restore-latest-ex", at="latest")
    # THEN the first night's export was chosen
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert same_items(table_items(dynamodb, "ex-latest"), first[EXPORT_TABLE])

    # GIVEN the older Data Pipeline backup's data file was then changed in S3
    data = next(
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"{PIPELINE_TABLE}/{older}/")["Contents"]
        if o["Key"].rsplit("/", 1)[1] not in ("_SUCCESS", "manifest", "hippolyte-manifest.json")
    )
    s3.put_object(Bucket=bucket, Key=data, Body=b'{"sk":{"n":"1"},"pk":{"s":"forged"}}\n')
    # WHEN a restore is asked for, latest or by name
    latest = restore(session, PIPELINE_TABLE, "dp-none", "restore-none-dp", at="latest")
    named = restore(
        session, PIPELINE_TABLE, "dp-none", "restore-named-dp", backup=f"s3://{bucket}/{PIPELINE_TABLE}/{newer}/"
    )
    # THEN neither backup is restored: one changed since it was verified, the other is incomplete
    assert (latest.error, named.error) == ("BackupNotFoundError", "BackupNotFoundError")
    assert "checksum mismatch" in (latest.cause or "") and "_SUCCESS is missing" in (latest.cause or "")
    assert "_SUCCESS is missing" in (named.cause or "")
    assert "dp-none" not in dynamodb.list_tables()["TableNames"]
