"""Running our Lambda handlers in-process when moto's Step Functions interpreter invokes them.

moto runs Lambda code in Docker through one method,
``moto.awslambda.models.LambdaFunction._invoke_lambda(self, event)``, which returns
``(response_body, errored, logs)``. :func:`in_process_lambdas` replaces it with a call to the
function's real handler (imported from its ``Handler`` string), so every Lambda task of the real
ASL runs our code, and the boto3 clients the handler creates are served by moto too. An
exception becomes the Lambda runtime's error payload, whose ``errorType`` (the class name) is
what the ASL's Retry and Catch match on, as in AWS.

A hook may instead raise :class:`LambdaServiceError`: the Invoke API call itself then fails
(HTTP 500 ``ServiceException`` or 429 ``TooManyRequestsException``), which Step Functions reports
as ``Lambda.ServiceException`` / ``Lambda.TooManyRequestsException`` ("Handling errors in Step
Functions workflows", Lambda service integration) and which the ASL retries. Raised from
``after_invoke``, it is the real fault a retried state has to survive: the work was done, the
caller never heard of it.

Each invocation has Lambda's deadline on the session's clock: its start plus the function's
configured ``Timeout`` (moto keeps it as ``LambdaFunction.timeout``). The context's
``get_remaining_time_in_millis`` counts down to it, so a handler that budgets its time sees the
simulated night's time, not the machine's. An invocation that returns after its deadline fails as
Lambda fails it: the Invoke response carries ``FunctionError: Unhandled`` and the payload
``{"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after N.NN seconds"}``; Step
Functions counts function timeouts among the unhandled errors, which ``States.ALL`` and
``States.TaskFailed`` match ("Handle Lambda service exceptions", Step Functions Developer Guide,
bp-lambda-serviceexception.html). In AWS the work after the deadline never happens; here it
happened, so a test of a timeout shows what the state machine does with the error, not what a
half-done invocation leaves behind. The clock is the session's: time another execution moves on
(its Wait states) while a handler runs counts against that handler too, so tests that run two
executions at once keep their Waits short of the functions' timeouts.
"""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError

from hippolyte_local.aws_calls import invoking

InvocationHook = Callable[[str, dict[str, Any]], None]
# Called with (function name, event, result) after the handler returned; may raise to report an
# error as if the function crashed after doing its work.
AfterInvocationHook = Callable[[str, dict[str, Any], Any], None]


class LambdaServiceError(Exception):
    """Raised by a hook: the Lambda service fails the Invoke call (the function may have run).

    ``code`` is the Lambda API error code: ``ServiceException`` (HTTP 500) or
    ``TooManyRequestsException`` (HTTP 429), as listed in the Lambda API reference for Invoke.
    """

    STATUS = {"ServiceException": 500, "TooManyRequestsException": 429}

    def __init__(self, code: str = "ServiceException", message: str = "injected Lambda service error") -> None:
        if code not in self.STATUS:
            raise ValueError(f"not a Lambda Invoke service error: {code}")
        super().__init__(message)
        self.code, self.message = code, message


class _InvokeApiError(JsonRESTError):
    """The Invoke call's own error response, as moto serves it to the caller."""

    def __init__(self, fault: LambdaServiceError) -> None:
        super().__init__(fault.code, fault.message)
        self.code = LambdaServiceError.STATUS[fault.code]


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    # When Lambda stops the invocation, on the session's clock (None: no clock, no deadline).
    deadline: datetime | None = None
    clock: Callable[[], datetime] | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's remaining time: milliseconds from the clock's now to the deadline (never below 0)."""
        if self.deadline is None or self.clock is None:
            return 900_000
        return max(0, int((self.deadline - self.clock()).total_seconds() * 1000))

    def timed_out(self) -> bool:
        """Whether the clock has passed the invocation's deadline."""
        return self.deadline is not None and self.clock is not None and self.clock() > self.deadline


