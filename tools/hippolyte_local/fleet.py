"""The demo fleet: tables of many shapes holding real items.

Seeded, so every run builds the same fleet: provisioned and on-demand tables, some with global
secondary indexes, one under auto scaling, one opted out by tag, and sizes from a few hundred
bytes to several megabytes (orders of magnitude apart). One large table has so little read
capacity that the planner must raise it to finish inside the demo's one-hour window at a 25% read
share.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeSerializer

_serialize = TypeSerializer().serialize
BATCH = 25  # BatchWriteItem takes at most 25 items


@dataclass(frozen=True)
class DemoTable:
    """One table of the fleet."""

    name: str
    items: int
    item_bytes: int
    rcu: int | None  # None: on-demand
    gsi: bool = False
    autoscaled: bool = False
    opted_out: bool = False
    # "export": tagged hippolyte:engine=export, with point-in-time recovery on.
    engine: str | None = None


# Fleet positions of the tables the native export engine backs up when ``export_tables`` asks for
# some: one provisioned without an index, one on-demand with a GSI, one provisioned with a GSI.
EXPORT_POSITIONS = (2, 9, 15)
# And of the tables tagged for the datapipeline engine when ``datapipeline_tables`` asks for them.
DATAPIPELINE_POSITIONS = (4, 11, 20)


def demo_fleet(count: int = 32, seed: int = 7, export_tables: int = 0, datapipeline_tables: int = 0) -> list[DemoTable]:
    """The fleet's tables: ``count`` to back up, plus one opted out.

    ``export_tables`` (at most 3) of them are tagged for the native export engine, and
    ``datapipeline_tables`` (at most 3) for the datapipeline engine; the others take the stack's.
    """
    exported = set(EXPORT_POSITIONS[:export_tables])
    piped = set(DATAPIPELINE_POSITIONS[:datapipeline_tables])
    rng = random.Random(seed)
    domains = ["orders", "customers", "payments", "inventory", "sessions", "audit", "carts", "prices"]
    tables = [DemoTable("orders-history", items=700, item_bytes=10_000, rcu=1, gsi=True)]
    for index in range(count - 1):
        items = int(10 ** rng.uniform(0, 3.0))  # 1 to 1,000 items
        tables.append(
            DemoTable(
                name=f"{domains[index % len(domains)]}-{index:02d}",
                items=items,
                item_bytes=rng.choice([100, 400, 1000, 2000]),
                rcu=None if index % 5 == 4 else rng.choice([1, 5, 10, 25, 100]),
                gsi=index % 3 == 0,
                autoscaled=index == 1,
                engine="export" if index in exported else "datapipeline" if index in piped else None,
            )
        )
    tables.append(DemoTable("scratch-experiments", items=3, item_bytes=100, rcu=5, opted_out=True))
    return tables


def _item(table: DemoTable, number: int, rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": f"{table.name}#{number:06d}",
        "sk": f"v{number % 7}",
        "group": f"g{number % 11}",
        "amount": number * 3 + 1,
        "payload": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(max(1, table.item_bytes - 60))),
    }
    if number % 4 == 0:
        item["tags"] = {f"t{number % 5}", "demo"}
    return {key: _serialize(value) for key, value in item.items()}


def index_read_capacity(rcu: int) -> int:
    """The read capacity of a table's index: half the table's."""
    return max(1, rcu // 2)


def add_capacity_and_index(spec: dict[str, Any], rcu: int | None, gsi: bool) -> None:
    """Complete a CreateTable request: its billing (``rcu`` None: on-demand) and, with ``gsi``, an
    index on ``group`` keeping half the table's read capacity."""
    if rcu is None:
        spec["BillingMode"] = "PAY_PER_REQUEST"
    else:
        spec["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": 5}
    if gsi:
        spec["AttributeDefinitions"].append({"AttributeName": "group", "AttributeType": "S"})
        index: dict[str, Any] = {
            "IndexName": "by-group",
            "KeySchema": [{"AttributeName": "group", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
        if rcu is not None:
            index["ProvisionedThroughput"] = {"ReadCapacityUnits": index_read_capacity(rcu), "WriteCapacityUnits": 5}
        spec["GlobalSecondaryIndexes"] = [index]


def register_read_target(autoscaling: Any, table_name: str, min_capacity: int, max_capacity: int) -> None:
    """Put a table's read capacity under Application Auto Scaling, between the two bounds."""
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{table_name}",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=min_capacity,
        MaxCapacity=max_capacity,
    )


def create_table(dynamodb: Any, autoscaling: Any, table: DemoTable) -> None:
    """Create one demo table (schema, capacity, tags, scaling) and fill it."""
    spec: dict[str, Any] = {
        "TableName": table.name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "Tags": [{"Key": "team", "Value": "demo"}],
    }
    if table.opted_out:
        spec["Tags"].append({"Key": "hippolyte:backup", "Value": "false"})
    if table.engine:
        spec["Tags"].append({"Key": "hippolyte:engine", "Value": table.engine})
    add_capacity_and_index(spec, table.rcu, table.gsi)
    dynamodb.create_table(**spec)
    if table.engine == "export":
        # ExportTableToPointInTime reads the table's PITR data: it needs PITR on.
        dynamodb.update_continuous_backups(
            TableName=table.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    if table.autoscaled and table.rcu is not None:
        register_read_target(autoscaling, table.name, table.rcu, table.rcu * 20)
    rng = random.Random(table.name)
    for start in range(0, table.items, BATCH):
        requests = [
            {"PutRequest": {"Item": _item(table, n, rng)}} for n in range(start, min(start + BATCH, table.items))
        ]
        dynamodb.batch_write_item(RequestItems={table.name: requests})
