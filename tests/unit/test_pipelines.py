"""Data Pipeline definitions for one batch, read the way AWS and the EMR export tool read them.

The definition is what runs on EMR: a wrong ref, path or step string fails a table's backup, and a
read percentage rounded up takes capacity from the application.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hippolyte.capacity import safe_read_percent
from hippolyte.models import Batch, PlannedTable
from hippolyte.pipelines import (
    ClusterSettings,
    build_pipeline_objects,
    objects_by_id,
    output_directory,
    pipeline_unique_id,
)
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)
STARTED = datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC)
JAR = "s3://dynamodb-dpl-eu-west-1/emr-ddb-storage-handler/4.11.0/emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar"
CLUSTER = ClusterSettings(region="eu-west-1", jar=JAR)


def planned(name: str, percent: float = 0.5) -> PlannedTable:
    return PlannedTable(
        name=name,
        size_bytes=2**30,
        original_read_capacity_units=100,
        read_capacity_units=100,
        read_throughput_percent=percent,
        estimated_seconds=600,
    )


def batch_of(count: int, batch_id: str = "b0001") -> Batch:
    return Batch(
        id=batch_id,
        estimated_seconds=600 * count,
        tables=[planned(f"table-{index:03d}") for index in range(count)],
    )


def of_type(objects: list[dict], kind: str) -> list[dict]:
    return [fields for fields in objects_by_id(objects).values() if fields.get("type") == kind]


def exports_by_table(objects: list[dict]) -> dict[str, tuple[dict, dict, dict]]:
    """Each table's (source, activity, output), found by following the activity's refs."""
    by_id = objects_by_id(objects)
    found = {}
    for fields in by_id.values():
        if fields.get("type") == "EmrActivity":
            source, output = by_id[fields["input"]["ref"]], by_id[fields["output"]["ref"]]
            found[source["tableName"]] = (source, fields, output)
    return found


# --------------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------------


def test_a_batch_is_one_default_one_cluster_and_three_objects_per_table():
    # GIVEN a batch of 5 tables
    # WHEN its definition is built
    objects = build_pipeline_objects(batch_of(5), "backups", STARTED, CLUSTER)
    # THEN it has a Default, one EmrCluster, and a source, activity and output per table
    by_id = objects_by_id(objects)
    assert len(objects) == 5 * 3 + 2
    assert by_id["Default"]["scheduleType"] == "ONDEMAND"
    assert len(of_type(objects, "EmrCluster")) == 1
    for kind in ("DynamoDBDataNode", "EmrActivity", "S3DataNode"):
        assert len(of_type(objects, kind)) == 5
    # AND every table is exported, each by its own activity
    assert sorted(exports_by_table(objects)) == [f"table-{index:03d}" for index in range(5)]
    # AND object ids are unique
    assert len(by_id) == len(objects)


def test_thirty_two_tables_fit_data_pipelines_object_limit():
    # GIVEN the largest batch the seed allows (32 x 3 + 2 = 98 objects)
    # WHEN its definition is built
    objects = build_pipeline_objects(batch_of(32), "backups", STARTED, CLUSTER)
    # THEN it stays within Data Pipeline's 100 objects per pipeline
    assert len(objects) <= 100


def test_thirty_three_tables_are_refused_before_aws_refuses_them():
    # GIVEN a batch one table too large
    # WHEN its definition is built
    # THEN it is a ValueError naming the batch, not a definition AWS would reject at night
    with pytest.raises(ValueError, match="b0001"):
        build_pipeline_objects(batch_of(33), "backups", STARTED, CLUSTER)


@PROPERTY
@given(count=st.integers(min_value=1, max_value=32))
def test_every_ref_points_to_an_object_of_the_definition(count):
    # GIVEN any batch size
    objects = build_pipeline_objects(batch_of(count), "backups", STARTED, CLUSTER)
    ids = {obj["id"] for obj in objects}
    # THEN every refValue names an object of the same definition
    refs = [field["refValue"] for obj in objects for field in obj["fields"] if "refValue" in field]
    assert refs
    assert set(refs) <= ids
    # AND every field has exactly one value, never empty (AWS rejects empty values)
    for obj in objects:
        assert obj["name"]
        assert len(obj["fields"]) <= 50
        for field in obj["fields"]:
            assert ("stringValue" in field) != ("refValue" in field)
            assert field.get("stringValue", field.get("refValue"))


def test_activities_run_on_the_cluster_and_do_not_depend_on_each_other():
    # GIVEN a batch of 3 tables
    objects = build_pipeline_objects(batch_of(3), "backups", STARTED, CLUSTER)
    by_id = objects_by_id(objects)
    cluster_id = next(id_ for id_, fields in by_id.items() if fields.get("type") == "EmrCluster")
    # THEN each activity runs on the one cluster, and none waits for another (a failed table
    # must not cascade to the rest of the batch)
    for fields in of_type(objects, "EmrActivity"):
        assert fields["runsOn"] == {"ref": cluster_id}
        assert "dependsOn" not in fields


# --------------------------------------------------------------------------------------------
# Where the files go, and the export step
# --------------------------------------------------------------------------------------------


def test_each_table_writes_to_its_own_timestamped_directory():
    # GIVEN a run started at 2026-11-28 00:10:05 UTC
    objects = build_pipeline_objects(batch_of(3), "backups", STARTED, CLUSTER)
    # THEN each table's output is s3://bucket/<table>/<YYYY-MM-DD-HH-MM-SS>/
    for table, (_, _, output) in exports_by_table(objects).items():
        assert output["type"] == "S3DataNode"
        assert output["directoryPath"] == f"s3://backups/{table}/2026-11-28-00-10-05/"
        assert output["directoryPath"] == output_directory("backups", table, STARTED)


def test_directory_names_follow_the_documented_format():
    # GIVEN any start time
    # WHEN the directory is derived
    path = output_directory("backups", "orders", datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC))
    # THEN it is <table>/<YYYY-MM-DD-HH-MM-SS>/ with a trailing slash (no prefix clash with orders-archive)
    assert re.fullmatch(r"s3://backups/orders/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}/", path)
    assert path.endswith("2027-01-02-03-04-05/")


def test_the_step_runs_the_export_tool_with_the_nodes_expressions():
    # GIVEN a batch's definition
    objects = build_pipeline_objects(batch_of(2), "backups", STARTED, CLUSTER)
    for _, activity, _ in exports_by_table(objects).values():
        # THEN the step is <jar>,<DynamoDBExport>,<output dir>,<table>,<percent>
        assert activity["step"].split(",") == [
            JAR,
            "org.apache.hadoop.dynamodb.tools.DynamoDBExport",
            "#{output.directoryPath}",
            "#{input.tableName}",
            "#{input.readThroughputPercent}",
        ]


def test_the_plans_percent_is_used_unless_overridden_per_table():
    # GIVEN a batch planned at 0.5 and an override for one table
    batch = Batch(id="b0001", estimated_seconds=1, tables=[planned("orders", 0.5), planned("customers", 0.5)])
    # WHEN the definition is built
    objects = build_pipeline_objects(batch, "backups", STARTED, CLUSTER, {"orders": 0.25})
    exports = exports_by_table(objects)
    # THEN the overridden table reads at its own percent, the other at the plan's
    assert float(exports["orders"][0]["readThroughputPercent"]) == pytest.approx(0.25)
    assert float(exports["customers"][0]["readThroughputPercent"]) == pytest.approx(0.5)


@PROPERTY
@given(original=st.integers(1, 40_000), extra=st.integers(1, 40_000))
def test_the_written_percent_never_exceeds_the_safe_one(original, extra):
    # GIVEN a boosted table and the percent safe for its capacity (application keeps its original)
    current = original + extra
    safe = safe_read_percent(original, current, 1.0, 0.5)
    batch = Batch(id="b0001", estimated_seconds=1, tables=[planned("orders", 1.0)])
    # WHEN the definition is built with that percent
    objects = build_pipeline_objects(batch, "backups", STARTED, CLUSTER, {"orders": safe})
    written = float(exports_by_table(objects)["orders"][0]["readThroughputPercent"])
    # THEN the value the export tool reads is never rounded up past the safe percent
    assert written <= safe
    # AND it is never rounded down to nothing (the export would never finish)
    assert written > 0


def test_subnet_only_when_set():
    # GIVEN the default cluster (no subnet) and one with a subnet
    without = objects_by_id(build_pipeline_objects(batch_of(1), "b", STARTED, CLUSTER))
    with_subnet = objects_by_id(
        build_pipeline_objects(
            batch_of(1), "b", STARTED, ClusterSettings(region="eu-west-1", jar=JAR, subnet_id="subnet-0abc")
        )
    )
    # THEN the cluster names a subnet only when one is configured (an empty value is invalid)
    assert "subnetId" not in next(f for f in without.values() if f.get("type") == "EmrCluster")
    assert next(f for f in with_subnet.values() if f.get("type") == "EmrCluster")["subnetId"] == "subnet-0abc"


def test_cluster_settings_reach_the_definition():
    # GIVEN a configured cluster
    cluster = ClusterSettings(
        region="us-west-2",
        jar=JAR,
        release_label="emr-6.15.0",
        master_instance_type="m5.large",
        core_instance_type="r5.xlarge",
        core_instance_count=3,
        terminate_after_hours=9,
        role="MyRole",
        resource_role="MyResourceRole",
    )
    # WHEN a definition is built
    by_id = objects_by_id(build_pipeline_objects(batch_of(1), "backups", STARTED, cluster))
    emr = next(f for f in by_id.values() if f.get("type") == "EmrCluster")
    # THEN every setting is in it, and the cluster terminates itself
    assert (emr["releaseLabel"], emr["region"], emr["masterInstanceType"], emr["coreInstanceType"]) == (
        "emr-6.15.0",
        "us-west-2",
        "m5.large",
        "r5.xlarge",
    )
    assert emr["coreInstanceCount"] == "3"
    assert emr["terminateAfter"] == "9 Hours"
    assert (by_id["Default"]["role"], by_id["Default"]["resourceRole"]) == ("MyRole", "MyResourceRole")
    assert by_id["Default"]["pipelineLogUri"] == "s3://backups/runs/2026-11-28-00-10-05/logs/"


# --------------------------------------------------------------------------------------------
# Idempotency key
# --------------------------------------------------------------------------------------------

run_ids = st.from_regex(r"[A-Za-z0-9\-_]{1,80}", fullmatch=True)
batch_ids = st.integers(1, 99_999).map(lambda n: f"b{n:04d}")


@PROPERTY
@given(run=run_ids, batch=batch_ids)
def test_unique_id_is_stable_for_a_run_and_batch(run, batch):
    # GIVEN a retried CreatePipelines iteration
    # WHEN its uniqueId is derived again
    # THEN it is the same (Data Pipeline returns the same pipeline, never a second one)
    assert pipeline_unique_id(run, batch) == pipeline_unique_id(run, batch)
    assert len(pipeline_unique_id(run, batch)) <= 1024


@PROPERTY
@given(run=run_ids, other_run=run_ids, batches=st.lists(batch_ids, min_size=2, max_size=2, unique=True))
def test_unique_ids_differ_across_batches_and_runs(run, other_run, batches):
    # GIVEN two batches of a run, and the same batch in another run
    first, second = batches
    # THEN each batch gets its own pipeline
    assert pipeline_unique_id(run, first) != pipeline_unique_id(run, second)
    # AND a later run never gets an earlier run's pipeline back
    if run != other_run:
        assert pipeline_unique_id(run, first) != pipeline_unique_id(other_run, first)
