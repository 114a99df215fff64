"""Capacity changes against moto with AWS's rules enforced (tests/support/aws_rules.py StrictAws).

UpdateTable throttling is retried with exponential backoff and full jitter, a bounded number of
times; an UPDATING table is left to the caller; auto scaling targets are raised and put back with
the owner's suspended flags, and the owner's scaling policies are never touched.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hippolyte.adapters.capacity import (
    BASE_DELAY_SECONDS,
    READ_DIMENSION,
    UPDATE_ATTEMPTS,
    raise_scaling_target,
    read_capacity_state,
    read_scaling_target,
    restore_scaling_target,
    update_read_capacity,
)
from hippolyte.capacity import ScalingTargetState
from hippolyte.errors import CapacityUpdateRefusedError, CapacityUpdateThrottledError
from moto import mock_aws

from tests.support.aws_rules import StrictAws

REGION = "us-east-1"
# botocore would retry LimitExceededException itself, with real sleeps: the adapter is given a
# client without retries, as the runtime does (clients.client(..., retries=False)).
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


class RecordingRandom(random.Random):
    """A seeded Random that records the bounds of every jitter draw."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return super().uniform(a, b)


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"unexpected wait of {seconds} s")


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # Clients cost about 0.1 s each to create: made once, used under each test's own mock_aws().
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def dynamodb_client(session: boto3.session.Session) -> Any:
    return session.client("dynamodb", config=NO_RETRIES)


@pytest.fixture(scope="module")
def autoscaling_client(session: boto3.session.Session) -> Any:
    return session.client("application-autoscaling")


@pytest.fixture
def aws() -> Iterator[StrictAws]:
    with mock_aws(), StrictAws() as strict:
        yield strict


@pytest.fixture
def dynamodb(aws: StrictAws, dynamodb_client: Any) -> Any:
    client = dynamodb_client
    client.create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 100, "WriteCapacityUnits": 10},
    )
    return client


@pytest.fixture
def autoscaling(aws: StrictAws, autoscaling_client: Any) -> Any:
    return autoscaling_client


def read_capacity(dynamodb: Any, name: str = "orders") -> int:
    return dynamodb.describe_table(TableName=name)["Table"]["ProvisionedThroughput"]["ReadCapacityUnits"]


# --------------------------------------------------------------------------------------------
# update_read_capacity
# --------------------------------------------------------------------------------------------


def test_throttling_is_retried_with_growing_jittered_delays(aws, dynamodb):
    # GIVEN UpdateTable refused 4 times in a row (too many tables updating in the account)
    aws.throttle_update_table(UPDATE_ATTEMPTS - 1, table="orders")
    delays: list[float] = []
    rng = RecordingRandom(seed=7)
    # WHEN the boost is applied
    update_read_capacity(dynamodb, "orders", 400, 10, sleep=delays.append, rng=rng)
    # THEN it succeeds on the last attempt
    assert read_capacity(dynamodb) == 400
    # AND it waited once per refusal, each wait drawn from [0, cap] with the cap doubling
    assert len(delays) == UPDATE_ATTEMPTS - 1
    caps = [high for _, high in rng.bounds]
    assert caps == [BASE_DELAY_SECONDS * 2**attempt for attempt in range(UPDATE_ATTEMPTS - 1)]
    assert all(low == 0 for low, _ in rng.bounds)
    assert all(0 <= delay <= cap for delay, cap in zip(delays, caps, strict=True))
    # AND the jitter really varies the waits (two callers do not retry in lockstep)
    assert len(set(delays)) == len(delays)


def test_the_same_seed_gives_the_same_waits(aws, dynamodb):
    # GIVEN the same throttling twice, with the same seed
    runs = []
    for target in (200, 300):
        aws.throttle_update_table(2, table="orders")
        aws.settle()
        delays: list[float] = []
        update_read_capacity(dynamodb, "orders", target, 10, sleep=delays.append, rng=random.Random(3))
        runs.append(delays)
    # THEN the waits are reproducible (no randomness without a seed)
    assert runs[0] == runs[1]


def test_throttling_past_the_attempts_raises_a_named_error(aws, dynamodb):
    # GIVEN UpdateTable refused every time
    aws.throttle_update_table(UPDATE_ATTEMPTS, table="orders")
    delays: list[float] = []
    # WHEN the boost is applied
    # THEN after 5 attempts the state machine gets CapacityUpdateThrottledError naming the table
    with pytest.raises(CapacityUpdateThrottledError, match="orders") as raised:
        update_read_capacity(dynamodb, "orders", 400, 10, sleep=delays.append, rng=random.Random(1))
    # AND callers that catch every refusal see it as one made by a limit
    assert isinstance(raised.value, CapacityUpdateRefusedError) and raised.value.limited
    # AND the table is unchanged, after 4 waits (none after the last refusal)
    assert read_capacity(dynamodb) == 100
    assert len(delays) == UPDATE_ATTEMPTS - 1
    refused = [call for call in aws.update_table_calls if call.error_code == "LimitExceededException"]
    assert len(refused) == UPDATE_ATTEMPTS


def test_an_updating_table_is_not_retried(aws, dynamodb):
    # GIVEN a table still UPDATING from a first change
    update_read_capacity(dynamodb, "orders", 200, 10, sleep=no_sleep)
    delays: list[float] = []
    # WHEN another change is attempted at once
    # THEN the refusal reaches the caller (which keeps the table pending) naming
    # ResourceInUseException, without waiting
    with pytest.raises(CapacityUpdateRefusedError) as raised:
        update_read_capacity(dynamodb, "orders", 400, 10, sleep=delays.append)
    assert raised.value.code == "ResourceInUseException"
    assert not raised.value.table_gone and not raised.value.limited
    assert delays == []
    assert read_capacity(dynamodb) == 200


