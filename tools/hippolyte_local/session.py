"""One local session: in-memory AWS with the stack deployed, the EMR emulation running, and
helpers to run the real state machine and read its history.

Retry back-off in the ASL really sleeps in moto's interpreter (``time.sleep`` in
``moto.stepfunctions.parser.asl.component.common.retry.retrier_decl``); the local run replaces that
``time`` with one whose ``sleep`` returns at once, so retries happen, in order, without waiting.
The SDK's own retries (``time.sleep`` in ``botocore.endpoint``, between attempts of a throttled
call) are likewise recorded in ``session.sdk_sleeps`` instead of slept.
"""

from __future__ import annotations

import json
import time
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import botocore.endpoint
from hippolyte import runtime
from hippolyte.adapters import clients
from moto import mock_aws
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from hippolyte_local import pipeline_runs
from hippolyte_local.api_quotas import QuotaLog, enforced_quotas
from hippolyte_local.aws_calls import AwsCallLog, recording_aws_calls
from hippolyte_local.cloudformation import describing
from hippolyte_local.emr import LocalEmr
from hippolyte_local.lambda_runtime import AfterInvocationHook, InvocationHook, InvocationLog, in_process_lambdas
from hippolyte_local.large_account import fast_account_lookups
from hippolyte_local.native_export import LocalNativeExports
from hippolyte_local.simulated_time import MovableClock, SkippingClock, one_time_source
from hippolyte_local.stack import LocalStack, deploy
from hippolyte_local.table_sizes import real_table_sizes

RUNNING = "RUNNING"
# Following an execution asks for its status, first after 10 ms, then twice as long each time up
# to a second: a short test execution is seen ending at once, and a night of thousands of states
# is not asked about 20 times a second (each question is a DescribeExecution through botocore and
# moto, taking the interpreter from the threads that run the night).
FIRST_STATUS_PAUSE_SECONDS = 0.01
LONGEST_STATUS_PAUSE_SECONDS = 1.0


@dataclass
class StateRun:
    """One state of an execution's history: when it was entered and how long it took."""

    name: str
    entered: datetime
    seconds: float
    failed: bool = False


@dataclass
class ExecutionResult:
    """A finished execution: status, output or error, and its states in order."""

    arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    states: list[StateRun] = field(default_factory=list)

    @property
    def state_names(self) -> list[str]:
        """The states the execution went through, in order (repeats included)."""
        return [state.name for state in self.states]


def _no_sleep_time() -> types.SimpleNamespace:
    return types.SimpleNamespace(sleep=lambda seconds: None, time=time.time, monotonic=time.monotonic)


# Definitions moto's parser has accepted in this process. Checking one is a full ANTLR parse, and
# every session deploys the same two state machines: a definition that parsed once parses again.
_ACCEPTED_DEFINITIONS: set[str] = set()
_validate_definition = StepFunctionsParserBackend._validate_definition


def _validate_definition_once(definition: str) -> None:
    """moto's CreateStateMachine validation, run once per distinct definition (a refusal is never cached)."""
    if definition not in _ACCEPTED_DEFINITIONS:
        _validate_definition(definition)
        _ACCEPTED_DEFINITIONS.add(definition)


def execution_states(sfn: Any, arn: str) -> list[StateRun]:
    """The states an execution entered, with durations, from its history."""
    events = sfn.get_execution_history(executionArn=arn)["events"]
    open_states: dict[str, tuple[datetime, int]] = {}
    runs: list[StateRun] = []
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            name = event["stateEnteredEventDetails"]["name"]
            open_states[name] = (event["timestamp"], len(runs))
            runs.append(StateRun(name=name, entered=event["timestamp"], seconds=0.0))
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in open_states:
                entered, index = open_states.pop(name)
                runs[index].seconds = (event["timestamp"] - entered).total_seconds()
        elif kind.endswith("Failed") and open_states:
            name = list(open_states)[-1]
            runs[open_states[name][1]].failed = True
    return runs


