"""Raising and restoring auto-scaled tables, against moto with AWS's rules (StrictAws, rule A1).

Registering a scalable target's bounds makes Application Auto Scaling move the table's capacity
into them (the table goes UPDATING), so an auto-scaled table is raised and put back through its
scaling target alone, then waited for and checked: a boost or a restore that Application Auto
Scaling has not applied is never reported as done. Also the share an export is told to read when
its pipeline is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hippolyte.adapters import clients
from hippolyte.adapters.capacity import READ_DIMENSION, read_capacity_state
from hippolyte.adapters.ledger import LedgerEntry
from hippolyte.models import Batch, PlannedTable, RunRef
from hippolyte.runtime import Runtime
from hippolyte.settings import StackSettings
from hippolyte.workflow.table_capacity import raise_table, raise_tables, restore_table
from hippolyte.workflow.table_read_percents import read_percents
from moto import mock_aws

from tests.support.aws_rules import DEFAULT_UPDATE_DURATION, StrictAws

REGION = "us-east-1"
LEDGER = "hippolyte-test-ledger"
RUN = "nightly"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StrictAws]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clients.reset()
    # Every DescribeTable moves the fake clock 10 s, so waiting for ACTIVE ends as it would on AWS.
    with mock_aws(), StrictAws(auto_advance_on_describe=True) as strict:
        yield strict
    clients.reset()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def rt(aws: StrictAws, sleeps: list[float]) -> Runtime:
    clients.client("dynamodb").create_table(
        TableName=LEDGER,
        KeySchema=[{"AttributeName": "table_name", "KeyType": "HASH"}, {"AttributeName": "run_id", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "table_name", "AttributeType": "S"},
            {"AttributeName": "run_id", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    settings = StackSettings.model_validate({"BACKUP_BUCKET": "hippolyte-test", "LEDGER_TABLE": LEDGER})
    return Runtime(settings=settings, region=REGION, clock=aws.clock, sleep=sleeps.append)


@pytest.fixture
def run(aws: StrictAws) -> RunRef:
    return RunRef(
        run_id=RUN,
        execution_id=f"arn:aws:states:{REGION}:123456789012:execution:b:{RUN}",
        bucket="hippolyte-test",
        started_at=aws.now,
    )


def create_scaled_table(rt: Runtime, name: str = "orders", rcu: int = 5, bounds: tuple[int, int] = (5, 200)) -> None:
    rt.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 5},
    )
    autoscaling = rt.client("application-autoscaling")
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=f"table/{name}",
        ScalableDimension=READ_DIMENSION,
        MinCapacity=bounds[0],
        MaxCapacity=bounds[1],
        SuspendedState={
            "DynamicScalingInSuspended": True,
            "DynamicScalingOutSuspended": False,
            "ScheduledScalingSuspended": False,
        },
    )


def planned(name: str = "orders", rcu: int = 400, original: int = 5) -> PlannedTable:
    return PlannedTable(
        name=name,
        size_bytes=10**9,
        original_read_capacity_units=original,
        read_capacity_units=rcu,
        read_throughput_percent=0.98,
        estimated_seconds=3600,
    )


def capacity(rt: Runtime, name: str = "orders") -> tuple[str, int]:
    table = rt.client("dynamodb").describe_table(TableName=name)["Table"]
    return table["TableStatus"], table["ProvisionedThroughput"]["ReadCapacityUnits"]


def bounds(rt: Runtime, name: str = "orders") -> tuple[int, int, bool]:
    [target] = rt.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"]
    )["ScalableTargets"]
    return target["MinCapacity"], target["MaxCapacity"], target["SuspendedState"]["DynamicScalingInSuspended"]


def ledger_entry(rt: Runtime, name: str = "orders") -> LedgerEntry:
    entry = rt.ledger().get(name, RUN)
    assert entry is not None
    return entry


def boosted_by_an_earlier_state(rt: Runtime, aws: StrictAws, run: RunRef, boost: int = 400) -> LedgerEntry:
    """The state a raise leaves: the original in the ledger, the bounds at the boost, the table there."""
    ledger = rt.ledger()
    dynamodb, autoscaling = rt.client("dynamodb"), rt.client("application-autoscaling")
    live = read_capacity_state(dynamodb, autoscaling, dynamodb.describe_table(TableName="orders")["Table"])
    ledger.record_original(run.run_id, run.execution_id, live)
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=READ_DIMENSION,
        MinCapacity=boost,
        MaxCapacity=boost,
    )
    aws.settle()
    ledger.update("orders", run.run_id, status="raised", boosted_rcu=boost)
    assert capacity(rt) == ("ACTIVE", boost)
    return ledger_entry(rt)


# --------------------------------------------------------------------------------------------
# Raising
# --------------------------------------------------------------------------------------------


def test_an_auto_scaled_table_is_raised_by_its_scaling_target_alone(aws: StrictAws, rt: Runtime, run: RunRef) -> None:
    # GIVEN an auto-scaled table at 5 RCU (owner's bounds 5..200, scale-in suspended)
    create_scaled_table(rt)

    # WHEN the plan raises it to 400
    result = raise_table(rt, rt.ledger(), run, planned())

    # THEN it is raised: Application Auto Scaling moved it to the new minimum, and it is ACTIVE again
    assert (result.kind, result.extra_rcu) == ("raised", 395)
    assert capacity(rt) == ("ACTIVE", 400)
    assert bounds(rt) == (400, 400, True)
    # AND Hippolyte sent no UpdateTable of its own, which would have collided with that change
    assert aws.update_table_calls == []
    assert [(a.to_capacity, a.error_code) for a in aws.scaling_activities] == [(400, None)]
    entry = ledger_entry(rt)
    assert (entry.status, entry.boosted_rcu, entry.original.read_capacity_units) == ("raised", 400, 5)


def test_a_boost_auto_scaling_does_not_apply_is_not_reported_and_the_bounds_go_back(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN an auto-scaled table, and DynamoDB refusing Application Auto Scaling's next change
    create_scaled_table(rt)
    aws.fail_scaling(1, table="orders")

    # WHEN the plan raises it to 400
    result = raise_table(rt, rt.ledger(), run, planned())

    # THEN it is reported not raised, with the reason, and the owner's bounds and flags are back
    assert result.kind == "unchanged"
    assert "not raised: Application Auto Scaling did not raise it to 400 RCU (it has 5)" in result.reason
    assert bounds(rt) == (5, 200, True)
    assert capacity(rt) == ("ACTIVE", 5)
    assert ledger_entry(rt).status == "restored"
    assert aws.update_table_calls == []


def test_a_waves_auto_scaled_boosts_are_all_handed_over_before_any_is_waited_for(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN two auto-scaled tables boosted in the same wave
    create_scaled_table(rt, "orders")
    create_scaled_table(rt, "payments")

    # WHEN the wave raises them
    results = raise_tables(rt, rt.ledger(), run, [planned("orders"), planned("payments")])

    # THEN both are raised
    assert [r.kind for r in results] == ["raised", "raised"]
    assert capacity(rt, "orders") == capacity(rt, "payments") == ("ACTIVE", 400)
    # AND the second boost started while the first table was still UPDATING: the wave waits for
    # its slowest table, not for the sum of them
    first, second = aws.scaling_activities
    assert second.at - first.at < DEFAULT_UPDATE_DURATION


# --------------------------------------------------------------------------------------------
# Restoring
# --------------------------------------------------------------------------------------------


def test_a_restore_puts_the_owners_bounds_back_and_auto_scaling_brings_the_capacity_inside(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN an auto-scaled table (5..200) boosted to 400
    create_scaled_table(rt)
    entry = boosted_by_an_earlier_state(rt, aws, run)

    # WHEN it is restored
    result = restore_table(rt, rt.ledger(), entry, aws.now)

    # THEN the owner's bounds and flags are back, and Application Auto Scaling lowered the table to
    # the nearest bound (200), with one counted decrease; Hippolyte sent no UpdateTable
    assert result.kind == "restored"
    assert bounds(rt) == (5, 200, True)
    assert capacity(rt) == ("ACTIVE", 200)
    assert aws.decreases_today("orders") == 1
    assert aws.update_table_calls == []
    # AND the report and the ledger say where the capacity was left
    assert "left its read capacity at 200 RCU (5 before the backup)" in result.reason
    restored = ledger_entry(rt)
    assert restored.status == "restored" and "200 RCU" in restored.reason


def test_a_restore_the_decrease_limit_holds_up_stays_pending_until_auto_scaling_can_apply_it(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN an auto-scaled table boosted to 400 whose decreases of the day are used up just now
    create_scaled_table(rt)
    entry = boosted_by_an_earlier_state(rt, aws, run)
    aws.set_decreases_today("orders", 4, last_decrease=aws.now)

    # WHEN it is restored
    result = restore_table(rt, rt.ledger(), entry, aws.now)

    # THEN it stays pending until DynamoDB allows a decrease, though the owner's bounds are back
    assert result.kind == "pending"
    assert "daily limit on capacity decreases" in result.reason
    assert result.retry_after == aws.next_decrease_allowed_at("orders")
    assert bounds(rt) == (5, 200, True)
    assert capacity(rt)[1] == 400
    assert ledger_entry(rt).status == "pending"

    # WHEN the retry comes after that time (reconcile)
    aws.clock.set(result.retry_after + timedelta(seconds=1))
    retried = restore_table(rt, rt.ledger(), ledger_entry(rt), aws.now)

    # THEN registering the bounds again lets Application Auto Scaling lower it, and it is restored
    assert retried.kind == "restored"
    assert capacity(rt) == ("ACTIVE", 200)
    assert ledger_entry(rt).status == "restored"
    assert aws.update_table_calls == []


def test_a_restore_auto_scaling_did_not_apply_is_pending_not_done(aws: StrictAws, rt: Runtime, run: RunRef) -> None:
    # GIVEN an auto-scaled table boosted to 400, and DynamoDB refusing Application Auto Scaling's
    # next change
    create_scaled_table(rt)
    entry = boosted_by_an_earlier_state(rt, aws, run)
    aws.fail_scaling(1, table="orders")

    # WHEN it is restored
    result = restore_table(rt, rt.ledger(), entry, aws.now)

    # THEN it is pending with the reason, to be tried again, not reported restored
    assert result.kind == "pending"
    assert "has not brought its read capacity (400 RCU) into the owner's range 5-200 RCU" in result.reason
    assert result.retry_after is not None
    assert capacity(rt) == ("ACTIVE", 400)
    assert ledger_entry(rt).status == "pending"


def test_a_boost_that_stayed_inside_the_owners_range_is_restored_without_a_decrease(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN an auto-scaled table (5..1,000) boosted to 400, inside its owner's range
    create_scaled_table(rt, bounds=(5, 1_000))
    entry = boosted_by_an_earlier_state(rt, aws, run)

    # WHEN it is restored
    result = restore_table(rt, rt.ledger(), entry, aws.now)

    # THEN the bounds are back, the capacity stays where it is for the owner's policy to lower,
    # and no decrease of the day is spent
    assert result.kind == "restored"
    assert bounds(rt) == (5, 1_000, True)
    assert capacity(rt) == ("ACTIVE", 400)
    assert aws.decreases_today("orders") == 0


def test_restored_bounds_are_exact_even_when_the_table_was_already_in_range(
    aws: StrictAws, rt: Runtime, run: RunRef, sleeps: list[float]
) -> None:
    # GIVEN an auto-scaled table whose raise was recorded but never happened (the run died first)
    create_scaled_table(rt)
    dynamodb, autoscaling = rt.client("dynamodb"), rt.client("application-autoscaling")
    live = read_capacity_state(dynamodb, autoscaling, dynamodb.describe_table(TableName="orders")["Table"])
    entry = rt.ledger().record_original(run.run_id, run.execution_id, live)

    # WHEN it is restored
    result = restore_table(rt, rt.ledger(), entry, aws.now)

    # THEN it is restored at once: nothing to wait for, nothing changed
    assert result.kind == "restored" and result.reason == ""
    assert capacity(rt) == ("ACTIVE", 5)
    assert bounds(rt) == (5, 200, True)
    assert sleeps == []
    assert aws.scaling_activities == []


# --------------------------------------------------------------------------------------------
# The share an export is told to read, at pipeline creation
# --------------------------------------------------------------------------------------------


def test_a_table_switched_to_on_demand_since_planning_is_read_at_the_on_demand_share(
    aws: StrictAws, rt: Runtime, run: RunRef
) -> None:
    # GIVEN a table planned as provisioned (read at 0.5 of its own capacity) that its owner has
    # switched to on-demand since: the export tool would read it at 0.5 of 40,000 RCU
    rt.client("dynamodb").create_table(
        TableName="carts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = PlannedTable(
        name="carts", size_bytes=10**9, original_read_capacity_units=50, read_capacity_units=50,
        read_throughput_percent=0.5, estimated_seconds=600,
    )  # fmt: skip
    batch = Batch(id="b0001", estimated_seconds=1200, tables=[table])

    # WHEN its pipeline is created
    percents = read_percents(rt, None, run, batch.tables)

    # THEN it is read at the on-demand share, 0.1 (4,000 read request units a second)
    assert percents == {"carts": 0.1}
