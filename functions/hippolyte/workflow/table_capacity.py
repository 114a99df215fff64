"""Raising tables' read capacity for their backup, and putting it back.

Every change is preceded by the ledger record of the table's original state, and every
refusal from DynamoDB leaves the table pending with a reason rather than failing the run:
reconcile finishes what the run could not.

A plain table is changed with UpdateTable. An auto-scaled table is changed only through its
scaling target: Hippolyte registers new bounds, Application Auto Scaling moves the capacity into
them, and Hippolyte waits until the table is ACTIVE with the capacity where it should be before
it reports the table raised or restored.

Raising and restoring many tables stop when the invocation runs short of time (time_left); the
tables not reached get no result, and doing them on a later invocation is safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from hippolyte.adapters.capacity import (
    is_active,
    raise_scaling_target,
    read_capacity_state,
    read_capacity_units,
    restore_scaling_target,
    update_read_capacity,
    wait_until_active,
)
from hippolyte.adapters.ledger import CapacityLedger, LedgerEntry
from hippolyte.adapters.rate_limit import RateLimiter
from hippolyte.capacity import CapacityState, boost_target, decide_restore, decide_scaled_restore
from hippolyte.errors import CapacityUpdateRefusedError
from hippolyte.models import CapacityNote, PlannedTable, RunProgress, RunRef
from hippolyte.runtime import Runtime
from hippolyte.workflow.time_left import has_time_for_tables


class BoostResult(BaseModel):
    """What raising one table gave."""

    kind: Literal["raised", "unchanged", "gone"]
    extra_rcu: int = 0
    reason: str = ""


class RestoreResult(BaseModel):
    """What putting one table back gave."""

    kind: Literal["restored", "pending", "gone"]
    reason: str = ""
    retry_after: datetime | None = None


def record_restore(progress: RunProgress, name: str, result: RestoreResult) -> None:
    """Write one table's restore result into the run's progress (what the report shows)."""
    if result.kind == "pending":
        progress.capacity_pending[name] = CapacityNote(name=name, reason=result.reason, retry_after=result.retry_after)
        return
    progress.raised.pop(name, None)
    progress.capacity_pending.pop(name, None)
    if result.kind == "restored":
        progress.restored.append(name)
    if result.reason:
        progress.notes.append(f"{name}: {result.reason}")


@dataclass
class _ScaledBoost:
    """A boost handed to Application Auto Scaling, waiting to be seen on the table."""

    planned: PlannedTable
    original: CapacityState
    target: int


# Reading a table's capacity state takes a DescribeScalableTargets, whose per-account rate
# Application Auto Scaling does not publish (its quotas page lists resource counts only). Raising or
# restoring 2.5 tables a second keeps that call at half the 5 a second the local run assumes for
# it, and UpdateTable far inside DynamoDB's 500 updates in progress.
CAPACITY_CHANGES_PER_SECOND = 2.5
_Item = TypeVar("_Item")
_Begun = TypeVar("_Begun")
CAPACITY_CHANGES_BURST = 5.0


def capacity_reads_limiter(rt: Runtime) -> RateLimiter:
    """One invocation's pace for raising or restoring tables."""
    return RateLimiter(CAPACITY_CHANGES_PER_SECOND, CAPACITY_CHANGES_BURST, rt.clock, rt.sleep)


def _begin_in_time(
    rt: Runtime, items: Sequence[_Item], begin: Callable[[_Item], _Begun], bounded: bool
) -> list[_Begun]:
    """``begin`` each item in turn, paced for the account's rates and, when ``bounded``, while the
    invocation has time for another; the items not begun are left for a later invocation."""
    begun: list[_Begun] = []
    pace = capacity_reads_limiter(rt)
    for item in items:
        # Starting a table can wait for ACTIVE once, and an auto-scaled one is waited for again.
        if bounded and not has_time_for_tables(rt, 2):
            break
        pace.acquire()
        begun.append(begin(item))
    return begun


