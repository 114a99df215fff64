"""A generated account of thousands of tables that hold no items: their sizes are metadata.

A night at 10,000 tables cannot fill 10,000 tables in memory, and does not need to: what the
night reads from a table before its export is DynamoDB's own description of it (size, item
count, capacity, billing mode, indexes, tags, its scaling target). :func:`generate_account` draws
such an account from a seed; :func:`create_tables` creates its tables in moto, empty; and
:func:`synthetic_sizes` makes DescribeTable report each one's ``TableSizeBytes`` and
``ItemCount`` from the metadata, as AWS reports them for a table that holds that much.

The mix, per 1,000 tables: log-normal sizes around a 30 MB median (from 1 KB to 200 GB), read
capacity log-uniform from 5 to 10,000 RCU, one table in five on-demand, one provisioned table in
twenty under auto scaling, one in ten with a global secondary index, and four giants of 0.5 to
5 TB that no plan can read at their own capacity inside the window.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from hippolyte_local.fleet import add_capacity_and_index, index_read_capacity, register_read_target

KB, MB, GB, TB = 1024, 1024**2, 1024**3, 1024**4
MEDIAN_TABLE_BYTES = 30 * MB
SIZE_SIGMA = 2.0  # ln-space spread: most tables from about 1 MB to 1.5 GB
SMALLEST_TABLE_BYTES = 1 * KB
LARGEST_ORDINARY_BYTES = 200 * GB
GIANTS_PER_THOUSAND = 4
AVERAGE_ITEM_BYTES = 1 * KB
ON_DEMAND_SHARE = 0.2
AUTOSCALED_SHARE = 0.05
GSI_SHARE = 0.1
MIN_RCU, MAX_RCU = 5, 10_000
# An auto-scaled table's owner lets it scale from its RCU to this many times it.
AUTOSCALED_MAX_FACTOR = 10


@dataclass(frozen=True)
class SyntheticTable:
    """One table of the generated account, as DynamoDB would describe it."""

    name: str
    size_bytes: int
    rcu: int | None  # None: on-demand
    gsi: bool = False
    autoscaled: bool = False

    @property
    def item_count(self) -> int:
        """Items, at the account's average item size (at least one in a table of any size)."""
        return max(1, self.size_bytes // AVERAGE_ITEM_BYTES)


def generate_account(count: int, seed: int = 11) -> list[SyntheticTable]:
    """``count`` tables drawn from ``seed``: the same account on every machine and every day."""
    if count < 1:
        raise ValueError(f"an account needs at least one table, not {count}")
    rng = random.Random(seed)
    giants = max(1, count * GIANTS_PER_THOUSAND // 1000)
    tables: list[SyntheticTable] = []
    for index in range(count):
        if index < giants:
            size = int(rng.uniform(0.5, 5.0) * TB)
            rcu: int | None = int(10 ** rng.uniform(math.log10(1_000), math.log10(MAX_RCU)))
            tables.append(SyntheticTable(f"giant-{index:05d}", size, rcu, gsi=True))
            continue
        drawn = rng.lognormvariate(0, SIZE_SIGMA) * MEDIAN_TABLE_BYTES
        size = int(min(LARGEST_ORDINARY_BYTES, max(SMALLEST_TABLE_BYTES, drawn)))
        on_demand = rng.random() < ON_DEMAND_SHARE
        rcu = None if on_demand else int(10 ** rng.uniform(math.log10(MIN_RCU), math.log10(MAX_RCU)))
        tables.append(
            SyntheticTable(
                name=f"table-{index:05d}",
                size_bytes=size,
                rcu=rcu,
                gsi=rng.random() < GSI_SHARE,
                autoscaled=not on_demand and rng.random() < AUTOSCALED_SHARE,
            )
        )
    return tables


def create_tables(dynamodb: DynamoDBBackend, autoscaling: Any, tables: Sequence[SyntheticTable]) -> None:
    """Create every table, empty, with its capacity, index and scaling target.

    The tables go straight into moto's DynamoDB backend, with the arguments moto's own CreateTable
    handler passes it for the same request (``DynamoHandler.create_table`` in
    ``moto/dynamodb/responses.py``), without the request's validation, which these specs (built
    here, by :func:`hippolyte_local.fleet.add_capacity_and_index`) always pass: the account is the
    night's starting point, not part of the night, and at 10,000 tables the requests alone took
    half a minute of the harness's time.
    """
    for table in tables:
        spec: dict[str, Any] = {
            "TableName": table.name,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "Tags": [{"Key": "team", "Value": "scale"}],
        }
        add_capacity_and_index(spec, table.rcu, table.gsi)
        dynamodb.create_table(
            spec["TableName"],
            schema=spec["KeySchema"],
            throughput=spec.get("ProvisionedThroughput"),
            attr=spec["AttributeDefinitions"],
            global_indexes=spec.get("GlobalSecondaryIndexes") or [],
            indexes=[],
            streams=None,
            billing_mode=spec.get("BillingMode", "PROVISIONED"),
            sse_specification=None,
            tags=spec["Tags"],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
        if table.autoscaled and table.rcu is not None:
            register_read_target(autoscaling, table.name, table.rcu, table.rcu * AUTOSCALED_MAX_FACTOR)


# DynamoDB's default per-table maximum ("Service, account, and table quotas": 40,000 RCU; moto
# still answers 10,000, an old default).
TABLE_MAX_RCU = 40_000


def account_max_rcu(tables: Sequence[SyntheticTable], headroom: int) -> int:
    """The account-wide read quota of an account that holds ``tables``: what they and their
    indexes provision plus ``headroom``. An account provisioning more than the 80,000 RCU default
    has had it raised.

    The account's provisioned read capacity is that of its tables and of their global secondary
    indexes (DynamoDB API Reference, DescribeLimits: to see how much of the account quota is used,
    add up each table's and each of its GSIs' provisioned capacity), and the run works out its
    budget the same way: leaving the indexes out here would hand the night less than ``headroom``.
    """
    provisioned = sum(
        table.rcu + (index_read_capacity(table.rcu) if table.gsi else 0) for table in tables if table.rcu is not None
    )
    return max(80_000, provisioned + headroom)


@contextmanager
def account_limits(account_max_read: int) -> Iterator[None]:
    """While active, DescribeLimits answers the account's quotas: ``account_max_read`` RCU for the
    account, and DynamoDB's default 40,000 per table (write quotas alike)."""
    limits = {
        "AccountMaxReadCapacityUnits": account_max_read,
        "AccountMaxWriteCapacityUnits": account_max_read,
        "TableMaxReadCapacityUnits": TABLE_MAX_RCU,
        "TableMaxWriteCapacityUnits": TABLE_MAX_RCU,
    }

    def describe_limits(self: DynamoHandler) -> ActionResult:
        return ActionResult(dict(limits))

    with mock.patch.object(DynamoHandler, "describe_limits", describe_limits):
        yield


@contextmanager
def synthetic_sizes(tables: Sequence[SyntheticTable]) -> Iterator[dict[str, SyntheticTable]]:
    """While active, DescribeTable reports each synthetic table's size and item count.

    Tables not in ``tables`` (the stack's own, a restore's target) keep the description they had.
    Yields the tables by name.
    """
    by_name = {table.name: table for table in tables}
    describe = Table.describe

    def described(self: Table, base_key: str = "TableDescription") -> dict[str, Any]:
        result: dict[str, Any] = describe(self, base_key)
        table = by_name.get(self.name)
        if table is not None:
            result[base_key]["TableSizeBytes"] = table.size_bytes
            result[base_key]["ItemCount"] = table.item_count
        return result

    with mock.patch.object(Table, "describe", described):
        yield by_name