def timed_out_payload(timeout_seconds: float) -> dict[str, str]:
    """The error payload Lambda returns for an invocation stopped at its timeout."""
    return {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {timeout_seconds:.2f} seconds"}


def _load_handler(spec: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, attribute = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class InvocationRun:
    """One invocation as Lambda would bill and limit it: its time on the session's clock and memory."""

    function: str
    started: datetime | None
    seconds: float
    timeout_seconds: float
    memory_mb: int
    timed_out: bool
    # Peak bytes the invocation allocated (tracemalloc), when the session measures memory.
    peak_bytes: int | None = None


@dataclass
class InvocationLog:
    """Every invocation the local run made: function name and event, in order (for tests), and
    each one's simulated duration and memory (for the scale bench)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    runs: list[InvocationRun] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _MemoryMeter:
    """tracemalloc around invocations: traced only while at least one runs, its peak reset when
    the first of them starts, so each invocation's peak counts what it (and any invocation
    running beside it) allocated, never the harness's allocations between invocations."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0

    def start(self) -> None:
        with self._lock:
            if self._running == 0:
                tracemalloc.start()
            self._running += 1

    def stop(self) -> int:
        with self._lock:
            _, peak = tracemalloc.get_traced_memory()
            self._running -= 1
            if self._running == 0:
                tracemalloc.stop()
            return peak


@contextmanager
def in_process_lambdas(
    before_invoke: InvocationHook | None = None,
    after_invoke: AfterInvocationHook | None = None,
    clock: Callable[[], datetime] | None = None,
    measure_memory: bool = False,
) -> Iterator[InvocationLog]:
    """Patch moto so Lambda invocations call our handlers; the hooks may raise to inject faults.

    With a ``clock``, each invocation's deadline is its start on that clock plus the function's
    ``Timeout``, and one that returns after it fails with ``Sandbox.Timedout``. With
    ``measure_memory``, each invocation's peak allocation is recorded (tracemalloc slows the
    handlers down while it traces).
    """
    log = InvocationLog()
    meter = _MemoryMeter() if measure_memory else None

    def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        started = clock() if clock is not None else None
        if meter is not None:
            meter.start()
        try:
            answer = run(function, event)
        finally:
            peak = meter.stop() if meter is not None else None
            seconds = (clock() - started).total_seconds() if clock is not None and started is not None else 0.0
            with log.lock:
                log.runs.append(
                    InvocationRun(
                        function=function.function_name,
                        started=started,
                        seconds=seconds,
                        timeout_seconds=float(function.timeout),
                        memory_mb=int(function.memory_size),
                        timed_out=seconds > float(function.timeout),
                        peak_bytes=peak,
                    )
                )
        return answer

    def run(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
        with log.lock:
            log.calls.append((function.function_name, payload))
        timeout = float(function.timeout)
        deadline = clock() + timedelta(seconds=timeout) if clock is not None else None
        context = LocalLambdaContext(function.function_name, function.function_arn, deadline=deadline, clock=clock)
        try:
            if before_invoke is not None:
                before_invoke(function.function_name, payload)
            # Only the handler's own calls count as the function's (the hooks are the test's).
            with invoking(function.function_name):
                result = _load_handler(str(function.handler))(payload, context)
            if after_invoke is not None:
                after_invoke(function.function_name, payload, result)
        except LambdaServiceError as fault:
            raise _InvokeApiError(fault) from None
        except Exception as error:
            if context.timed_out():
                return json.dumps(timed_out_payload(timeout)), True, ""
            body = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return json.dumps(body), True, ""
        if context.timed_out():
            return json.dumps(timed_out_payload(timeout)), True, ""
        return json.dumps(result), False, ""

    moto_invoke = LambdaFunction.invoke

    def invoke_api(function: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> str | bytes:
        # moto marks every function error "Handled"; Lambda's runtimes mark an error the handler
        # raised, and a timeout, "Unhandled", the errors Step Functions' "Handle Lambda service
        # exceptions" page calls unhandled (Invoke's FunctionError, Lambda API reference).
        answer = moto_invoke(function, body, request_headers, response_headers)
        if "x-amz-function-error" in response_headers:
            response_headers["x-amz-function-error"] = "Unhandled"
        return answer

    with (
        mock.patch.object(LambdaFunction, "_invoke_lambda", invoke),
        mock.patch.object(LambdaFunction, "invoke", invoke_api),
    ):
        yield log
