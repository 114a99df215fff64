"""Restore decisions: which backup, what capacity during the import, and the import pipeline.

Pure: no AWS calls. The workflow steps in :mod:`hippolyte.workflow.restore` carry them out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from hippolyte.backup_manifest import TableSchema, Throughput
from hippolyte.errors import BackupNotFoundError
from hippolyte.pipelines import IMPORT_TOOL_CLASS, TIMESTAMP_FORMAT, ClusterSettings, pipeline_frame
from hippolyte.restore_models import BackupListing, CapacitySpec

# DynamoDB: one WCU writes 1 KB per second; one RCU reads 8 KB per second with eventually
# consistent reads (DynamoDB developer guide, "Read/write capacity mode").
WRITE_UNIT_BYTES = 1024
EVENTUAL_READ_BYTES_PER_RCU = 8192
# Default per-table maximum (DynamoDB service quotas, "Throughput default quotas").
TABLE_MAX_CAPACITY_UNITS = 40_000
# How long the import and the item count may take at the raised capacity.
IMPORT_TARGET_SECONDS = 3600
COUNT_TARGET_SECONDS = 600
# Share of the target's write capacity the EMR import tool may use: the new table has no other
# writers, but the import's own GSI writes and retries need room.
IMPORT_WRITE_PERCENT = 0.9
# A refusal names this many of the rejected backups, newest first, with why each was rejected.
MAX_REJECTED_SHOWN = 3


def timestamp_of(directory_name: str) -> datetime | None:
    """A backup directory's time, or None when the name is not one.

    >>> timestamp_of("2026-11-28-00-10-05").isoformat()
    '2026-11-28T00:10:05+00:00'
    >>> timestamp_of("manifest") is None
    True
    """
    try:
        return datetime.strptime(directory_name, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def split_backup_uri(uri: str) -> tuple[str, str, str]:
    """``s3://bucket/table/timestamp/`` as (bucket, table, timestamp directory name).

    >>> split_backup_uri("s3://b/orders/2026-11-28-00-10-05/")
    ('b', 'orders', '2026-11-28-00-10-05')
    """
    parts = uri.removeprefix("s3://").strip("/").split("/")
    if len(parts) != 3 or timestamp_of(parts[2]) is None:
        raise ValueError(f"{uri} is not a backup directory (s3://<bucket>/<table>/<YYYY-MM-DD-HH-MM-SS>/)")
    return parts[0], parts[1], parts[2]


def choose_backup(table: str, backups: Iterable[BackupListing], at: datetime | None) -> BackupListing:
    """The newest restorable backup at or before ``at`` (any time when None).

    Unverified or damaged backups are never chosen; when none fits, the error says what there was.

    >>> from datetime import datetime, timezone
    >>> t = lambda d: datetime(2026, 11, d, tzinfo=timezone.utc)
    >>> good = BackupListing(table="o", time=t(1), location="s3://b/o/1/", verified=True, engine="export")
    >>> bad = BackupListing(table="o", time=t(2), location="s3://b/o/2/", problem="_SUCCESS is missing")
    >>> choose_backup("o", [good, bad], None).location
    's3://b/o/1/'
    """
    candidates = sorted((b for b in backups if at is None or b.time <= at), key=lambda b: b.time, reverse=True)
    for backup in candidates:
        if backup.verified and backup.problem is None and backup.engine is not None:
            return backup
    when = f"at or before {at.isoformat()}" if at is not None else "at all"
    if not candidates:
        raise BackupNotFoundError(f"no backup of table {table} {when}")
    shown = "; ".join(f"{b.location} ({b.problem or 'not verified'})" for b in candidates[:MAX_REJECTED_SHOWN])
    more = f"; and {len(candidates) - MAX_REJECTED_SHOWN} older" if len(candidates) > MAX_REJECTED_SHOWN else ""
    raise BackupNotFoundError(f"no verified backup of table {table} {when}: {shown}{more}")


def capacity_of(schema: TableSchema) -> CapacitySpec:
    """The capacity a table restored from ``schema`` must end with: the original's."""
    return CapacitySpec(
        billing_mode=schema.billing_mode,
        table=schema.throughput,
        indexes={index.name: index.throughput for index in schema.global_secondary_indexes if index.throughput},
    )