def raise_tables(
    rt: Runtime, ledger: CapacityLedger, run: RunRef, tables: Sequence[PlannedTable]
) -> list[BoostResult | None]:
    """Raise several tables' reads to what the plan asked (no more); one result per table, in order.

    A plain table gets its UpdateTable at once. An auto-scaled one gets new bounds on its scaling
    target, and Application Auto Scaling raises it; those boosts are all handed over first and
    then waited for, so the wave waits for its slowest table rather than for the sum of them.

    As many tables are raised as the invocation has time for; the others' results are None, and
    raising them later is safe (the ledger keeps the original it recorded first, and a table
    already at its boost is not updated again).
    """
    return _raise_tables(rt, ledger, run, tables, bounded=True)


def raise_table(rt: Runtime, ledger: CapacityLedger, run: RunRef, planned: PlannedTable) -> BoostResult:
    """Record the table's original capacity, then raise its reads to what the plan asked (no more)."""
    result = _raise_tables(rt, ledger, run, [planned], bounded=False)[0]
    assert result is not None
    return result


def _raise_tables(
    rt: Runtime, ledger: CapacityLedger, run: RunRef, tables: Sequence[PlannedTable], bounded: bool
) -> list[BoostResult | None]:
    outcomes = _begin_in_time(rt, tables, lambda planned: _begin_raise(rt, ledger, run, planned), bounded)
    results: list[BoostResult | None] = []
    for outcome in outcomes:
        if not isinstance(outcome, _ScaledBoost):
            results.append(outcome)
        elif bounded and not has_time_for_tables(rt):
            # Its new bounds stay registered; the next invocation registers them again and waits.
            results.append(None)
        else:
            results.append(_finish_scaled_raise(rt, ledger, run, outcome))
    return results + [None] * (len(tables) - len(outcomes))


def _begin_raise(rt: Runtime, ledger: CapacityLedger, run: RunRef, planned: PlannedTable) -> BoostResult | _ScaledBoost:
    dynamodb, autoscaling = rt.client("dynamodb"), rt.client("application-autoscaling")
    table = wait_until_active(dynamodb, planned.name, rt.sleep)
    if table is None:
        return BoostResult(kind="gone", reason="the table was deleted before its backup")
    live = read_capacity_state(dynamodb, autoscaling, table)
    if live.billing_mode == "PAY_PER_REQUEST":
        return BoostResult(kind="unchanged", reason="the table is on-demand now; nothing to raise")
    entry = ledger.record_original(run.run_id, run.execution_id, live)
    original = entry.original
    target = boost_target(planned.read_capacity_units, live.read_capacity_units)
    if target is None:
        held = max(0, live.read_capacity_units - original.read_capacity_units)
        if held:
            ledger.update(live.table_name, run.run_id, status="raised", boosted_rcu=live.read_capacity_units)
        return BoostResult(kind="raised" if held else "unchanged", extra_rcu=held)
    if table.get("TableStatus") != "ACTIVE":
        return BoostResult(kind="unchanged", reason=f"not raised: the table is {table.get('TableStatus')}")
    if original.read_scaling is not None:
        # Application Auto Scaling moves the table to the new minimum itself.
        raise_scaling_target(autoscaling, live.table_name, original.read_scaling, target)
        return _ScaledBoost(planned=planned, original=original, target=target)
    try:
        throttled = update_read_capacity(
            rt.client("dynamodb", retries=False),
            live.table_name,
            target,
            live.write_capacity_units,
            sleep=rt.sleep,
        )
    except CapacityUpdateRefusedError as error:
        ledger.update(live.table_name, run.run_id, status="restored", reason=f"boost refused: {error.code}")
        return BoostResult(kind="unchanged", reason=f"not raised: UpdateTable refused ({error.code})")
    ledger.update(live.table_name, run.run_id, status="raised", boosted_rcu=target)
    note = f"raised to {target} RCU after UpdateTable was throttled {throttled} time(s)" if throttled else ""
    return BoostResult(kind="raised", extra_rcu=target - original.read_capacity_units, reason=note)


