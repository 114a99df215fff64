"""The capacity ledger: each table's original capacity, written durably before anything changes.

A DynamoDB table in the stack, keyed ``table_name`` (partition) and ``run_id`` (sort). Writes are
conditional, so a retried state never overwrites a record, and a later run never records an
already-boosted value as the original: when an earlier run's record is still open (its restore
is pending, or the run died), the new record copies that record's original instead of the live
values, and the earlier record is marked superseded.

The same table holds each table's **run lease**: one item per table under the sort key
``#lease`` (a name no execution can have: Step Functions refuses ``#`` in execution names),
naming the run that backs the table up and until when. A run takes the lease before it touches a
table, so two runs (the schedule and a manual re-run, or a long window and a retry) never boost,
record and restore the same table at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from hippolyte.capacity import CapacityState

if TYPE_CHECKING:
    from types_boto3_dynamodb.service_resource import Table
    from types_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

LedgerStatus = Literal["recorded", "raised", "restored", "pending", "gone", "superseded"]
OPEN_STATUSES: frozenset[str] = frozenset({"recorded", "raised", "pending"})
# Closed records are kept this long for audit, then DynamoDB's TTL deletes them (attribute
# ``expires_at``, epoch seconds, set in template.yaml), so the ledger's scans stay small.
CLOSED_RECORD_DAYS = 90
LEASE_KEY = "#lease"
# DynamoDB API reference, TransactWriteItems: "up to 100 action requests" in one transaction.
TRANSACTION_MAX_ACTIONS = 100
# TransactionCanceledException's per-action codes (DynamoDB API reference, TransactWriteItems) for
# which the action is tried again on its own: its condition failed, or another transaction was
# writing the same item.
_RETRIED_ALONE = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


class Lease(BaseModel):
    """Which run holds a table's lease, and until when."""

    model_config = ConfigDict(extra="ignore")

    table_name: str
    holder_run_id: str
    holder_execution_id: str
    until: datetime


class LedgerEntry(BaseModel):
    """One table's record for one run."""

    model_config = ConfigDict(extra="forbid")

    table_name: str
    run_id: str
    execution_id: str
    status: LedgerStatus
    original: CapacityState
    boosted_rcu: int | None = None
    reason: str = ""
    retry_after: datetime | None = None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        """True while the table may not be at its original capacity."""
        return self.status in OPEN_STATUSES


def _to_item(entry: LedgerEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "table_name": entry.table_name,
        "run_id": entry.run_id,
        "execution_id": entry.execution_id,
        "status": entry.status,
        "original": entry.original.model_dump_json(),
        "reason": entry.reason,
        "updated_at": entry.updated_at.isoformat(),
    }
    if entry.boosted_rcu is not None:
        item["boosted_rcu"] = entry.boosted_rcu
    if entry.retry_after is not None:
        item["retry_after"] = entry.retry_after.isoformat()
    return item


def _from_item(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        table_name=item["table_name"],
        run_id=item["run_id"],
        execution_id=item["execution_id"],
        status=item["status"],
        # Every version reads every run's records: fields a newer version added are ignored.
        original=CapacityState.model_validate(json.loads(item["original"]), extra="ignore"),
        boosted_rcu=int(item["boosted_rcu"]) if "boosted_rcu" in item else None,
        reason=item.get("reason", ""),
        retry_after=item.get("retry_after"),
        updated_at=item["updated_at"],
    )


def _lease_key(table_name: str) -> dict[str, str]:
    """The ledger key of a table's lease."""
    return {"table_name": table_name, "run_id": LEASE_KEY}


def _lease_item(lease: Lease) -> dict[str, Any]:
    """A lease as the ledger stores it."""
    return {
        **_lease_key(lease.table_name),
        "holder_run_id": lease.holder_run_id,
        "holder_execution_id": lease.holder_execution_id,
        "until": lease.until.isoformat(),
        # DynamoDB's TTL removes a lease left behind long after it ran out.
        "expires_at": int((lease.until + timedelta(days=1)).timestamp()),
    }


