"""Capacity arithmetic and decisions: what to raise, what is safe to read, when a decrease may happen.

Pure functions over DescribeTable-shaped facts; the adapter in ``adapters/capacity.py`` carries
the decisions out. The rules, and where they come from:

* The application never loses capacity to a backup: a boosted table is read at a percentage ``p``
  of its boosted capacity ``R'`` with ``R' x (1 - p) >= R`` (its original capacity).
* A table whose boost did not happen (yet) is read at the default percentage, never more.
* Every share is within DynamoDBDataNode's readThroughputPercent range, 0.1 to 1.0 (AWS Data
  Pipeline Developer Guide, DynamoDBDataNode).
* An auto-scaled table's capacity is changed only through its Application Auto Scaling target:
  registering new bounds makes Application Auto Scaling move the capacity into them
  (Application Auto Scaling API reference, RegisterScalableTarget), and an UpdateTable of ours
  would collide with that change. Put back, its capacity is wherever Application Auto Scaling
  placed it inside the owner's bounds, not necessarily the value it had before the backup.
* DynamoDB decreases (DynamoDB developer guide, "Service, account, and table quotas"): up to 4
  decreases at any time in a UTC day, then one more in each hour with no decrease in the hour
  before, so at most 27 a day; tables and each GSI count separately.
* One update of a table at a time: a table that is not ACTIVE is left for the next attempt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hippolyte.models import (
    MAX_READ_THROUGHPUT_PERCENT,
    MIN_READ_THROUGHPUT_PERCENT,
    BillingMode,
    IndexCapacity,
)
from hippolyte.table_description import gsi_capacities

FREE_DECREASES_PER_DAY = 4  # DynamoDB quota: decreases allowed at any time in a UTC day
MAX_DECREASES_PER_DAY = 27  # 4 + one per remaining hour of the day
# Six decimals: with at most 40,000 RCU the smallest safe share (1/40,000) never rounds to 0.
PERCENT_DECIMALS = 6


class ScalingTargetState(BaseModel):
    """The read dimension's Application Auto Scaling target, as the table's owner set it."""

    model_config = ConfigDict(extra="forbid")

    min_capacity: Annotated[int, Field(ge=0)]
    max_capacity: Annotated[int, Field(ge=0)]
    dynamic_scaling_in_suspended: bool = False
    dynamic_scaling_out_suspended: bool = False
    scheduled_scaling_suspended: bool = False


class CapacityState(BaseModel):
    """Everything about a table's capacity that Hippolyte might change, and puts back."""

    model_config = ConfigDict(extra="forbid")

    table_name: str
    billing_mode: BillingMode
    read_capacity_units: Annotated[int, Field(ge=0)]
    write_capacity_units: Annotated[int, Field(ge=0)]
    gsis: list[IndexCapacity] = Field(default_factory=list)
    read_scaling: ScalingTargetState | None = None