def _finish_scaled_raise(rt: Runtime, ledger: CapacityLedger, run: RunRef, boost: _ScaledBoost) -> BoostResult:
    """Wait until Application Auto Scaling has raised the table; if it has not, put the bounds back."""
    name, original = boost.planned.name, boost.original
    table = wait_until_active(
        rt.client("dynamodb"), name, rt.sleep, ready=lambda t: read_capacity_units(t) >= boost.target
    )
    if table is None:
        ledger.update(name, run.run_id, status="gone", reason="the table was deleted")
        return BoostResult(kind="gone", reason="the table was deleted before its backup")
    current = read_capacity_units(table)
    if is_active(table) and current >= boost.target:
        ledger.update(name, run.run_id, status="raised", boosted_rcu=current)
        return BoostResult(kind="raised", extra_rcu=current - original.read_capacity_units)
    missed = f"Application Auto Scaling did not raise it to {boost.target} RCU (it has {current})"
    restore = _restore_scaled(rt, ledger, name, run.run_id, original, table)
    if restore.kind == "restored":
        return BoostResult(kind="unchanged", reason=f"not raised: {missed}")
    if restore.kind == "gone":
        return BoostResult(kind="gone", reason=restore.reason)
    # Whatever it holds now stays recorded as raised, so that the run puts it back with the others.
    return BoostResult(
        kind="raised",
        extra_rcu=max(0, current - original.read_capacity_units),
        reason=f"not raised as planned: {missed}; putting it back is pending: {restore.reason}",
    )


def restore_tables(
    rt: Runtime, ledger: CapacityLedger, entries: Sequence[LedgerEntry], now: datetime
) -> list[RestoreResult | None]:
    """Bring tables back to their ledger originals, or leave them pending with the reason; in order.

    Auto-scaled tables get their owner's scaling bounds back, all of them first, and are then
    waited for together until Application Auto Scaling has brought each one's capacity inside.

    As many tables are restored as the invocation has time for; the others' results are None,
    their ledger records stay open, and restoring them later is safe.
    """
    return _restore_tables(rt, ledger, entries, now, bounded=True)


def restore_table(rt: Runtime, ledger: CapacityLedger, entry: LedgerEntry, now: datetime) -> RestoreResult:
    """Bring one table back to its ledger original, or leave it pending with the reason."""
    result = _restore_tables(rt, ledger, [entry], now, bounded=False)[0]
    assert result is not None
    return result


def _restore_tables(
    rt: Runtime, ledger: CapacityLedger, entries: Sequence[LedgerEntry], now: datetime, bounded: bool
) -> list[RestoreResult | None]:
    # None from _begin_restore: an auto-scaled table whose bounds went back, to be waited for.
    begun = _begin_in_time(rt, entries, lambda entry: _begin_restore(rt, ledger, entry, now), bounded)
    results: list[RestoreResult | None] = []
    for entry, outcome in zip(entries, begun, strict=False):
        if outcome is not None:
            results.append(outcome)
        elif bounded and not has_time_for_tables(rt):
            # The owner's bounds are back; the next invocation registers them again and waits.
            results.append(None)
        else:
            results.append(_finish_scaled_restore(rt, ledger, entry.table_name, entry.run_id, entry.original))
    return results + [None] * (len(entries) - len(begun))


def _pending(
    ledger: CapacityLedger, name: str, run_id: str, reason: str, retry_after: datetime | None
) -> RestoreResult:
    ledger.update(name, run_id, status="pending", reason=reason, retry_after=retry_after)
    return RestoreResult(kind="pending", reason=reason, retry_after=retry_after)


def _gone(ledger: CapacityLedger, name: str, run_id: str, reason: str) -> RestoreResult:
    ledger.update(name, run_id, status="gone", reason=reason)
    return RestoreResult(kind="gone", reason=reason)


