"""Carrying out capacity decisions: DynamoDB UpdateTable and Application Auto Scaling targets.

Auto-scaled tables are never fought: the read target's minimum (and maximum where needed) is
raised for the boost and put back afterwards, and Application Auto Scaling itself moves the
table's capacity into the new bounds (RegisterScalableTarget, Application Auto Scaling API
reference). Their capacity is never changed with UpdateTable, which would collide with that
change (ResourceInUseException while the table is UPDATING). Scaling policies are never deleted
or changed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from hippolyte.adapters.aws_errors import error_code, error_message
from hippolyte.capacity import CapacityState, ScalingTargetState, capacity_state_from_description, scaling_during_boost
from hippolyte.errors import CapacityUpdateRefusedError, CapacityUpdateThrottledError

if TYPE_CHECKING:
    from types_boto3_application_autoscaling import ApplicationAutoScalingClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import TableDescriptionTypeDef

READ_DIMENSION: Final = "dynamodb:table:ReadCapacityUnits"
UPDATE_ATTEMPTS = 5
LIMIT_EXCEEDED = "LimitExceededException"
BASE_DELAY_SECONDS = 0.5


def resource_id(table_name: str) -> str:
    """Application Auto Scaling's id of a table."""
    return f"table/{table_name}"


def read_scaling_target(autoscaling: ApplicationAutoScalingClient, table_name: str) -> ScalingTargetState | None:
    """The table's read-capacity scalable target, or None when it is not auto-scaled."""
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[resource_id(table_name)], ScalableDimension=READ_DIMENSION
    ).get("ScalableTargets", [])
    if not targets:
        return None
    target = targets[0]
    suspended = target.get("SuspendedState") or {}
    return ScalingTargetState(
        min_capacity=target["MinCapacity"],
        max_capacity=target["MaxCapacity"],
        dynamic_scaling_in_suspended=bool(suspended.get("DynamicScalingInSuspended", False)),
        dynamic_scaling_out_suspended=bool(suspended.get("DynamicScalingOutSuspended", False)),
        scheduled_scaling_suspended=bool(suspended.get("ScheduledScalingSuspended", False)),
    )


def read_capacity_state(
    dynamodb: DynamoDBClient, autoscaling: ApplicationAutoScalingClient, table: TableDescriptionTypeDef
) -> CapacityState:
    """The live capacity state of a described table, scaling target included."""
    return capacity_state_from_description(table, read_scaling_target(autoscaling, table["TableName"]))


def set_scaling_target(
    autoscaling: ApplicationAutoScalingClient, table_name: str, state: ScalingTargetState, min_max: tuple[int, int]
) -> None:
    """Register the read target with new bounds, keeping the owner's suspended flags."""
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource_id(table_name),
        ScalableDimension=READ_DIMENSION,
        MinCapacity=min_max[0],
        MaxCapacity=min_max[1],
        SuspendedState={
            "DynamicScalingInSuspended": state.dynamic_scaling_in_suspended,
            "DynamicScalingOutSuspended": state.dynamic_scaling_out_suspended,
            "ScheduledScalingSuspended": state.scheduled_scaling_suspended,
        },
    )


def update_read_capacity(
    dynamodb: DynamoDBClient,
    table_name: str,
    read_capacity_units: int,
    write_capacity_units: int,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> int:
    """UpdateTable's read capacity, retrying LimitExceededException with backoff and full jitter.

    Returns how many times DynamoDB refused before accepting (the report mentions them). Every
    other refusal (ResourceInUseException while UPDATING, the table deleted, the decrease limit,
    which retrying now cannot help) raises :class:`CapacityUpdateRefusedError` at once, naming
    AWS's code, and the caller keeps the table pending; refusals past the attempts raise
    :class:`CapacityUpdateThrottledError`.
    """
    rng = rng or random.Random()
    for attempt in range(UPDATE_ATTEMPTS):
        try:
            dynamodb.update_table(
                TableName=table_name,
                ProvisionedThroughput={
                    "ReadCapacityUnits": read_capacity_units,
                    "WriteCapacityUnits": write_capacity_units,
                },
            )
            return attempt
        except ClientError as error:
            code = error_code(error)
            if code != LIMIT_EXCEEDED or is_decrease_limit(error):
                raise CapacityUpdateRefusedError(
                    f"{table_name}: UpdateTable refused: {code}: {error_message(error)}",
                    code,
                    table_gone=code == "ResourceNotFoundException",
                    limited=code == LIMIT_EXCEEDED,
                ) from error
            if attempt == UPDATE_ATTEMPTS - 1:
                raise CapacityUpdateThrottledError(
                    f"{table_name}: UpdateTable refused {UPDATE_ATTEMPTS} times: {error_message(error)}"
                ) from error
            sleep(rng.uniform(0, BASE_DELAY_SECONDS * 2**attempt))
    return UPDATE_ATTEMPTS  # pragma: no cover - the loop returns or raises


ACTIVE_POLLS = 12
ACTIVE_POLL_SECONDS = 5.0


def wait_until_active(
    dynamodb: DynamoDBClient,
    table_name: str,
    sleep: Callable[[float], None] = time.sleep,
    ready: Callable[[TableDescriptionTypeDef], bool] | None = None,
) -> TableDescriptionTypeDef | None:
    """DescribeTable until the table and its indexes are ACTIVE (DynamoDB takes one update at a
    time) and ``ready`` holds for the description, for about a minute at most; returns the last
    description (None: the table is gone)."""
    table: TableDescriptionTypeDef | None = None
    for _ in range(ACTIVE_POLLS):
        try:
            table = dynamodb.describe_table(TableName=table_name)["Table"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        if is_active(table) and (ready is None or ready(table)):
            return table
        sleep(ACTIVE_POLL_SECONDS)
    return table


def is_active(table: Mapping[str, Any]) -> bool:
    """Whether a described table and all its indexes are ACTIVE."""
    indexes = [index.get("IndexStatus", "ACTIVE") for index in table.get("GlobalSecondaryIndexes") or []]
    return table.get("TableStatus") == "ACTIVE" and all(status == "ACTIVE" for status in indexes)


def read_capacity_units(table: Mapping[str, Any]) -> int:
    """A described table's provisioned read capacity (0 for on-demand)."""
    return int((table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0))


def is_decrease_limit(error: ClientError) -> bool:
    """Whether a LimitExceededException is the daily decrease limit (not worth retrying today)."""
    return "decreases" in error_message(error).lower()


def restore_scaling_target(
    autoscaling: ApplicationAutoScalingClient, table_name: str, original: ScalingTargetState | None
) -> None:
    """Put the owner's read scaling target back (its min, max and suspended flags)."""
    if original is None:
        return
    set_scaling_target(autoscaling, table_name, original, (original.min_capacity, original.max_capacity))


def raise_scaling_target(
    autoscaling: ApplicationAutoScalingClient, table_name: str, original: ScalingTargetState, boosted_rcu: int
) -> None:
    """Raise the read target's bounds so the scaler keeps the boost instead of fighting it."""
    set_scaling_target(autoscaling, table_name, original, scaling_during_boost(original, boosted_rcu))