def test_the_daily_decrease_limit_is_refused_at_once_as_a_limit(aws, dynamodb):
    # GIVEN a table whose four decreases of the day are used up
    for target in (90, 80, 70, 60):
        update_read_capacity(dynamodb, "orders", target, 10, sleep=no_sleep)
        aws.settle()
    # WHEN a fifth decrease is attempted within the hour
    # THEN it is refused without waiting (retrying today cannot help), marked as a limit
    with pytest.raises(CapacityUpdateRefusedError) as raised:
        update_read_capacity(dynamodb, "orders", 50, 10, sleep=no_sleep)
    assert raised.value.code == "LimitExceededException"
    assert raised.value.limited and not raised.value.table_gone
    assert read_capacity(dynamodb) == 60


def test_a_deleted_table_is_refused_as_gone(aws, dynamodb):
    # GIVEN a table deleted before its capacity is changed
    dynamodb.delete_table(TableName="orders")
    # WHEN its capacity is updated
    # THEN the refusal says the table is gone
    with pytest.raises(CapacityUpdateRefusedError) as raised:
        update_read_capacity(dynamodb, "orders", 400, 10, sleep=no_sleep)
    assert raised.value.code == "ResourceNotFoundException" and raised.value.table_gone


def test_a_no_op_update_is_refused_by_aws(dynamodb):
    # GIVEN a table at 100 RCU
    # WHEN it is "updated" to 100
    # THEN AWS's ValidationException reaches the caller (callers must not ask for no-op updates)
    with pytest.raises(CapacityUpdateRefusedError) as raised:
        update_read_capacity(dynamodb, "orders", 100, 10, sleep=no_sleep)
    assert raised.value.code == "ValidationException"


# --------------------------------------------------------------------------------------------
# Auto scaling targets
# --------------------------------------------------------------------------------------------


def register(autoscaling: Any, minimum: int = 5, maximum: int = 200, **suspended: bool) -> None:
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=READ_DIMENSION,
        MinCapacity=minimum,
        MaxCapacity=maximum,
        SuspendedState={
            "DynamicScalingInSuspended": suspended.get("scale_in", False),
            "DynamicScalingOutSuspended": suspended.get("scale_out", False),
            "ScheduledScalingSuspended": suspended.get("scheduled", False),
        },
    )
    autoscaling.put_scaling_policy(
        PolicyName="orders-read-tracking",
        ServiceNamespace="dynamodb",
        ResourceId="table/orders",
        ScalableDimension=READ_DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
        },
    )


def described_target(autoscaling: Any) -> dict:
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=["table/orders"], ScalableDimension=READ_DIMENSION
    )["ScalableTargets"]
    assert len(targets) == 1
    return targets[0]


def policies(autoscaling: Any) -> list[str]:
    return [
        p["PolicyName"]
        for p in autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb", ResourceId="table/orders")[
            "ScalingPolicies"
        ]
    ]


def test_a_table_without_scaling_has_no_target(dynamodb, autoscaling):
    # GIVEN a table nobody auto-scales
    # THEN its capacity state has no scaling target
    assert read_scaling_target(autoscaling, "orders") is None
    table = dynamodb.describe_table(TableName="orders")["Table"]
    assert read_capacity_state(dynamodb, autoscaling, table).read_scaling is None


def test_restoring_a_table_without_scaling_registers_nothing(dynamodb, autoscaling):
    # GIVEN a table nobody auto-scales
    # WHEN its (absent) scaling target is restored
    restore_scaling_target(autoscaling, "orders", None)
    # THEN Hippolyte did not put the table under auto scaling
    assert autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"] == []


def test_boost_and_restore_keep_the_owners_flags_and_policies(dynamodb, autoscaling):
    # GIVEN an auto-scaled table (5..200), scale-in suspended by its owner, with a tracking policy
    register(autoscaling, 5, 200, scale_in=True)
    original = read_scaling_target(autoscaling, "orders")
    assert original == ScalingTargetState(min_capacity=5, max_capacity=200, dynamic_scaling_in_suspended=True)
    # WHEN the table is boosted to 400 and later put back
    raise_scaling_target(autoscaling, "orders", original, 400)
    during = described_target(autoscaling)
    restore_scaling_target(autoscaling, "orders", original)
    after = described_target(autoscaling)
    # THEN during the boost the scaler cannot go below (or above) the boost
    assert (during["MinCapacity"], during["MaxCapacity"]) == (400, 400)
    # AND afterwards the owner's bounds are back
    assert (after["MinCapacity"], after["MaxCapacity"]) == (5, 200)
    # AND the owner's suspended flags were kept throughout
    for target in (during, after):
        assert target["SuspendedState"]["DynamicScalingInSuspended"] is True
        assert target["SuspendedState"]["DynamicScalingOutSuspended"] is False
        assert target["SuspendedState"]["ScheduledScalingSuspended"] is False
    # AND the owner's policy is still there
    assert policies(autoscaling) == ["orders-read-tracking"]


def test_a_boost_below_the_owners_maximum_keeps_that_maximum(dynamodb, autoscaling):
    # GIVEN an auto-scaled table allowed up to 1,000
    register(autoscaling, 5, 1_000)
    original = read_scaling_target(autoscaling, "orders")
    assert original is not None
    # WHEN it is boosted to 400
    raise_scaling_target(autoscaling, "orders", original, 400)
    # THEN the minimum rises to the boost, and the maximum is not lowered
    during = described_target(autoscaling)
    assert (during["MinCapacity"], during["MaxCapacity"]) == (400, 1_000)
    assert policies(autoscaling) == ["orders-read-tracking"]