def _begin_restore(rt: Runtime, ledger: CapacityLedger, entry: LedgerEntry, now: datetime) -> RestoreResult | None:
    """Restore a plain table; for an auto-scaled one, put its bounds back and return None (to be
    verified by :func:`_finish_scaled_restore`) unless it cannot be restored now."""
    name, run_id, original = entry.table_name, entry.run_id, entry.original
    table = wait_until_active(rt.client("dynamodb"), name, rt.sleep)
    if original.read_scaling is not None:
        return _start_scaled_restore(rt, ledger, name, run_id, original, table)
    decision = decide_restore(original, table, rt.clock())
    if decision.verdict in ("gone", "now_on_demand"):
        return _gone(ledger, name, run_id, decision.reason)
    if decision.verdict in ("wait", "decrease_limited"):
        return _pending(ledger, name, run_id, decision.reason, decision.retry_after)
    note = ""
    if decision.verdict == "update":
        assert table is not None
        try:
            throttled = update_read_capacity(
                rt.client("dynamodb", retries=False),
                name,
                original.read_capacity_units,
                (table.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits", original.write_capacity_units),
                sleep=rt.sleep,
            )
        except CapacityUpdateRefusedError as error:
            if error.table_gone:
                return _gone(ledger, name, run_id, "the table was deleted during the run")
            # A limit (the daily decreases, or throttling past the retries) lifts in hours, not minutes.
            retry_after = now + (timedelta(hours=1) if error.limited else timedelta(minutes=1))
            return _pending(ledger, name, run_id, f"UpdateTable refused the decrease ({error.code})", retry_after)
        if throttled:
            note = f"restored after UpdateTable was throttled {throttled} time(s)"
    ledger.update(name, run_id, status="restored", reason=note)
    return RestoreResult(kind="restored", reason=note)


def _start_scaled_restore(
    rt: Runtime,
    ledger: CapacityLedger,
    name: str,
    run_id: str,
    original: CapacityState,
    table: Mapping[str, Any] | None,
) -> RestoreResult | None:
    """Give an auto-scaled table its owner's bounds back; None when there is a change to wait for."""
    assert original.read_scaling is not None
    decision = decide_scaled_restore(original, table, rt.clock())
    if decision.verdict in ("gone", "now_on_demand"):
        return _gone(ledger, name, run_id, decision.reason)
    if decision.verdict == "wait":
        # RegisterScalableTarget does not move a table that is not ACTIVE: try again when it is.
        return _pending(ledger, name, run_id, decision.reason, decision.retry_after)
    # The owner's bounds and flags go back even when DynamoDB refuses the decrease today: the
    # owner's scaling is in force again at once, and registering them again later (reconcile)
    # makes Application Auto Scaling retry the move.
    restore_scaling_target(rt.client("application-autoscaling"), name, original.read_scaling)
    if decision.verdict == "decrease_limited":
        return _pending(ledger, name, run_id, decision.reason, decision.retry_after)
    return None


def _finish_scaled_restore(
    rt: Runtime, ledger: CapacityLedger, name: str, run_id: str, original: CapacityState
) -> RestoreResult:
    """Wait until Application Auto Scaling has the capacity inside the owner's bounds; record what it chose."""
    scaling = original.read_scaling
    assert scaling is not None
    low, high = scaling.min_capacity, scaling.max_capacity
    table = wait_until_active(
        rt.client("dynamodb"), name, rt.sleep, ready=lambda t: low <= read_capacity_units(t) <= high
    )
    if table is None:
        return _gone(ledger, name, run_id, "the table was deleted during the run")
    current = read_capacity_units(table)
    if not (is_active(table) and low <= current <= high):
        reason = (
            f"Application Auto Scaling has not brought its read capacity ({current} RCU) into the "
            f"owner's range {low}-{high} RCU yet"
        )
        return _pending(ledger, name, run_id, reason, rt.clock() + timedelta(minutes=1))
    note = ""
    if current != original.read_capacity_units:
        note = (
            f"auto scaling bounds back to {low}-{high} RCU; Application Auto Scaling left its read capacity "
            f"at {current} RCU ({original.read_capacity_units} before the backup), for its scaling policy to adjust"
        )
    ledger.update(name, run_id, status="restored", reason=note)
    return RestoreResult(kind="restored", reason=note)


def _restore_scaled(
    rt: Runtime,
    ledger: CapacityLedger,
    name: str,
    run_id: str,
    original: CapacityState,
    table: Mapping[str, Any] | None,
) -> RestoreResult:
    """Put an auto-scaled table's bounds back and wait for its capacity to be inside them."""
    started = _start_scaled_restore(rt, ledger, name, run_id, original, table)
    return started if started is not None else _finish_scaled_restore(rt, ledger, name, run_id, original)
