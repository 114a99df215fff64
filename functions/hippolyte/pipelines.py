"""AWS Data Pipeline definitions for one batch: pure builders, no AWS calls.

One pipeline per batch: a ``Default`` object, one ``EmrCluster``, and for each table a
``DynamoDBDataNode`` -> ``EmrActivity`` -> ``S3DataNode`` chain. The activities share the
cluster, and EMR runs a cluster's steps one at a time, so its tables are exported one after
another. The activities deliberately do not depend on each other: with ``CASCADE`` failure mode a
dependency would fail every later table of the batch when one table fails.

Limits (AWS Data Pipeline default quotas, docs "AWS Data Pipeline Limits"): 100 objects per
pipeline (3 per table + 2, so 32 tables at most) and 50 fields per object.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from hippolyte.models import Batch, PlannedTable

MAX_OBJECTS_PER_PIPELINE = 100  # AWS Data Pipeline default limit
OBJECTS_PER_TABLE = 3
EXPORT_TOOL_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBExport"
IMPORT_TOOL_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBImport"
TIMESTAMP_FORMAT = "%Y-%m-%d-%H-%M-%S"


class ClusterSettings(BaseModel):
    """What the EMR cluster of every pipeline looks like."""

    model_config = ConfigDict(frozen=True)

    region: str
    subnet_id: str = ""
    release_label: str = "emr-5.23.0"
    master_instance_type: str = "m5.xlarge"
    core_instance_type: str = "m5.xlarge"
    core_instance_count: int = 1
    jar: str
    role: str = "DataPipelineDefaultRole"
    resource_role: str = "DataPipelineDefaultResourceRole"
    # The cluster terminates itself after this long, whatever happens (the window plus a margin),
    # so a stuck export never leaves a bill running.
    terminate_after_hours: int = 8
    maximum_retries: int = 2


def backup_timestamp(started_at: datetime) -> str:
    """The run's directory name, as the 2017 tool formatted @scheduledStartTime.

    >>> from datetime import datetime, timezone
    >>> backup_timestamp(datetime(2026, 11, 28, 0, 10, 5, tzinfo=timezone.utc))
    '2026-11-28-00-10-05'
    """
    return started_at.strftime(TIMESTAMP_FORMAT)


def output_directory(bucket: str, table: str, started_at: datetime) -> str:
    """Where one table's backup of one run goes: ``s3://<bucket>/<table>/<timestamp>/``.

    >>> from datetime import datetime, timezone
    >>> output_directory("b", "orders", datetime(2026, 11, 28, 0, 10, tzinfo=timezone.utc))
    's3://b/orders/2026-11-28-00-10-00/'
    """
    return f"s3://{bucket}/{table}/{backup_timestamp(started_at)}/"


def pipeline_unique_id(run_id: str, batch_id: str) -> str:
    """CreatePipeline's idempotency key: a retried state gets the same pipeline back.

    >>> pipeline_unique_id("nightly-2026-11-28", "b0001")
    'hippolyte-nightly-2026-11-28-b0001'
    """
    return f"hippolyte-{run_id}-{batch_id}"[:1024]


def percent_field(percent: float) -> str:
    """The percentage as the definition's string, rounded down: rounding up would let the export
    take a sliver of the application's own capacity.

    >>> percent_field(0.9677419)
    '0.967741'
    """
    return f"{math.floor(percent * 1_000_000) / 1_000_000:.6f}"


def _field(key: str, value: str | int | float) -> dict[str, str]:
    return {"key": key, "stringValue": str(value)}


def _ref(key: str, object_id: str) -> dict[str, str]:
    return {"key": key, "refValue": object_id}


def _object(object_id: str, name: str, fields: list[dict[str, str]]) -> dict[str, Any]:
    return {"id": object_id, "name": name, "fields": fields}


def _table_objects(
    position: int, table: PlannedTable, read_percent: float, directory: str, cluster: ClusterSettings
) -> list[dict[str, Any]]:
    source, activity, target = f"Source{position}", f"Export{position}", f"Output{position}"
    step = ",".join(
        (
            cluster.jar,
            EXPORT_TOOL_CLASS,
            "#{output.directoryPath}",
            "#{input.tableName}",
            "#{input.readThroughputPercent}",
        )
    )
    activity_fields = [
        _field("type", "EmrActivity"),
        _ref("input", source),
        _ref("output", target),
        _ref("runsOn", "Cluster"),
        _field("maximumRetries", cluster.maximum_retries),
        _field("step", step),
    ]
    return [
        _object(
            source,
            f"{table.name} (DynamoDB)",
            [
                _field("type", "DynamoDBDataNode"),
                _field("tableName", table.name),
                _field("readThroughputPercent", percent_field(read_percent)),
            ],
        ),
        _object(activity, f"Export {table.name}", activity_fields),
        _object(
            target,
            f"{table.name} (S3)",
            [
                _field("type", "S3DataNode"),
                _field("directoryPath", directory),
            ],
        ),
    ]


def pipeline_frame(cluster: ClusterSettings, log_uri: str) -> list[dict[str, Any]]:
    """The ``Default`` object and the one ``EmrCluster`` every pipeline (export or import) has."""
    cluster_fields = [
        _field("type", "EmrCluster"),
        _field("releaseLabel", cluster.release_label),
        _field("region", cluster.region),
        _field("masterInstanceType", cluster.master_instance_type),
        _field("coreInstanceType", cluster.core_instance_type),
        _field("coreInstanceCount", cluster.core_instance_count),
        _field("terminateAfter", f"{cluster.terminate_after_hours} Hours"),
    ]
    if cluster.subnet_id:
        cluster_fields.append(_field("subnetId", cluster.subnet_id))
    return [
        _object(
            "Default",
            "Default",
            [
                _field("scheduleType", "ONDEMAND"),
                _field("failureAndRerunMode", "CASCADE"),
                _field("role", cluster.role),
                _field("resourceRole", cluster.resource_role),
                _field("pipelineLogUri", log_uri),
            ],
        ),
        _object("Cluster", "EmrCluster", cluster_fields),
    ]


def build_pipeline_objects(
    batch: Batch,
    bucket: str,
    started_at: datetime,
    cluster: ClusterSettings,
    read_percent_by_table: dict[str, float] | None = None,
    log_uri: str | None = None,
) -> list[dict[str, Any]]:
    """The ``pipelineObjects`` of PutPipelineDefinition for one batch.

    ``read_percent_by_table`` overrides the plan's percentage per table with what is safe for
    the capacity the table really has when the pipeline is created (see capacity.py).
    """
    if len(batch.tables) * OBJECTS_PER_TABLE + 2 > MAX_OBJECTS_PER_PIPELINE:
        raise ValueError(f"batch {batch.id} has {len(batch.tables)} tables: over Data Pipeline's object limit")
    overrides = read_percent_by_table or {}
    # Logs go under the run's own prefix: `logs/<timestamp>/` would be the backup directory of a
    # table named "logs".
    objects = pipeline_frame(cluster, log_uri or f"s3://{bucket}/runs/{backup_timestamp(started_at)}/logs/")
    for position, table in enumerate(batch.tables, start=1):
        percent = overrides.get(table.name, table.read_throughput_percent)
        directory = output_directory(bucket, table.name, started_at)
        objects.extend(_table_objects(position, table, percent, directory, cluster))
    return objects


def objects_by_id(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A definition's objects as ``{id: {key: value}}``; refs are kept as ``{"ref": id}``.

    Used by the local EMR emulation and by tests, which read definitions the way AWS does.
    """
    result: dict[str, dict[str, Any]] = {}
    for obj in objects:
        fields: dict[str, Any] = {}
        for field in obj["fields"]:
            fields[field["key"]] = {"ref": field["refValue"]} if "refValue" in field else field["stringValue"]
        result[obj["id"]] = fields
    return result