def capacity_state_from_description(table: Mapping[str, Any], read_scaling: ScalingTargetState | None) -> CapacityState:
    """A :class:`CapacityState` from DescribeTable's ``Table`` and the scaling target (if any)."""
    throughput = table.get("ProvisionedThroughput") or {}
    return CapacityState(
        table_name=table["TableName"],
        billing_mode=(table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        read_capacity_units=throughput.get("ReadCapacityUnits", 0),
        write_capacity_units=throughput.get("WriteCapacityUnits", 0),
        gsis=gsi_capacities(table),
        read_scaling=read_scaling,
    )


def safe_read_percent(original_rcu: int, current_rcu: int, planned_percent: float, default_percent: float) -> float:
    """The share of the table's capacity the export may use, given what it really has now.

    Boosted: at most what leaves the application its original capacity. Not (or not yet)
    boosted: never more than the default share. Always within readThroughputPercent's range
    [0.1, 1.0]: a boost too small to carry even 0.1 without taking from the application (a boost
    that only partly happened, or an owner's own small raise) is read at 0.1, the share that takes
    the least from the application, and never more than the default.

    >>> safe_read_percent(100, 400, 0.75, 0.5)
    0.75
    >>> safe_read_percent(100, 400, 0.9, 0.5)   # the plan asked too much: clamp
    0.75
    >>> safe_read_percent(100, 100, 0.75, 0.5)  # the boost did not happen
    0.5
    >>> safe_read_percent(1000, 1050, 0.5, 0.5)  # 50 RCU more would allow 0.047: below the range
    0.1
    """
    if current_rcu > original_rcu > 0:
        ceiling = math.floor((1 - original_rcu / current_rcu) * 10**PERCENT_DECIMALS) / 10**PERCENT_DECIMALS
        share = min(planned_percent, ceiling) if ceiling >= MIN_READ_THROUGHPUT_PERCENT else MIN_READ_THROUGHPUT_PERCENT
    else:
        share = min(planned_percent, default_percent)
    return min(MAX_READ_THROUGHPUT_PERCENT, max(MIN_READ_THROUGHPUT_PERCENT, share))


def next_decrease_allowed(decreases_today: int, last_decrease: datetime | None, now: datetime) -> datetime | None:
    """When DynamoDB will next accept a decrease: None when it would accept one now.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 11, 28, 9, 30, tzinfo=timezone.utc)
    >>> next_decrease_allowed(2, t, t) is None
    True
    >>> next_decrease_allowed(4, t, t)
    datetime.datetime(2026, 11, 28, 10, 30, tzinfo=datetime.timezone.utc)
    """
    # botocore returns DynamoDB's timestamps in local time; the day that counts is the UTC day.
    now = now.astimezone(UTC)
    if last_decrease is None or last_decrease.astimezone(UTC).date() != now.date():
        return None  # the counter resets at midnight UTC
    if decreases_today < FREE_DECREASES_PER_DAY:
        return None
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    if decreases_today >= MAX_DECREASES_PER_DAY:
        return midnight
    after_quiet_hour = last_decrease + timedelta(hours=1)
    if now >= after_quiet_hour:
        return None
    return min(after_quiet_hour, midnight)


RestoreVerdict = Literal["in_place", "update", "wait", "decrease_limited", "gone", "now_on_demand"]


class RestoreDecision(BaseModel):
    """What to do to put one table's read capacity back."""

    verdict: RestoreVerdict
    reason: str = ""
    retry_after: datetime | None = None


def _unrestorable(original: CapacityState, table: Mapping[str, Any] | None) -> RestoreDecision | None:
    """The verdict for a table that is gone or now on-demand, else None."""
    if table is None:
        return RestoreDecision(verdict="gone", reason="the table was deleted during the run")
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if billing == "PAY_PER_REQUEST" and original.billing_mode == "PROVISIONED":
        return RestoreDecision(
            verdict="now_on_demand", reason="the table was switched to on-demand during the run; left as is"
        )
    return None


def _decrease_limited(table: Mapping[str, Any], now: datetime) -> RestoreDecision | None:
    """The verdict when DynamoDB refuses a decrease of the table now, else None."""
    throughput = table.get("ProvisionedThroughput") or {}
    last = throughput.get("LastDecreaseDateTime")
    allowed = next_decrease_allowed(throughput.get("NumberOfDecreasesToday", 0), last, now)
    if allowed is None:
        return None
    return RestoreDecision(
        verdict="decrease_limited",
        reason="DynamoDB's daily limit on capacity decreases is reached",
        retry_after=allowed,
    )


def _not_active(table: Mapping[str, Any], now: datetime) -> RestoreDecision:
    return RestoreDecision(
        verdict="wait", reason=f"table is {table.get('TableStatus')}", retry_after=now + timedelta(minutes=1)
    )


def decide_restore(original: CapacityState, table: Mapping[str, Any] | None, now: datetime) -> RestoreDecision:
    """Decide how to bring a table back to its original read capacity.

    ``table`` is DescribeTable's ``Table`` now (None: the table was deleted).
    """
    verdict = _unrestorable(original, table)
    if verdict is not None:
        return verdict
    assert table is not None
    current = (table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0)
    if current == original.read_capacity_units:
        return RestoreDecision(verdict="in_place")
    if table.get("TableStatus") != "ACTIVE":
        return _not_active(table, now)
    if current > original.read_capacity_units:
        limited = _decrease_limited(table, now)
        if limited is not None:
            return limited
    return RestoreDecision(verdict="update")


def nearest_in_bounds(capacity: int, minimum: int, maximum: int) -> int:
    """Where Application Auto Scaling puts a capacity when its target gets new bounds.

    RegisterScalableTarget (Application Auto Scaling API reference): "it changes the resource's
    current capacity to a value that is inside of this range", the nearest bound.

    >>> nearest_in_bounds(400, 5, 200), nearest_in_bounds(1, 5, 200), nearest_in_bounds(50, 5, 200)
    (200, 5, 50)
    """
    return min(max(capacity, minimum), maximum)


def decide_scaled_restore(original: CapacityState, table: Mapping[str, Any] | None, now: datetime) -> RestoreDecision:
    """Decide how to bring an auto-scaled table back: the owner's bounds, its capacity inside them.

    ``original.read_scaling`` is the owner's target. Verdicts: ``in_place`` (the capacity already
    lies in the owner's range: putting the bounds back changes nothing), ``update`` (Application
    Auto Scaling will move it to the nearest bound, and DynamoDB accepts that change now),
    ``decrease_limited`` (that move is a decrease DynamoDB refuses until ``retry_after``),
    ``wait`` (the table is not ACTIVE: RegisterScalableTarget would not move it), and ``gone`` or
    ``now_on_demand`` as for :func:`decide_restore`.
    """
    scaling = original.read_scaling
    if scaling is None:
        raise ValueError(f"{original.table_name} has no scaling target to restore")
    verdict = _unrestorable(original, table)
    if verdict is not None:
        return verdict
    assert table is not None
    current = (table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0)
    target = nearest_in_bounds(current, scaling.min_capacity, scaling.max_capacity)
    if target == current:
        return RestoreDecision(verdict="in_place")
    if table.get("TableStatus") != "ACTIVE":
        return _not_active(table, now)
    if target < current:
        limited = _decrease_limited(table, now)
        if limited is not None:
            return limited
    return RestoreDecision(verdict="update")


def boost_target(planned_rcu: int, current_rcu: int) -> int | None:
    """The RCU to set for a boost, or None when nothing should change.

    Never beyond what the plan asked, and never down: a table already at or above the plan
    (a retried state, or its own scaling) is left alone.

    >>> boost_target(400, 100)
    400
    >>> boost_target(400, 400) is None
    True
    """
    return planned_rcu if planned_rcu > current_rcu else None


def scaling_during_boost(original: ScalingTargetState, boosted_rcu: int) -> tuple[int, int]:
    """The scaling target's (min, max) while a table is boosted: raise, never lower.

    >>> scaling_during_boost(ScalingTargetState(min_capacity=5, max_capacity=100), 400)
    (400, 400)
    """
    return max(original.min_capacity, boosted_rcu), max(original.max_capacity, boosted_rcu)
