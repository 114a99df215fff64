"""The capacity ledger in DynamoDB (moto): the record of each table's original capacity.

Its promise: a retried state never overwrites a record, and a later run never records an
already-boosted value as the original.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.capacity import CapacityState, ScalingTargetState
from hippolyte.models import IndexCapacity
from moto import mock_aws

REGION = "us-east-1"
LEDGER = "hippolyte-dev-ledger"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:hippolyte-dev-backup:{}"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # Clients cost about 0.1 s each to create: made once, used under each test's own mock_aws().
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def resource(session: boto3.session.Session) -> Any:
    return session.resource("dynamodb")


@pytest.fixture
def table(resource: Any) -> Iterator[Any]:
    with mock_aws():
        dynamodb = resource
        created = dynamodb.create_table(
            TableName=LEDGER,
            KeySchema=[
                {"AttributeName": "table_name", "KeyType": "HASH"},
                {"AttributeName": "run_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "table_name", "AttributeType": "S"},
                {"AttributeName": "run_id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield created


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(table: Any, clock: Clock) -> CapacityLedger:
    return CapacityLedger(table, clock=clock)


def state(rcu: int, name: str = "orders", scaling: ScalingTargetState | None = None) -> CapacityState:
    return CapacityState(
        table_name=name,
        billing_mode="PROVISIONED",
        read_capacity_units=rcu,
        write_capacity_units=10,
        read_scaling=scaling,
    )


def record(ledger: CapacityLedger, run: str, live: CapacityState):
    return ledger.record_original(run, EXECUTION.format(run), live)


# --------------------------------------------------------------------------------------------
# record_original
# --------------------------------------------------------------------------------------------


def test_the_original_is_recorded_with_gsis_and_scaling(ledger):
    # GIVEN a table with a GSI and a read scaling target
    original = state(
        100, scaling=ScalingTargetState(min_capacity=5, max_capacity=500, dynamic_scaling_in_suspended=True)
    ).model_copy(update={"gsis": [IndexCapacity(name="by-date", read_capacity_units=7, write_capacity_units=3)]})
    # WHEN its original is recorded for a run
    entry = record(ledger, "night-1", original)
    # THEN the ledger returns exactly that state from DynamoDB
    assert entry.status == "recorded"
    stored = ledger.get("orders", "night-1")
    assert stored is not None
    assert stored.original == original
    assert stored.execution_id == EXECUTION.format("night-1")


def test_a_retried_state_gets_the_first_record_back_never_overwritten(ledger, clock):
    # GIVEN the original recorded at 100 RCU, and the boost applied
    record(ledger, "night-1", state(100))
    clock.tick()
    # WHEN the state is retried and records again, now seeing the boosted 400 RCU
    again = record(ledger, "night-1", state(400))
    # THEN it gets the first record, and the stored original is still 100
    assert again.original.read_capacity_units == 100
    stored = ledger.get("orders", "night-1")
    assert stored is not None
    assert stored.original.read_capacity_units == 100


def test_a_concurrent_writer_loses_the_conditional_write(ledger, table, clock):
    # GIVEN a record written by a first invocation that the second did not see yet
    record(ledger, "night-1", state(100))

    class Blind(CapacityLedger):
        """Sees no record on its first looks, as an invocation racing the first one would."""

        looked = False

        def get(self, table_name, run_id):
            if not self.looked:
                self.looked = True
                return None
            return super().get(table_name, run_id)

        def entries_for_table(self, table_name):
            return []

    # WHEN the second invocation records the boosted value
    entry = Blind(table, clock=clock).record_original("night-1", EXECUTION.format("night-1"), state(400))
    # THEN DynamoDB's condition refuses the overwrite, and the first record is returned
    assert entry.original.read_capacity_units == 100
    stored = ledger.get("orders", "night-1")
    assert stored is not None
    assert stored.original.read_capacity_units == 100


def test_a_later_run_takes_over_an_open_record_with_its_original(ledger, clock):
    # GIVEN run 1 recorded 100 RCU, boosted to 400, and died before restoring
    record(ledger, "night-1", state(100))
    ledger.update("orders", "night-1", status="raised", boosted_rcu=400)
    clock.tick(60 * 24)
    # WHEN the next night's run records the table, which is still at 400
    entry = record(ledger, "night-2", state(400))
    # THEN its original is run 1's original (100), not the live boosted value
    assert entry.original.read_capacity_units == 100
    assert "night-1" in entry.reason
    # AND run 1's record is superseded, so only one record is open for the table
    old = ledger.get("orders", "night-1")
    assert old is not None
    assert old.status == "superseded"
    assert [(e.table_name, e.run_id) for e in ledger.open_entries()] == [("orders", "night-2")]


def test_a_pending_restore_is_also_taken_over(ledger, clock):
    # GIVEN run 1's restore left pending by the decrease limit
    record(ledger, "night-1", state(100))
    ledger.update(
        "orders",
        "night-1",
        status="pending",
        reason="decrease limit",
        retry_after=clock.now + timedelta(hours=1),
    )
    clock.tick(30)
    # WHEN a manual re-run records the table at its boosted 400
    entry = record(ledger, "rerun-1", state(400))
    # THEN the original is still 100
    assert entry.original.read_capacity_units == 100


def test_a_closed_record_is_not_taken_over(ledger, clock):
    # GIVEN run 1 restored its table, and its owner then raised it to 200 on purpose
    record(ledger, "night-1", state(100))
    ledger.update("orders", "night-1", status="restored")
    clock.tick(60 * 24)
    # WHEN run 2 records the table
    entry = record(ledger, "night-2", state(200))
    # THEN the owner's 200 is the new original, and run 1's record is left as it was
    assert entry.original.read_capacity_units == 200
    old = ledger.get("orders", "night-1")
    assert old is not None
    assert old.status == "restored"


def test_records_of_different_tables_are_independent(ledger):
    # GIVEN one table left open by run 1
    record(ledger, "night-1", state(100, name="orders"))
    # WHEN run 2 records another table
    entry = record(ledger, "night-2", state(50, name="customers"))
    # THEN nothing is taken over
    assert entry.original.read_capacity_units == 50
    old = ledger.get("orders", "night-1")
    assert old is not None
    assert old.status == "recorded"


# --------------------------------------------------------------------------------------------
# update, open_entries, run_entries
# --------------------------------------------------------------------------------------------


def test_update_moves_status_and_keeps_or_clears_the_retry_time(ledger, clock):
    # GIVEN a raised table
    record(ledger, "night-1", state(100))
    ledger.update("orders", "night-1", status="raised", boosted_rcu=400)
    retry = clock.now + timedelta(minutes=50)
    # WHEN its restore is refused for now
    ledger.update("orders", "night-1", status="pending", reason="decrease limit", retry_after=retry)
    pending = ledger.get("orders", "night-1")
    # THEN the ledger keeps the reason, retry time and boost
    assert pending is not None
    assert (pending.status, pending.reason, pending.boosted_rcu) == ("pending", "decrease limit", 400)
    assert pending.retry_after == retry
    # AND once restored, the retry time is gone
    clock.tick()
    ledger.update("orders", "night-1", status="restored")
    restored = ledger.get("orders", "night-1")
    assert restored is not None
    assert restored.retry_after is None
    assert restored.updated_at == clock.now
    assert not restored.is_open


def test_update_of_a_missing_record_fails(ledger):
    # GIVEN no record for the table
    # WHEN it is updated
    # THEN DynamoDB's condition refuses (an update never invents a record without an original)
    with pytest.raises(ClientError) as raised:
        ledger.update("orders", "night-1", status="restored")
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_open_entries_and_run_entries(ledger):
    # GIVEN two runs' records in several statuses
    record(ledger, "night-1", state(100, name="a-table"))
    record(ledger, "night-1", state(100, name="b-table"))
    record(ledger, "night-1", state(100, name="c-table"))
    record(ledger, "night-2", state(100, name="d-table"))
    ledger.update("a-table", "night-1", status="raised", boosted_rcu=300)
    ledger.update("b-table", "night-1", status="restored")
    ledger.update("c-table", "night-1", status="gone", reason="deleted")
    # THEN open entries are those that may be off their original, optionally of one run
    assert sorted((e.table_name, e.run_id) for e in ledger.open_entries()) == [
        ("a-table", "night-1"),
        ("d-table", "night-2"),
    ]
    assert [e.table_name for e in ledger.open_entries("night-1")] == ["a-table"]
    # AND a run's entries are all its records, whatever their status
    assert sorted(e.table_name for e in ledger.run_entries("night-1")) == ["a-table", "b-table", "c-table"]
    assert [e.table_name for e in ledger.run_entries("night-2")] == ["d-table"]


def test_closed_records_expire_after_90_days_and_open_ones_never(ledger, table, clock):
    # GIVEN two tables' records, one restored and one still raised
    record(ledger, "night-1", state(5, name="orders"))
    record(ledger, "night-1", state(5, name="carts"))
    ledger.update("orders", "night-1", status="restored")
    ledger.update("carts", "night-1", status="raised", boosted_rcu=50)

    # THEN the closed one carries DynamoDB's TTL attribute 90 days out; the open one none
    closed = table.get_item(Key={"table_name": "orders", "run_id": "night-1"})["Item"]
    still_open = table.get_item(Key={"table_name": "carts", "run_id": "night-1"})["Item"]
    assert int(closed["expires_at"]) == int(clock.now.timestamp()) + 90 * 24 * 3600
    assert "expires_at" not in still_open


def _count_calls(table: Any, operation: str) -> list[str]:
    """Record each call of ``operation`` the ledger's client makes from now on."""
    calls: list[str] = []
    # The client is shared by the module's tests: each counter is its own handler.
    table.meta.client.meta.events.register(
        f"before-call.dynamodb.{operation}", lambda **_kwargs: calls.append(operation), unique_id=f"count-{id(calls)}"
    )
    return calls