class CapacityLedger:
    """Reads and writes ledger entries; ``table`` is a boto3 DynamoDB ``Table`` resource."""

    def __init__(self, table: Table, clock: Any = None) -> None:
        self._table = table
        self._clock = clock or (lambda: datetime.now(UTC))

    def entries_for_table(self, table_name: str) -> list[LedgerEntry]:
        """Every run's record of one table."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("table_name").eq(table_name), "ConsistentRead": True}
        while True:
            page = self._table.query(**kwargs)
            items.extend(item for item in page.get("Items", []) if item["run_id"] != LEASE_KEY)
            if "LastEvaluatedKey" not in page:
                return [_from_item(item) for item in items]
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, table_name: str, run_id: str) -> LedgerEntry | None:
        """One run's record of one table."""
        item = self._table.get_item(Key={"table_name": table_name, "run_id": run_id}, ConsistentRead=True).get("Item")
        return _from_item(item) if item else None

    def record_original(self, run_id: str, execution_id: str, live: CapacityState) -> LedgerEntry:
        """Record a table's original capacity for a run, once.

        Returns the run's record: the existing one when a retried state calls again, or a new one
        whose original is an earlier open record's (never the live, possibly boosted, values).
        """
        existing = self.get(live.table_name, run_id)
        if existing is not None:
            return existing
        earlier = [entry for entry in self.entries_for_table(live.table_name) if entry.is_open]
        original = min(earlier, key=lambda entry: entry.updated_at).original if earlier else live
        entry = LedgerEntry(
            table_name=live.table_name,
            run_id=run_id,
            execution_id=execution_id,
            status="recorded",
            original=original,
            updated_at=self._clock(),
            reason=f"original taken over from run {earlier[0].run_id}" if earlier else "",
        )
        try:
            self._table.put_item(Item=_to_item(entry), ConditionExpression="attribute_not_exists(table_name)")
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            taken = self.get(live.table_name, run_id)
            assert taken is not None  # the condition failed because it exists
            return taken
        for old in earlier:
            self.update(old.table_name, old.run_id, status="superseded", reason=f"taken over by run {run_id}")
        return entry

    def update(
        self,
        table_name: str,
        run_id: str,
        *,
        status: LedgerStatus,
        reason: str = "",
        boosted_rcu: int | None = None,
        retry_after: datetime | None = None,
    ) -> None:
        """Move a record to a new status (the record must exist)."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status, ":r": reason, ":u": self._clock().isoformat()}
        expression = "SET #s = :s, reason = :r, updated_at = :u"
        if boosted_rcu is not None:
            expression += ", boosted_rcu = :b"
            values[":b"] = boosted_rcu
        if retry_after is not None:
            expression += ", retry_after = :t"
            values[":t"] = retry_after.isoformat()
        if status not in OPEN_STATUSES:
            expression += ", expires_at = :e"
            values[":e"] = int((self._clock() + timedelta(days=CLOSED_RECORD_DAYS)).timestamp())
        if retry_after is None:
            expression += " REMOVE retry_after"
        self._table.update_item(
            Key={"table_name": table_name, "run_id": run_id},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(table_name)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def open_entries(self, run_id: str | None = None) -> Iterator[LedgerEntry]:
        """Records whose table may still be off its original capacity (optionally of one run)."""
        condition: ConditionBase = Attr("status").is_in(sorted(OPEN_STATUSES))
        if run_id is not None:
            condition = condition & Attr("run_id").eq(run_id)
        kwargs: dict[str, Any] = {"FilterExpression": condition, "ConsistentRead": True}
        while True:
            page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                yield _from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def run_entries(self, run_id: str) -> list[LedgerEntry]:
        """Every record of one run, whatever its status."""
        kwargs: dict[str, Any] = {"FilterExpression": Attr("run_id").eq(run_id), "ConsistentRead": True}
        entries: list[LedgerEntry] = []
        while True:
            page = self._table.scan(**kwargs)
            entries.extend(_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return entries
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ------------------------------------------------------------------------------ run leases

    def take_lease(self, table_name: str, run_id: str, execution_id: str, until: datetime) -> Lease:
        """Take (or keep) a table's lease for a run; returns the lease as it now stands.

        The lease goes to this run when nobody holds it, when this run already does (a retried
        state), or when the holder's lease has run out. Otherwise the current holder's lease is
        returned, and nothing changes.
        """
        lease = Lease(table_name=table_name, holder_run_id=run_id, holder_execution_id=execution_id, until=until)
        taken = self._put_lease(
            lease,
            "attribute_not_exists(table_name) OR holder_run_id = :me OR #u < :now",
            {":me": run_id, ":now": self._clock().isoformat()},
            {"#u": "until"},
        )
        if taken:
            return lease
        held = self.lease(table_name)
        return held if held is not None else self.take_lease(table_name, run_id, execution_id, until)

    def take_over_lease(
        self, table_name: str, from_run_id: str, run_id: str, execution_id: str, until: datetime
    ) -> Lease:
        """Take a lease from a run that ended without giving it back; returns the lease as it stands.

        Conditional on ``from_run_id`` still holding it, so two runs taking over at once cannot
        both win.
        """
        lease = Lease(table_name=table_name, holder_run_id=run_id, holder_execution_id=execution_id, until=until)
        if self._put_lease(lease, "holder_run_id = :old", {":old": from_run_id}):
            return lease
        return self.take_lease(table_name, run_id, execution_id, until)

    def _put_lease(
        self, lease: Lease, condition: str, values: dict[str, str], names: dict[str, str] | None = None
    ) -> bool:
        """Write a lease if ``condition`` holds; False when it does not."""
        # DynamoDB refuses an empty ExpressionAttributeNames: it is left out when there are none.
        named: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            self._table.put_item(
                Item=_lease_item(lease),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **named,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def take_leases(self, table_names: list[str], run_id: str, execution_id: str, until: datetime) -> list[Lease]:
        """Take (or keep) many tables' leases for a run; returns each lease as it now stands, in order.

        The leases are written a hundred to a transaction, each on :meth:`take_lease`'s condition,
        so a night of 10,000 tables takes them in about 100 calls, not 10,000. A table whose
        condition fails (another run holds it) is taken alone with :meth:`take_lease`, which reads
        its holder.
        """
        condition = "attribute_not_exists(table_name) OR holder_run_id = :me OR #u < :now"
        values = {":me": run_id, ":now": self._clock().isoformat()}

        def mine(name: str) -> Lease:
            return Lease(table_name=name, holder_run_id=run_id, holder_execution_id=execution_id, until=until)

        alone: dict[str, Lease] = {}
        self._write_in_transactions(
            table_names,
            lambda name: {"Put": self._conditional(condition, values, {"#u": "until"}, Item=_lease_item(mine(name)))},
            lambda name: alone.__setitem__(name, self.take_lease(name, run_id, execution_id, until)),
        )
        return [alone[name] if name in alone else mine(name) for name in table_names]

    def release_leases(self, table_names: list[str], run_id: str) -> None:
        """Give many tables' leases back, those this run holds, a hundred to a transaction."""
        self._write_in_transactions(
            table_names,
            lambda name: {
                "Delete": self._conditional("holder_run_id = :me", {":me": run_id}, None, Key=_lease_key(name))
            },
            lambda name: self.release_lease(name, run_id),
        )

    def _write_in_transactions(
        self,
        table_names: list[str],
        action: Callable[[str], dict[str, Any]],
        alone: Callable[[str], None],
    ) -> None:
        """Write each table's ``action``, a hundred to a transaction.

        A transaction is all or nothing: when DynamoDB cancels one, the tables whose action it
        refused go to ``alone``, one by one, and the others are written together again.
        """
        for start in range(0, len(table_names), TRANSACTION_MAX_ACTIONS):
            pending = table_names[start : start + TRANSACTION_MAX_ACTIONS]
            while pending:
                refused = self._write_together([action(name) for name in pending])
                if not refused:
                    break
                for index in sorted(refused):
                    alone(pending[index])
                pending = [name for index, name in enumerate(pending) if index not in refused]

    def _conditional(
        self, condition: str, values: dict[str, str], names: dict[str, str] | None, **key_or_item: dict[str, Any]
    ) -> dict[str, Any]:
        """One conditional action of a transaction on the ledger.

        Values are plain Python: the ``Table`` resource's client writes them in DynamoDB's typed form.
        """
        action: dict[str, Any] = {
            "TableName": self._table.name,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
            **key_or_item,
        }
        if names:  # DynamoDB refuses an empty ExpressionAttributeNames
            action["ExpressionAttributeNames"] = names
        return action

    def _write_together(self, actions: list[dict[str, Any]]) -> set[int]:
        """Write ``actions`` in one transaction; returns the indexes of those to try alone.

        Empty when the transaction was written. When DynamoDB cancels it, nothing was written,
        and the actions whose condition failed or which met another transaction are returned;
        any other reason to cancel is raised.
        """
        try:
            self._table.meta.client.transact_write_items(TransactItems=cast("list[TransactWriteItemTypeDef]", actions))
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            codes = [reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])]
            refused = {index for index, code in enumerate(codes) if code in _RETRIED_ALONE}
            if not refused or any(code not in _RETRIED_ALONE | {"None"} for code in codes):
                raise
            return refused
        return set()

    def lease(self, table_name: str) -> Lease | None:
        """A table's lease, if any run holds one."""
        item = self._table.get_item(Key=_lease_key(table_name), ConsistentRead=True).get("Item")
        return Lease.model_validate(item) if item else None

    def release_lease(self, table_name: str, run_id: str) -> None:
        """Give a table's lease back, if this run holds it."""
        try:
            self._table.delete_item(
                Key=_lease_key(table_name),
                ConditionExpression="holder_run_id = :me",
                ExpressionAttributeValues={":me": run_id},
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def leases(self) -> list[Lease]:
        """Every lease in the ledger (reconcile gives back those of runs that ended)."""
        kwargs: dict[str, Any] = {"FilterExpression": Attr("run_id").eq(LEASE_KEY), "ConsistentRead": True}
        found: list[Lease] = []
        while True:
            page = self._table.scan(**kwargs)
            found.extend(Lease.model_validate(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