@dataclass
class LocalSession:
    """A deployed local stack."""

    stack: LocalStack
    emr: LocalEmr
    invocations: InvocationLog
    sleeps: list[float] = field(default_factory=list)
    # The session's clock when a test gave one; Wait states then advance it (see simulated_time).
    clock: Callable[[], datetime] | None = None
    # Seconds of every Wait state that advanced the simulated clock, in order.
    waits: list[int] = field(default_factory=list)
    # Back-offs the SDK chose between attempts of a retried call (not slept).
    sdk_sleeps: list[float] = field(default_factory=list)
    # DynamoDB's native export with AWS's file layout (tests inject faults through it).
    exports: LocalNativeExports | None = None
    # Every AWS call each function's handler made (the IAM contract tests read it).
    aws_calls: AwsCallLog = field(default_factory=AwsCallLog)
    # The functions' calls against the account's API rates, when the session enforces them.
    quotas: QuotaLog | None = None

    @property
    def region(self) -> str:
        """The session's region."""
        return self.stack.region

    def client(self, service: str) -> Any:
        """A boto3 client served by the session's moto.

        Untyped on purpose: tests call any service through it and read its answers freely; the
        typed clients are the functions' own (hippolyte.adapters.clients).
        """
        make_client: Callable[..., Any] = boto3.client
        return make_client(service, region_name=self.region)

    def invoke(self, logical_id: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Invoke one of the stack's functions through the Lambda API (as a schedule would: its alias)."""
        target = self.stack.aliases.get(logical_id, self.stack.function_arns[logical_id])
        response = self.client("lambda").invoke(FunctionName=target, Payload=json.dumps(event or {}).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{logical_id} failed: {payload}")
        return payload

    def start(
        self,
        execution_input: dict[str, Any] | None = None,
        name: str | None = None,
        machine: str = "BackupStateMachine",
    ) -> str:
        """Start an execution; returns its ARN."""
        # AWS names an unnamed execution itself; moto's interpreter leaves it None (and its
        # ARN ends in ":None"), so the local run always names it, as the console does.
        kwargs: dict[str, Any] = {
            "stateMachineArn": self.stack.state_machines[machine],
            "input": json.dumps(execution_input or {}),
            "name": name or f"local-{uuid.uuid4()}",
        }
        return self.client("stepfunctions").start_execution(**kwargs)["executionArn"]

    def wait(self, arn: str, timeout: float = 120.0, on_poll: Callable[[str], None] | None = None) -> ExecutionResult:
        """Follow an execution until it ends (or the deadline passes: then it is stopped).

        On a simulated clock the execution's own ``TimeoutSeconds`` is enforced in simulated time,
        as Step Functions enforces it ("If the execution runs longer than the specified time, the
        execution fails with a States.Timeout error", Step Functions Developer Guide, "State
        machine structure in Amazon States Language"): past it, the execution ends TIMED_OUT
        (emulated here by stopping it with ``States.Timeout``), so a run that never ends fails in
        seconds.
        """
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        status_override: str | None = None
        limit = self._simulated_limit(sfn, arn)
        pause = FIRST_STATUS_PAUSE_SECONDS
        while True:
            description = sfn.describe_execution(executionArn=arn)
            if description["status"] != RUNNING:
                break
            if on_poll is not None:
                on_poll(arn)
            if limit is not None and self.clock is not None and self.clock() >= limit:
                sfn.stop_execution(
                    executionArn=arn, error="States.Timeout", cause="execution ran past its TimeoutSeconds"
                )
                description, status_override = self._after_stop(sfn, arn), "TIMED_OUT"
                break
            if time.monotonic() > deadline:
                sfn.stop_execution(executionArn=arn, error="LocalTimeout", cause=f"still running after {timeout}s")
                description = self._after_stop(sfn, arn)
                break
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_STATUS_PAUSE_SECONDS)
        output = description.get("output")
        return ExecutionResult(
            arn=arn,
            status=status_override or description["status"],
            output=json.loads(output) if output else None,
            error=description.get("error"),
            cause=description.get("cause"),
            states=execution_states(sfn, arn),
        )

    @staticmethod
    def _after_stop(sfn: Any, arn: str) -> dict[str, Any]:
        """The execution's description once a stop has landed (moto ends it on its own thread)."""
        for _ in range(100):
            description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if description["status"] != RUNNING:
                return description
            time.sleep(0.02)
        return description

    def _simulated_limit(self, sfn: Any, arn: str) -> datetime | None:
        """When a simulated execution times out: its start plus its machine's TimeoutSeconds."""
        if not isinstance(self.clock, MovableClock):
            return None
        execution = sfn.describe_execution(executionArn=arn)
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=execution["stateMachineArn"])["definition"])
        seconds = definition.get("TimeoutSeconds")
        return execution["startDate"] + timedelta(seconds=seconds) if seconds else None

    def run(
        self,
        execution_input: dict[str, Any] | None = None,
        timeout: float = 120.0,
        machine: str = "BackupStateMachine",
        name: str | None = None,
        on_poll: Callable[[str], None] | None = None,
    ) -> ExecutionResult:
        """Start an execution and wait for it."""
        return self.wait(self.start(execution_input, name=name, machine=machine), timeout=timeout, on_poll=on_poll)