def test_a_night_takes_its_leases_a_hundred_to_a_call_and_leaves_other_runs_leases_alone(
    ledger: CapacityLedger, table: Any, clock: Clock
) -> None:
    # GIVEN 250 tables, two of them leased by a run still going and one by a run whose lease ran out
    until = clock.now + timedelta(hours=8)
    names = [f"table-{index:03d}" for index in range(250)]
    ledger.take_lease("table-007", "other-night", EXECUTION.format("other-night"), until)
    ledger.take_lease("table-180", "other-night", EXECUTION.format("other-night"), until)
    ledger.take_lease("table-099", "old-night", EXECUTION.format("old-night"), clock.now - timedelta(minutes=1))
    transactions = _count_calls(table, "TransactWriteItems")

    # WHEN this night takes the leases of all 250
    leases = ledger.take_leases(names, "this-night", EXECUTION.format("this-night"), until)

    # THEN each table's lease is answered in order: the live run keeps its two, this run holds the rest
    assert [lease.table_name for lease in leases] == names
    holders = {lease.table_name: lease.holder_run_id for lease in leases}
    assert {name for name, holder in holders.items() if holder != "this-night"} == {"table-007", "table-180"}
    assert holders["table-099"] == "this-night"
    assert ledger.lease("table-007").holder_run_id == "other-night"  # type: ignore[union-attr]
    assert ledger.lease("table-249").holder_run_id == "this-night"  # type: ignore[union-attr]
    # AND it took a handful of calls, not 250: three hundreds, two of them written again without
    # the lease another run holds
    assert 3 <= len(transactions) <= 5


