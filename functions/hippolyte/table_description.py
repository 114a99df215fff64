"""Turning DynamoDB's DescribeTable output into a :class:`TableSnapshot`.

Pure: used by discovery in the Lambda, by ``hippolyte plan --inventory FILE`` and by the
live ``hippolyte plan --region R``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import ValidationError

from hippolyte.errors import InvalidInventoryError
from hippolyte.models import Engine, EngineSource, IndexCapacity, StackEngine, TableSnapshot, first_error

BACKUP_TAG = "hippolyte:backup"
ENGINE_TAG = "hippolyte:engine"


def gsi_capacities(table: Mapping[str, Any]) -> list[IndexCapacity]:
    """Each global secondary index's provisioned throughput, from DescribeTable's ``Table``."""
    return [
        IndexCapacity(
            name=index["IndexName"],
            read_capacity_units=(index.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0),
            write_capacity_units=(index.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits", 0),
        )
        for index in table.get("GlobalSecondaryIndexes") or []
    ]


def engine_of(tags: Mapping[str, str] | None, default_engine: StackEngine) -> tuple[Engine, EngineSource, str]:
    """A table's engine, how it was chosen and why: its tag, else the stack's Engine; ``auto``
    leaves the emr engine in place until discovery chooses by cost.

    >>> engine_of({"hippolyte:engine": " EXPORT "}, "auto")
    ('export', 'tag', 'tagged hippolyte:engine=export')
    >>> engine_of({}, "datapipeline")
    ('datapipeline', 'stack', "the stack's Engine is datapipeline")
    >>> engine_of({"hippolyte:engine": "glue"}, "auto")[:2]
    ('emr', 'auto')
    """
    tagged = (tags or {}).get(ENGINE_TAG, "").strip().lower()
    if tagged in get_args(Engine):
        return tagged, "tag", f"tagged {ENGINE_TAG}={tagged}"  # type: ignore[return-value]
    if default_engine == "auto":
        return "emr", "auto", ""
    return default_engine, "stack", f"the stack's Engine is {default_engine}"


def snapshot_from_description(
    table: Mapping[str, Any],
    tags: Mapping[str, str] | None = None,
    default_engine: StackEngine = "datapipeline",
    pitr_enabled: bool = False,
) -> TableSnapshot:
    """Build a snapshot from one DescribeTable ``Table`` object.

    Its engine is its ``hippolyte:engine`` tag's, else ``default_engine`` (the stack's). With
    ``auto``, the snapshot is marked for the choice by cost, which discovery makes once it knows
    the table's point-in-time recovery (:func:`hippolyte.engine_costs.cheaper_engine`).

    >>> snapshot_from_description({"TableName": "orders", "TableSizeBytes": 10,
    ...     "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1}}).read_capacity_units
    5
    """
    if not isinstance(table, Mapping) or "TableName" not in table:
        raise InvalidInventoryError("a table entry has no TableName")
    name = table["TableName"]
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    throughput = table.get("ProvisionedThroughput") or {}
    engine, source, reason = engine_of(tags, default_engine)
    try:
        gsis = gsi_capacities(table)
        return TableSnapshot(
            name=name,
            billing_mode=billing,
            read_capacity_units=throughput.get("ReadCapacityUnits", 0),
            write_capacity_units=throughput.get("WriteCapacityUnits", 0),
            size_bytes=table.get("TableSizeBytes", 0),
            item_count=table.get("ItemCount", 0),
            gsis=gsis,
            engine=engine,
            engine_source=source,
            engine_reason=reason,
            pitr_enabled=pitr_enabled,
        )
    except KeyError as error:
        raise InvalidInventoryError(f"table {name!r}: a global secondary index has no {error.args[0]}") from None
    except ValidationError as error:
        field, message = first_error(error)
        raise InvalidInventoryError(f"table {name!r}: {field}: {message}") from None


def snapshots_from_inventory_json(document: Any, default_engine: StackEngine = "datapipeline") -> list[TableSnapshot]:
    """Parse an inventory file: a JSON list of ``Table`` objects or of ``{"Table": ...}`` objects,
    each on ``default_engine`` (the file carries no tags).

    >>> [t.name for t in snapshots_from_inventory_json([{"Table": {"TableName": "abc"}}])]
    ['abc']
    """
    if not isinstance(document, list):
        raise InvalidInventoryError("the inventory must be a JSON list of DescribeTable outputs")
    snapshots = []
    for position, entry in enumerate(document):
        table = entry.get("Table", entry) if isinstance(entry, Mapping) else None
        if not isinstance(table, Mapping) or "TableName" not in table:
            raise InvalidInventoryError(f"entry {position} is not a DescribeTable output (no TableName)")
        snapshots.append(snapshot_from_description(table, default_engine=default_engine))
    duplicates = sorted(name for name, count in Counter(s.name for s in snapshots).items() if count > 1)
    if duplicates:
        raise InvalidInventoryError(f"the inventory lists a table twice: {', '.join(duplicates[:5])}")
    return snapshots
