"""Restore decisions: the restore's input, which backup is chosen, and the import's capacity."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hippolyte.backup_manifest import Throughput
from hippolyte.errors import BackupNotFoundError
from hippolyte.pipelines import IMPORT_TOOL_CLASS, ClusterSettings, objects_by_id
from hippolyte.restore_models import BackupListing, CapacitySpec, RestoreRequest, parse_restore_time
from hippolyte.restore_plan import (
    choose_backup,
    import_capacity,
    import_pipeline_objects,
    split_backup_uri,
    update_table_capacity,
)
from pydantic import ValidationError


def at(day: int, hour: int = 0, minute: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def backup(day: int, verified: bool = True, problem: str | None = None, engine: str = "datapipeline") -> BackupListing:
    return BackupListing(
        table="orders",
        time=at(day),
        location=f"s3://b/orders/2026-11-{day:02d}-00-10-00/",
        engine=engine,
        verified=verified,
        problem=problem,
        items=10,
        bytes=100,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T00:10:00Z", at(28)),
        ("2026-11-28T02:10:00+02:00", at(28)),
        ("2026-11-28T00:10:00", at(28)),
        ("2026-11-28-00-10-00", at(28)),
        ("2026-11-28", at(28, 23, 59).replace(second=59)),
        ("latest", None),
    ],
)
def test_restore_times_accept_the_forms_a_person_types(text: str, expected: datetime | None) -> None:
    assert parse_restore_time(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "28/11/2026", "2026-13-01", ""])
def test_a_bad_time_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time: use 2026-11-28T00:10:00Z"):
        parse_restore_time(text)


def test_the_restore_input_refuses_both_a_time_and_a_backup_and_a_bad_uri() -> None:
    # GIVEN inputs a person might get wrong
    # THEN each is refused, naming the field
    with pytest.raises(ValidationError, match="either at or backup"):
        RestoreRequest(table="orders", target="orders-2", at="2026-11-28", backup="s3://b/orders/x/")
    with pytest.raises(ValidationError, match="backup"):
        RestoreRequest(table="orders", target="orders-2", backup="orders/2026-11-28-00-10-00")
    with pytest.raises(ValidationError, match="target"):
        RestoreRequest(table="orders", target="o")
    # AND a good one is normalised: the directory URI ends with a slash
    assert RestoreRequest(table="orders", target="orders-2", backup="s3://b/orders/2026-11-28-00-10-00").backup == (
        "s3://b/orders/2026-11-28-00-10-00/"
    )


def test_the_latest_verified_backup_at_or_before_the_time_is_chosen() -> None:
    # GIVEN three nights of backups, the newest incomplete
    backups = [backup(26), backup(27), backup(28, verified=False, problem="_SUCCESS is missing")]
    # THEN "latest" skips the incomplete one, and a time picks the newest not after it
    assert choose_backup("orders", backups, None).time == at(27)
    assert choose_backup("orders", backups, at(26, 23)).time == at(26)
    assert choose_backup("orders", backups, at(27)).time == at(27)


def test_no_backup_before_the_time_or_none_verified_is_a_clear_error() -> None:
    # GIVEN backups from the 26th on, and one damaged on the 28th
    backups = [backup(26), backup(28, verified=False, problem="data file x changed (checksum mismatch)")]
    # THEN asking for an earlier time names the time
    with pytest.raises(BackupNotFoundError, match="no backup of table orders at or before 2026-11-25"):
        choose_backup("orders", backups, at(25))
    # AND when only a damaged one fits, the error says why it cannot be used
    with pytest.raises(BackupNotFoundError, match="checksum mismatch"):
        choose_backup("orders", [backups[1]], None)


def test_a_backup_uri_names_bucket_table_and_directory() -> None:
    assert split_backup_uri("s3://b/orders/2026-11-28-00-10-00/") == ("b", "orders", "2026-11-28-00-10-00")
    with pytest.raises(ValueError, match="is not a backup directory"):
        split_backup_uri("s3://b/orders/")


def test_the_import_capacity_finishes_within_the_hour_without_passing_the_table_maximum() -> None:
    final = CapacitySpec(
        table=Throughput(read_capacity_units=5, write_capacity_units=5),
        indexes={"by-group": Throughput(read_capacity_units=2, write_capacity_units=5)},
    )
    # GIVEN 10 million items of 2.5 KB (3 write units each) to import
    raised = import_capacity(final, items=10_000_000, size_bytes=25_000_000_000)
    # THEN writes are raised for about an hour's import, on the table and its index alike
    assert raised.table.write_capacity_units == 9260  # ceil(30,000,000 / 3600 / 0.9)
    assert raised.indexes["by-group"].write_capacity_units == 9260
    # AND reads for the count after it, while the index keeps its own reads
    assert raised.table.read_capacity_units == 5087  # ceil(25e9 / 8192 / 600)
    assert raised.indexes["by-group"].read_capacity_units == 2
    # AND a huge table stops at the per-table maximum, a tiny one keeps its own capacity
    assert import_capacity(final, items=10**10, size_bytes=10**13).table.write_capacity_units == 40_000
    assert import_capacity(final, items=3, size_bytes=300) == final


def test_an_on_demand_target_needs_no_capacity_change() -> None:
    on_demand = CapacitySpec(billing_mode="PAY_PER_REQUEST")
    assert import_capacity(on_demand, items=10**9, size_bytes=10**12) == on_demand
    assert update_table_capacity(on_demand, on_demand) is None


def test_capacity_changes_go_in_one_update_table_call() -> None:
    live = CapacitySpec(
        table=Throughput(read_capacity_units=500, write_capacity_units=900),
        indexes={"g": Throughput(read_capacity_units=2, write_capacity_units=900)},
    )
    final = CapacitySpec(
        table=Throughput(read_capacity_units=5, write_capacity_units=5),
        indexes={"g": Throughput(read_capacity_units=2, write_capacity_units=5)},
    )
    assert update_table_capacity(live, final) == {
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        "GlobalSecondaryIndexUpdates": [
            {"Update": {"IndexName": "g", "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 5}}}
        ],
    }


def test_the_import_pipeline_runs_dynamodbimport_from_the_backup_into_the_target() -> None:
    # GIVEN the import pipeline for one backup
    cluster = ClusterSettings(region="eu-west-1", subnet_id="subnet-1", jar="s3://dynamodb-dpl-eu-west-1/tools.jar")
    objects = objects_by_id(
        import_pipeline_objects(
            "s3://b/orders/2026-11-28-00-10-00/", "orders-restored", "s3://b/logs/restore-r1/", cluster
        )
    )
    # THEN its activity reads the S3 directory into the target table on the EMR cluster
    activity = objects["Import"]
    assert activity["type"] == "EmrActivity"
    assert (activity["input"], activity["output"], activity["runsOn"]) == (
        {"ref": "Backup"},
        {"ref": "Target"},
        {"ref": "Cluster"},
    )
    assert activity["step"] == (
        f"s3://dynamodb-dpl-eu-west-1/tools.jar,{IMPORT_TOOL_CLASS},#{{input.directoryPath}},"
        "#{output.tableName},#{output.writeThroughputPercent}"
    )
    assert objects["Backup"] == {"type": "S3DataNode", "directoryPath": "s3://b/orders/2026-11-28-00-10-00/"}
    assert objects["Target"]["tableName"] == "orders-restored"
    assert objects["Cluster"]["subnetId"] == "subnet-1"
    assert objects["Default"]["scheduleType"] == "ONDEMAND"
