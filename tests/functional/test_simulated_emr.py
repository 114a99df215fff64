"""The simulated EMR of the night at scale: each table's step ends when the export tool's rate says.

A pipeline of two tables is activated on a clock that stands still; the emulation is then caught
up at chosen moments, and Data Pipeline's objects and the backup directories are read back as
CheckPipelines reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hippolyte.adapters.backup_files import inspect_backup
from hippolyte.models import Batch, PlannedTable, PlannerSettings
from hippolyte.pipelines import ClusterSettings, build_pipeline_objects, output_directory
from hippolyte_local import pipeline_runs
from hippolyte_local.simulated_emr import BYTES_PER_RCU_SECOND, SimulatedEmr
from hippolyte_local.simulated_time import SimulatedClock
from moto import mock_aws

START = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)
BUCKET = "backups"
GB = 1024**3
# 100 RCU at a share of 0.5: 50 RCU a second of 8 KB, so a GiB takes 2,621.44 s to read.
SIZES = {"first": 1 * GB, "second": 2 * GB}


def _planned(name: str) -> PlannedTable:
    return PlannedTable(
        name=name,
        size_bytes=SIZES[name],
        original_read_capacity_units=100,
        read_capacity_units=100,
        read_throughput_percent=0.5,
        estimated_seconds=1,
    )


@pytest.fixture
def account() -> Iterator[tuple[Any, SimulatedClock, str]]:
    """Two provisioned tables of 100 RCU, the backup bucket, and an activated pipeline of both."""
    clock = SimulatedClock(START)
    with mock_aws(), pipeline_runs.installed():
        pipeline_runs_clock = pipeline_runs.CLOCK
        pipeline_runs.CLOCK = clock
        try:
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            for name in SIZES:
                dynamodb.create_table(
                    TableName=name,
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 5},
                )
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
            datapipeline = boto3.client("datapipeline", region_name="us-east-1")
            pipeline_id = datapipeline.create_pipeline(name="b0001", uniqueId="b0001")["pipelineId"]
            batch = Batch(id="b0001", estimated_seconds=1, tables=[_planned("first"), _planned("second")])
            objects = build_pipeline_objects(
                batch, BUCKET, START, ClusterSettings(region="us-east-1", jar="s3://j/t.jar")
            )
            datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=objects)
            datapipeline.activate_pipeline(pipelineId=pipeline_id)
            yield datapipeline, clock, pipeline_id
        finally:
            pipeline_runs.CLOCK = pipeline_runs_clock


def _statuses(datapipeline: Any, pipeline_id: str) -> dict[str, str]:
    ids = datapipeline.query_objects(pipelineId=pipeline_id, sphere="INSTANCE")["ids"]
    objects = datapipeline.describe_objects(pipelineId=pipeline_id, objectIds=ids)["pipelineObjects"]
    found = {}
    for obj in objects:
        fields = {f["key"]: f.get("stringValue", f.get("refValue")) for f in obj["fields"]}
        found[str(fields["@componentParent"])] = str(fields["@status"])
    return found


def test_each_step_ends_when_its_tables_size_at_the_tools_rate_says(account: tuple[Any, SimulatedClock, str]) -> None:
    datapipeline, clock, pipeline_id = account
    settings = PlannerSettings()
    emr = SimulatedEmr("us-east-1", clock, SIZES, settings=settings)
    s3 = boto3.client("s3", region_name="us-east-1")
    read_first = SIZES["first"] / (50 * BYTES_PER_RCU_SECOND) + settings.activity_bootstrap_seconds
    read_second = SIZES["second"] / (50 * BYTES_PER_RCU_SECOND) + settings.activity_bootstrap_seconds
    first_ends = START + timedelta(seconds=settings.emr_bootstrap_seconds + read_first)

    # WHEN the clock is a second short of the cluster's bootstrap: nothing runs yet
    clock.set(START + timedelta(seconds=settings.emr_bootstrap_seconds - 1))
    emr.catch_up()
    assert _statuses(datapipeline, pipeline_id)["Cluster"] == "WAITING_ON_DEPENDENCIES"
    # WHEN it is a second short of the first table's end: the first step runs, the second waits
    clock.set(first_ends - timedelta(seconds=1))
    emr.catch_up()
    statuses = _statuses(datapipeline, pipeline_id)
    assert [statuses["Export1"], statuses["Export2"]] == ["RUNNING", "WAITING_FOR_RUNNER"]
    assert not inspect_backup(s3, output_directory(BUCKET, "first", START)).complete
    # WHEN the first table's time has passed: its files are there, complete, and the second runs
    clock.set(first_ends + timedelta(seconds=1))
    emr.catch_up()
    assert inspect_backup(s3, output_directory(BUCKET, "first", START)).complete
    assert emr.finished_tables == {"first": first_ends}
    # WHEN the second table's time has passed too: the cluster ends after both
    clock.set(first_ends + timedelta(seconds=read_second + 1))
    emr.catch_up()
    assert set(_statuses(datapipeline, pipeline_id).values()) == {"FINISHED"}
    assert inspect_backup(s3, output_directory(BUCKET, "second", START)).complete
    assert emr.cluster_seconds[pipeline_id] == pytest.approx(settings.emr_bootstrap_seconds + read_first + read_second)


def test_a_table_drawn_slow_takes_its_factor_longer_and_a_failed_one_leaves_no_marker(
    account: tuple[Any, SimulatedClock, str],
) -> None:
    datapipeline, clock, pipeline_id = account
    settings = PlannerSettings()
    emr = SimulatedEmr("us-east-1", clock, SIZES, slow_tables={"first": 3.0}, fail_tables={"second"}, settings=settings)
    reading = SIZES["first"] / (50 * BYTES_PER_RCU_SECOND)
    planned_end = START + timedelta(
        seconds=settings.emr_bootstrap_seconds + settings.activity_bootstrap_seconds + reading
    )
    clock.set(planned_end + timedelta(seconds=1))
    emr.catch_up()
    assert "first" not in emr.finished_tables
    clock.set(planned_end + timedelta(seconds=2 * reading + 1))
    emr.catch_up()
    assert "first" in emr.finished_tables
    clock.set(START + timedelta(days=1))
    emr.catch_up()
    statuses = _statuses(datapipeline, pipeline_id)
    assert [statuses["Export1"], statuses["Export2"], statuses["Output2"]] == ["FINISHED", "FAILED", "CASCADE_FAILED"]
    s3 = boto3.client("s3", region_name="us-east-1")
    assert not inspect_backup(s3, output_directory(BUCKET, "second", START)).complete