@contextmanager
def local_session(
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
    before_invoke: InvocationHook | None = None,
    after_invoke: AfterInvocationHook | None = None,
    emr: dict[str, Any] | None = None,
    extra: Callable[[ExitStack], None] | None = None,
    clock: Callable[[], datetime] | None = None,
    function_timeouts: dict[str, int] | None = None,
    call_seconds: dict[str, float] | None = None,
    enforce_quotas: bool = False,
    measure_memory: bool = False,
    sleeps_take_time: bool = False,
) -> Iterator[LocalSession]:
    """In-memory AWS with Hippolyte deployed; everything is torn down on exit.

    ``clock`` is the run's one time source: the handlers' clock (tests share one with the AWS-rules
    fake), every execution's start time, and, when it can move, every Wait state (which advances it
    instead of sleeping). Without one, the real clock with Waits skipped ahead is used, so a
    night's polls take no real time. Back-off sleeps in the handlers are recorded in
    ``session.sleeps``.

    Each invocation's Lambda deadline is read on that clock (see lambda_runtime).
    ``function_timeouts`` overrides functions' ``Timeout`` by logical id; ``call_seconds`` (by
    logical id) charges each AWS call a function makes that many simulated seconds, on a clock that
    can move, so a long loop spends simulated time (none by default).

    ``enforce_quotas`` meters the functions' calls against the account's API rates on the clock
    (see api_quotas). ``sleeps_take_time`` makes the handlers' sleeps (waiting for a table to be
    ACTIVE, a client-side rate limit) and the SDK's back-off between attempts of a throttled call
    move a movable clock on, as they take Lambda time; by default they are only recorded.
    ``measure_memory`` records each invocation's peak allocation.
    """
    if clock is None:
        clock = SkippingClock()
    with ExitStack() as stack:
        stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        stack.enter_context(
            mock.patch.dict(
                "os.environ",
                {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": region},
            )
        )
        aws_calls = stack.enter_context(recording_aws_calls())
        aws_calls.clock = clock
        clients.reset()
        # The emr engine's clusters move on before every invocation (see LocalEmr.run_job_flows).
        emulators: list[LocalEmr] = []

        def clusters_then(name: str, payload: Any) -> None:
            for emulator in emulators:
                emulator.run_job_flows()
            if before_invoke is not None:
                before_invoke(name, payload)

        invocations = stack.enter_context(
            in_process_lambdas(clusters_then, after_invoke, clock=clock, measure_memory=measure_memory)
        )
        sleeps: list[float] = []
        handler_sleep = _sleeping_on(clock, sleeps) if sleeps_take_time else sleeps.append
        stack.enter_context(mock.patch.object(runtime, "SLEEP", handler_sleep))
        stack.enter_context(mock.patch.object(runtime, "CLOCK", clock))
        stack.enter_context(mock.patch.object(pipeline_runs, "CLOCK", clock))
        waits = stack.enter_context(one_time_source(clock))
        stack.enter_context(real_table_sizes())
        stack.enter_context(fast_account_lookups())
        stack.enter_context(
            mock.patch.object(
                StepFunctionsParserBackend, "_validate_definition", staticmethod(_validate_definition_once)
            )
        )
        stack.enter_context(mock.patch.object(retrier_decl, "time", _no_sleep_time()))
        sdk_sleeps: list[float] = []
        quota_log = stack.enter_context(enforced_quotas(clock)) if enforce_quotas else None
        sdk_sleep = _sleeping_on(clock, sdk_sleeps) if sleeps_take_time else sdk_sleeps.append
        sdk_time = types.SimpleNamespace(sleep=sdk_sleep, time=time.time, monotonic=time.monotonic)
        stack.enter_context(mock.patch.object(botocore.endpoint, "time", sdk_time))
        if extra is not None:
            extra(stack)
        deployed = deploy(region=region, parameters=parameters, function_timeouts=function_timeouts)
        if call_seconds:
            if not isinstance(clock, MovableClock):
                raise ValueError("call_seconds needs a clock that can move (a MovableClock)")
            aws_calls.call_seconds = {deployed.refs[logical_id]: cost for logical_id, cost in call_seconds.items()}
            aws_calls.advance = _advancing(clock)
        stack.enter_context(describing(deployed))
        emulator = stack.enter_context(LocalEmr(region=region, **(emr or {})))
        emulators.append(emulator)
        exports = stack.enter_context(LocalNativeExports(region=region, clock=clock))
        session = LocalSession(
            stack=deployed,
            emr=emulator,
            invocations=invocations,
            exports=exports,
            sleeps=sleeps,
            clock=clock,
            waits=waits,
            sdk_sleeps=sdk_sleeps,
            aws_calls=aws_calls,
            quotas=quota_log,
        )
        try:
            yield session
        finally:
            _stop_running(session)
            clients.reset()


def _advancing(clock: MovableClock) -> Callable[[float], None]:
    """What moves ``clock`` on by a number of seconds (the calls' simulated cost)."""

    def advance(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))

    return advance


def _sleeping_on(clock: Callable[[], datetime], slept: list[float]) -> Callable[[float], None]:
    """A ``sleep`` that records its seconds and moves a movable clock on by them."""

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if isinstance(clock, MovableClock) and seconds > 0:
            clock.advance(timedelta(seconds=seconds))

    return sleep


def _stop_running(session: LocalSession) -> None:
    """Let no execution outlive the mock (its thread would call AWS for real)."""
    sfn = session.client("stepfunctions")
    for arn in session.stack.state_machines.values():
        for execution in sfn.list_executions(stateMachineArn=arn, statusFilter=RUNNING).get("executions", []):
            sfn.stop_execution(executionArn=execution["executionArn"], error="LocalSessionEnded")
    time.sleep(0.1)
