"""DescribeTable output and inventory files turned into TableSnapshots.

An inventory file (``hippolyte plan --inventory FILE``) is a person's input: every invalid entry
must be rejected with an :class:`InvalidInventoryError` that says which entry, never a stack trace.
"""

from __future__ import annotations

import pytest
from hippolyte.errors import InvalidInventoryError
from hippolyte.table_description import snapshot_from_description, snapshots_from_inventory_json


def describe(name: str = "orders", rcu: int = 100, wcu: int = 10, **extra) -> dict:
    """A DescribeTable ``Table`` shaped like AWS's."""
    table = {
        "TableName": name,
        "TableStatus": "ACTIVE",
        "TableSizeBytes": 5 * 2**30,
        "ItemCount": 1_000_000,
        "ProvisionedThroughput": {
            "ReadCapacityUnits": rcu,
            "WriteCapacityUnits": wcu,
            "NumberOfDecreasesToday": 0,
        },
    }
    table.update(extra)
    return table


def gsi(name: str, rcu: int, wcu: int) -> dict:
    return {"IndexName": name, "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}


# --------------------------------------------------------------------------------------------
# DescribeTable -> TableSnapshot
# --------------------------------------------------------------------------------------------


def test_a_provisioned_table_keeps_its_capacity_size_and_gsis():
    # GIVEN a provisioned table with two GSIs
    table = describe(
        GlobalSecondaryIndexes=[
            gsi("by-customer", 50, 5),
            gsi("by-date", 20, 2),
        ]
    )
    # WHEN it becomes a snapshot
    snapshot = snapshot_from_description(table)
    # THEN capacity, size, items and every GSI's capacity are kept
    assert (snapshot.read_capacity_units, snapshot.write_capacity_units) == (100, 10)
    assert (snapshot.size_bytes, snapshot.item_count) == (5 * 2**30, 1_000_000)
    assert [(g.name, g.read_capacity_units, g.write_capacity_units) for g in snapshot.gsis] == [
        ("by-customer", 50, 5),
        ("by-date", 20, 2),
    ]
    assert not snapshot.on_demand


def test_an_on_demand_table_is_recognised():
    # GIVEN an on-demand table (AWS reports 0/0 throughput for it)
    table = describe(rcu=0, wcu=0, BillingModeSummary={"BillingMode": "PAY_PER_REQUEST"})
    # WHEN it becomes a snapshot
    snapshot = snapshot_from_description(table)
    # THEN it is on demand, with nothing to boost
    assert snapshot.on_demand
    assert snapshot.read_capacity_units == 0


def test_a_table_with_no_billing_summary_is_provisioned():
    # GIVEN a table created before billing modes existed (no BillingModeSummary)
    # WHEN it becomes a snapshot
    # THEN it is provisioned
    assert snapshot_from_description(describe()).billing_mode == "PROVISIONED"


def test_a_new_table_reporting_size_zero_is_kept_as_such():
    # GIVEN a table DynamoDB has not measured yet (size refreshes about every 6 hours)
    # WHEN it becomes a snapshot
    snapshot = snapshot_from_description(describe(TableSizeBytes=0, ItemCount=0))
    # THEN its size is 0, not an error
    assert snapshot.size_bytes == 0


@pytest.mark.parametrize(
    ("tag", "default", "engine"),
    [
        ("export", "datapipeline", "export"),
        (" EXPORT ", "datapipeline", "export"),
        ("datapipeline", "export", "datapipeline"),
        ("glue", "datapipeline", "datapipeline"),  # an unknown value falls back to the stack's engine
        ("glue", "export", "export"),
        ("emr", "datapipeline", "emr"),
        (None, "export", "export"),
    ],
)
def test_the_engine_tag_overrides_the_stack_default(tag, default, engine):
    # GIVEN a table with (or without) a hippolyte:engine tag
    tags = {} if tag is None else {"hippolyte:engine": tag}
    # WHEN it becomes a snapshot under a stack default
    snapshot = snapshot_from_description(describe(), tags, default_engine=default)
    # THEN the tag wins when it names a known engine
    assert snapshot.engine == engine


def test_pitr_status_is_carried():
    # GIVEN a table with point-in-time recovery on
    # WHEN it becomes a snapshot
    # THEN the snapshot says so (the export engine needs it)
    assert snapshot_from_description(describe(), pitr_enabled=True).pitr_enabled


@pytest.mark.parametrize(
    ("table", "named"),
    [
        (describe(name="ab"), "'ab'"),  # DynamoDB names are at least 3 characters
        (describe(name="bad name!"), "'bad name!'"),
        (describe(TableSizeBytes=-1), "size_bytes"),
        (describe(rcu=-5), "read_capacity_units"),
        (describe(BillingModeSummary={"BillingMode": "ON_DEMAND"}), "billing_mode"),
    ],
)
def test_an_invalid_table_is_rejected_naming_it(table, named):
    # GIVEN a DescribeTable output with an invalid value
    # WHEN it is read
    # THEN the error is an InvalidInventoryError naming the table or the field
    with pytest.raises(InvalidInventoryError, match=named):
        snapshot_from_description(table)


def test_an_entry_without_a_name_is_rejected():
    # GIVEN something that is not a DescribeTable output
    # WHEN it is read
    # THEN the error says what is missing
    with pytest.raises(InvalidInventoryError, match="TableName"):
        snapshot_from_description({"TableSizeBytes": 1})


def test_an_invalid_gsi_is_rejected_naming_the_table():
    # GIVEN a table whose GSI has a negative capacity
    table = describe(
        GlobalSecondaryIndexes=[{"IndexName": "by-date", "ProvisionedThroughput": {"ReadCapacityUnits": -1}}]
    )
    # WHEN it is read
    # THEN the error is an InvalidInventoryError naming the table (not a raw pydantic error)
    with pytest.raises(InvalidInventoryError, match="orders"):
        snapshot_from_description(table)


def test_a_gsi_without_a_name_is_rejected_naming_the_table():
    # GIVEN a table whose GSI entry has no IndexName
    table = describe(GlobalSecondaryIndexes=[{"ProvisionedThroughput": {"ReadCapacityUnits": 1}}])
    # WHEN it is read
    # THEN the error is an InvalidInventoryError naming the table (not a KeyError)
    with pytest.raises(InvalidInventoryError, match="orders"):
        snapshot_from_description(table)


# --------------------------------------------------------------------------------------------
# Inventory files
# --------------------------------------------------------------------------------------------


def test_an_inventory_may_list_bare_tables_or_describe_outputs_or_both():
    # GIVEN an inventory mixing {"Table": ...} (aws dynamodb describe-table output) and bare Tables
    document = [{"Table": describe("orders")}, describe("customers"), {"Table": describe("events")}]
    # WHEN it is read
    snapshots = snapshots_from_inventory_json(document)
    # THEN every table is read, in file order
    assert [s.name for s in snapshots] == ["orders", "customers", "events"]


def test_an_empty_inventory_is_an_empty_fleet():
    # GIVEN an empty list
    # WHEN it is read
    # THEN there are no tables (and no error)
    assert snapshots_from_inventory_json([]) == []


@pytest.mark.parametrize("document", [{"Table": describe()}, "orders", None, 3])
def test_an_inventory_that_is_not_a_list_is_rejected(document):
    # GIVEN a file that is not a JSON list
    # WHEN it is read
    # THEN the error says a list is expected
    with pytest.raises(InvalidInventoryError, match="list"):
        snapshots_from_inventory_json(document)


@pytest.mark.parametrize("bad", ["orders", 42, {"Table": "orders"}, {"TableSizeBytes": 1}, {"Table": {}}])
def test_an_invalid_entry_is_rejected_naming_its_position(bad):
    # GIVEN an inventory whose third entry is not a DescribeTable output
    document = [describe("orders"), describe("customers"), bad]
    # WHEN it is read
    # THEN the error names entry 2 (0-based, as in the JSON list)
    with pytest.raises(InvalidInventoryError, match="entry 2"):
        snapshots_from_inventory_json(document)


def test_an_invalid_value_in_an_inventory_names_the_table():
    # GIVEN an inventory with one table whose size is negative
    document = [describe("orders"), describe("customers", TableSizeBytes=-3)]
    # WHEN it is read
    # THEN the error names that table
    with pytest.raises(InvalidInventoryError, match="customers"):
        snapshots_from_inventory_json(document)


def test_a_table_listed_twice_is_rejected_naming_it():
    # GIVEN an inventory listing a table twice (in both shapes)
    document = [describe("orders"), describe("customers"), {"Table": describe("orders")}]
    # WHEN it is read
    # THEN the error names the duplicate, and only it
    with pytest.raises(InvalidInventoryError, match=r"twice: orders$"):
        snapshots_from_inventory_json(document)
