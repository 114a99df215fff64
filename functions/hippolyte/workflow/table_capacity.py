"""Raising one table's read capacity for its backup, and putting it back.

Every change is preceded by the ledger record of the table's original state, and every
refusal from DynamoDB leaves the table pending with a reason rather than failing the run:
reconcile finishes what the run could not.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel

from hippolyte.adapters.capacity import (
    raise_scaling_target,
    read_capacity_state,
    restore_scaling_target,
    update_read_capacity,
    wait_until_active,
)
from hippolyte.adapters.ledger import CapacityLedger, LedgerEntry
from hippolyte.capacity import boost_target, decide_restore
from hippolyte.errors import CapacityUpdateThrottledError
from hippolyte.models import CapacityNote, PlannedTable, RunProgress, RunRef
from hippolyte.runtime import Runtime


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


def _error_code(error: Exception) -> str:
    return error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__


def raise_table(rt: Runtime, ledger: CapacityLedger, run: RunRef, planned: PlannedTable) -> BoostResult:
    """Record the table's original capacity, then raise its reads to what the plan asked (no more)."""
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
        raise_scaling_target(autoscaling, live.table_name, original.read_scaling, target)
    try:
        throttled = update_read_capacity(
            rt.client("dynamodb", retries=False),
            live.table_name,
            target,
            live.write_capacity_units,
            sleep=rt.sleep,
        )
    except (ClientError, CapacityUpdateThrottledError) as error:
        restore_scaling_target(autoscaling, live.table_name, original.read_scaling)
        ledger.update(live.table_name, run.run_id, status="restored", reason=f"boost refused: {_error_code(error)}")
        return BoostResult(kind="unchanged", reason=f"not raised: UpdateTable refused ({_error_code(error)})")
    ledger.update(live.table_name, run.run_id, status="raised", boosted_rcu=target)
    note = f"raised to {target} RCU after UpdateTable was throttled {throttled} time(s)" if throttled else ""
    return BoostResult(kind="raised", extra_rcu=target - original.read_capacity_units, reason=note)


def restore_table(rt: Runtime, ledger: CapacityLedger, entry: LedgerEntry, now: datetime) -> RestoreResult:
    """Bring one table back to its ledger original, or leave it pending with the reason."""
    dynamodb, autoscaling = rt.client("dynamodb"), rt.client("application-autoscaling")
    original = entry.original
    table = wait_until_active(dynamodb, entry.table_name, rt.sleep)
    decision = decide_restore(original, table, rt.clock())
    if decision.verdict in ("gone", "now_on_demand"):
        ledger.update(entry.table_name, entry.run_id, status="gone", reason=decision.reason)
        return RestoreResult(kind="gone", reason=decision.reason)
    if decision.verdict == "wait":
        ledger.update(
            entry.table_name, entry.run_id, status="pending", reason=decision.reason, retry_after=decision.retry_after
        )
        return RestoreResult(kind="pending", reason=decision.reason, retry_after=decision.retry_after)
    # The owner's scaling bounds go back first, so the scaler is free to follow the table down.
    restore_scaling_target(autoscaling, entry.table_name, original.read_scaling)
    if decision.verdict == "decrease_limited":
        ledger.update(
            entry.table_name, entry.run_id, status="pending", reason=decision.reason, retry_after=decision.retry_after
        )
        return RestoreResult(kind="pending", reason=decision.reason, retry_after=decision.retry_after)
    note = ""
    if decision.verdict == "update":
        assert table is not None
        try:
            throttled = update_read_capacity(
                rt.client("dynamodb", retries=False),
                entry.table_name,
                original.read_capacity_units,
                (table.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits", original.write_capacity_units),
                sleep=rt.sleep,
            )
        except (ClientError, CapacityUpdateThrottledError) as error:
            code = _error_code(error)
            if code == "ResourceNotFoundException":
                ledger.update(entry.table_name, entry.run_id, status="gone", reason="the table was deleted")
                return RestoreResult(kind="gone", reason="the table was deleted during the run")
            reason = f"UpdateTable refused the decrease ({code})"
            refused_by_limit = code in ("LimitExceededException", "CapacityUpdateThrottledError")
            retry_after = now + (timedelta(hours=1) if refused_by_limit else timedelta(minutes=1))
            ledger.update(entry.table_name, entry.run_id, status="pending", reason=reason, retry_after=retry_after)
            return RestoreResult(kind="pending", reason=reason, retry_after=retry_after)
        if throttled:
            note = f"restored after UpdateTable was throttled {throttled} time(s)"
    ledger.update(entry.table_name, entry.run_id, status="restored", reason=note)
    return RestoreResult(kind="restored", reason=note)
