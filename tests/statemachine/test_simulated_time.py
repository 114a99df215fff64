"""The local run's one time source: executions start, and Wait states pass, on the test's clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from hippolyte_local.simulated_time import one_time_source
from moto import mock_aws

from tests.support.aws_rules import FakeClock

ROLE = "arn:aws:iam::123456789012:role/local"
# A night's shape in miniature: wait an hour, then end.
DEFINITION = {
    "StartAt": "WaitAnHour",
    "TimeoutSeconds": 7200,
    "States": {
        "WaitAnHour": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture
def sfn() -> Iterator[Any]:
    """moto's Step Functions, executing state machines."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def run_to_end(sfn: Any, machine: str, name: str) -> dict[str, Any]:
    """Start an execution and return its description once it has ended."""
    arn = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
    for _ in range(600):
        description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.05)
    raise AssertionError("the execution never ended")


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 11, 28, 0, 10, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2031, 6, 15, 13, 45, tzinfo=UTC),
    ],
    ids=str,
)
def test_an_execution_starts_and_waits_on_the_simulated_clock(sfn: Any, start: datetime) -> None:
    # GIVEN a state machine that reads its start time and waits an hour, and a clock at ``start``
    machine = sfn.create_state_machine(name="night", definition=json.dumps(DEFINITION), roleArn=ROLE)["stateMachineArn"]
    clock = FakeClock(start)

    # WHEN it runs with the clock as the run's one time source
    with one_time_source(clock) as waits:
        description = run_to_end(sfn, machine, "simulated")

    # THEN the execution started at the clock's time, whatever today's date is
    assert description["status"] == "SUCCEEDED"
    assert description["startDate"] == start
    # AND its hour of waiting moved the clock on by an hour
    assert waits == [3600]
    assert clock.now() == start + timedelta(hours=1)


def test_without_a_clock_executions_keep_the_real_time(sfn: Any) -> None:
    # GIVEN the same state machine, but with its Wait shortened to nothing
    definition = json.loads(json.dumps(DEFINITION))
    definition["States"]["WaitAnHour"]["Seconds"] = 0
    machine = sfn.create_state_machine(name="real", definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    before = datetime.now(UTC)

    # WHEN it runs with no clock given
    with one_time_source(None) as waits:
        description = run_to_end(sfn, machine, "real")

    # THEN it is stamped with the real time, and no wait was simulated
    assert description["status"] == "SUCCEEDED"
    assert before - timedelta(seconds=1) <= description["startDate"] <= datetime.now(UTC) + timedelta(seconds=1)
    assert waits == []