def test_taking_leases_again_in_a_retried_state_keeps_them(ledger: CapacityLedger, clock: Clock) -> None:
    # GIVEN a run that has taken its leases (and its state is retried after the work was done)
    until = clock.now + timedelta(hours=8)
    names = ["a", "b", "c"]
    ledger.take_leases(names, "this-night", EXECUTION.format("this-night"), until)

    # WHEN it takes them again
    again = ledger.take_leases(names, "this-night", EXECUTION.format("this-night"), until)

    # THEN it still holds every one
    assert [lease.holder_run_id for lease in again] == ["this-night"] * 3


def test_a_night_gives_back_only_the_leases_it_holds(ledger: CapacityLedger, table: Any, clock: Clock) -> None:
    # GIVEN 150 leases of this night and one table another run took over
    until = clock.now + timedelta(hours=8)
    names = [f"table-{index:03d}" for index in range(150)]
    ledger.take_leases(names, "this-night", EXECUTION.format("this-night"), until)
    ledger.take_over_lease("table-042", "this-night", "next-night", EXECUTION.format("next-night"), until)
    transactions = _count_calls(table, "TransactWriteItems")

    # WHEN this night gives its leases back
    ledger.release_leases(names, "this-night")

    # THEN every lease is gone but the other run's
    assert [lease.table_name for lease in ledger.leases()] == ["table-042"]
    assert ledger.lease("table-042").holder_run_id == "next-night"  # type: ignore[union-attr]
    # AND in a handful of calls
    assert 2 <= len(transactions) <= 3