def capacity_from_description(table: Mapping[str, Any]) -> CapacitySpec:
    """A live table's capacity (DescribeTable's ``Table``)."""
    if (table.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST":
        return CapacitySpec(billing_mode="PAY_PER_REQUEST")

    def throughput(source: Mapping[str, Any]) -> Throughput:
        values = source.get("ProvisionedThroughput") or {}
        return Throughput(
            read_capacity_units=values.get("ReadCapacityUnits", 0),
            write_capacity_units=values.get("WriteCapacityUnits", 0),
        )

    return CapacitySpec(
        table=throughput(table),
        indexes={index["IndexName"]: throughput(index) for index in table.get("GlobalSecondaryIndexes") or []},
    )


def import_capacity(
    final: CapacitySpec, items: int | None, size_bytes: int, max_units: int = TABLE_MAX_CAPACITY_UNITS
) -> CapacitySpec:
    """Capacity for the import (and the item count after it): enough to finish in about an hour.

    Writes: every item costs one WCU per started KB, on the table and on each global index;
    reads: one full scan to count the items in about ten minutes. Never below the final
    capacity, never above the per-table maximum. On-demand tables need nothing.

    >>> final = CapacitySpec(table=Throughput(read_capacity_units=5, write_capacity_units=5))
    >>> import_capacity(final, items=3_600_000, size_bytes=3_600_000 * 900).table.write_capacity_units
    1112
    >>> import_capacity(final, items=10, size_bytes=1000).table.write_capacity_units
    5
    """
    if final.billing_mode == "PAY_PER_REQUEST" or final.table is None:
        return final
    item_units = math.ceil(size_bytes / items / WRITE_UNIT_BYTES) if items else 1
    write_units = (items if items is not None else math.ceil(size_bytes / WRITE_UNIT_BYTES)) * item_units
    wcu = math.ceil(write_units / IMPORT_TARGET_SECONDS / IMPORT_WRITE_PERCENT)
    rcu = math.ceil(size_bytes / EVENTUAL_READ_BYTES_PER_RCU / COUNT_TARGET_SECONDS)

    def raised(original: Throughput, read: int) -> Throughput:
        return Throughput(
            read_capacity_units=min(max_units, max(original.read_capacity_units, read)),
            write_capacity_units=min(max_units, max(original.write_capacity_units, wcu)),
        )

    return CapacitySpec(
        billing_mode="PROVISIONED",
        table=raised(final.table, rcu),
        indexes={name: raised(throughput, 0) for name, throughput in final.indexes.items()},
    )


def update_table_capacity(live: CapacitySpec, wanted: CapacitySpec) -> dict[str, Any] | None:
    """UpdateTable's throughput parameters to go from ``live`` to ``wanted``, or None when equal.

    Table and global indexes change in one call, so the table goes UPDATING once.

    >>> a = CapacitySpec(table=Throughput(read_capacity_units=1, write_capacity_units=1))
    >>> b = CapacitySpec(table=Throughput(read_capacity_units=1, write_capacity_units=9))
    >>> update_table_capacity(a, b)["ProvisionedThroughput"]["WriteCapacityUnits"]
    9
    >>> update_table_capacity(b, b) is None
    True
    """
    if wanted.billing_mode == "PAY_PER_REQUEST" or wanted.table is None or live.billing_mode == "PAY_PER_REQUEST":
        return None
    request: dict[str, Any] = {}
    if live.table != wanted.table:
        request["ProvisionedThroughput"] = {
            "ReadCapacityUnits": wanted.table.read_capacity_units,
            "WriteCapacityUnits": wanted.table.write_capacity_units,
        }
    updates = [
        {
            "Update": {
                "IndexName": name,
                "ProvisionedThroughput": {
                    "ReadCapacityUnits": throughput.read_capacity_units,
                    "WriteCapacityUnits": throughput.write_capacity_units,
                },
            }
        }
        for name, throughput in sorted(wanted.indexes.items())
        if name in live.indexes and live.indexes[name] != throughput
    ]
    if updates:
        request["GlobalSecondaryIndexUpdates"] = updates
    return request or None


def _field(key: str, value: str | int | float) -> dict[str, str]:
    return {"key": key, "stringValue": str(value)}


def _ref(key: str, object_id: str) -> dict[str, str]:
    return {"key": key, "refValue": object_id}


def import_pipeline_objects(
    directory: str,
    target: str,
    log_uri: str,
    cluster: ClusterSettings,
    write_percent: float = IMPORT_WRITE_PERCENT,
) -> list[dict[str, Any]]:
    """The ``pipelineObjects`` of the import pipeline: AWS's "Import DynamoDB backup data from S3"
    template (docs/aws-facts: the import step is ``<jar>,DynamoDBImport,#{input.directoryPath},
    #{output.tableName},#{output.writeThroughputPercent}``), into an existing table.

    >>> from hippolyte.pipelines import objects_by_id
    >>> objs = objects_by_id(import_pipeline_objects("s3://b/o/2026-11-28-00-10-00/", "o-restored",
    ...     "s3://b/logs/r/", ClusterSettings(region="us-east-1", jar="s3://j/tools.jar")))
    >>> objs["Target"]["tableName"], objs["Import"]["output"]
    ('o-restored', {'ref': 'Target'})
    """
    step = ",".join(
        (
            cluster.jar,
            IMPORT_TOOL_CLASS,
            "#{input.directoryPath}",
            "#{output.tableName}",
            "#{output.writeThroughputPercent}",
        )
    )
    return [
        *pipeline_frame(cluster, log_uri),
        {
            "id": "Backup",
            "name": "Backup (S3)",
            "fields": [_field("type", "S3DataNode"), _field("directoryPath", directory)],
        },
        {
            "id": "Target",
            "name": f"{target} (DynamoDB)",
            "fields": [
                _field("type", "DynamoDBDataNode"),
                _field("tableName", target),
                _field("writeThroughputPercent", f"{write_percent:.2f}"),
            ],
        },
        {
            "id": "Import",
            "name": f"Import into {target}",
            "fields": [
                _field("type", "EmrActivity"),
                _ref("input", "Backup"),
                _ref("output", "Target"),
                _ref("runsOn", "Cluster"),
                _field("maximumRetries", cluster.maximum_retries),
                _field("step", step),
            ],
        },
    ]
