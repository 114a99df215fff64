"""A local stack for the operator commands' tests (``run``, ``status``, ``history``, ``freshness``).

The local stack answers DescribeStacks for ``hippolyte-test`` (its outputs and parameters), so the
commands find the state machine and the bucket through ``--stack`` or ``$HIPPOLYTE_STACK`` as they
would in an account. Each stack runs on a simulated clock that starts on 2026-11-28 at 00:10:05 UTC
and moves only when a Wait state or the test moves it: nights start when the test says, and ages
are measured on that clock, never on today's date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from hippolyte_local.fleet import DemoTable
from hippolyte_local.lambda_runtime import InvocationHook
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.simulated_time import SimulatedClock

from tests.statemachine.fleet_support import TEST_PARAMETERS, build

STACK = "hippolyte-test"
START = datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC)
TABLES = ["orders-0", "orders-1", "orders-2"]
# A console link to one of the stack's backup executions; ``name`` is the execution's.
LINK = re.compile(
    r"https://us-east-1\.console\.aws\.amazon\.com/states/home\?region=us-east-1#/v2/executions/details/"
    r"arn:aws:states:us-east-1:123456789012:execution:hippolyte-test-backup:(?P<name>[\w.-]+)$"
)
# Following looks at the night every 50 ms: a local night takes a few seconds.
FOLLOW = ["--follow", "--interval", "0.05", "--poll-seconds", "120"]


@contextmanager
def deployed(
    failing: set[str] | None = None, before_invoke: InvocationHook | None = None
) -> Iterator[tuple[LocalSession, SimulatedClock]]:
    """A local stack holding three small tables, on a simulated clock; EMR fails the ``failing`` tables."""
    clock = SimulatedClock(START)
    with local_session(
        parameters=TEST_PARAMETERS, clock=clock, emr={"fail_tables": failing or set()}, before_invoke=before_invoke
    ) as session:
        build(session, [DemoTable(name, items=5, item_bytes=100, rcu=5) for name in TABLES])
        yield session, clock


def executions(session: LocalSession) -> list[str]:
    """The names of the backup state machine's executions."""
    sfn = session.client("stepfunctions")
    arn = session.stack.state_machines["BackupStateMachine"]
    return [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]
