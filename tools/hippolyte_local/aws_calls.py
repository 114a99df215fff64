"""Recording every AWS call each function makes in the local run, for the IAM contract tests.

botocore emits ``before-call`` once per API call that is sent (not per retry attempt; a paginator
emits it once per page), after ``before-parameter-build``, which carries the caller's parameters
(``before-call`` only has the serialised request). :func:`recording_aws_calls` adds handlers for
both events to botocore's built-in handlers (``botocore.handlers.BUILTIN_HANDLERS``, which every new
botocore session registers, the way moto installs its own ``before-send`` hook), so every client
created during the session is seen, whichever thread it runs on.

A call is attributed to the function whose handler is running on the current thread: moto's Step
Functions interpreter runs Lambda tasks on its own threads, several at once inside a Map, so the
function is held in a :class:`~contextvars.ContextVar` set around each in-process invocation
(:func:`invoking`). A handler's own worker threads (``ThreadPoolExecutor``, as DiscoverTables and
VerifyItemCount use) do not inherit context variables, so while recording, ``submit`` runs each
task in a copy of the submitter's context. Calls made outside any invocation (the test's own
set-up, the EMR and native export emulations on their threads, the interpreter calling Lambda)
belong to no function and are not recorded.

The log can also charge each call a simulated cost (:attr:`AwsCallLog.call_seconds`): a function's
call then moves the session's movable clock on by that many seconds, so a handler that loops over
many tables spends simulated time as it would in Lambda (and can run past its timeout). No cost is
set by default: calls take no simulated time.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from unittest import mock

from botocore import handlers

# The function (its name in the local stack) whose handler runs on this thread, if any.
_FUNCTION: ContextVar[str | None] = ContextVar("hippolyte_local_function", default=None)
# The logs of the sessions recording now, innermost last; the hooks are installed once, and do
# nothing while none records. Calls go to the innermost: its patch of moto's Lambda is in force.
_LOG: list[AwsCallLog] = []
_INSTALL_LOCK = threading.Lock()
# Where the caller's parameters wait, in botocore's per-request context, for ``before-call``.
_PARAMS_KEY = "hippolyte_local_params"


@dataclass(frozen=True)
class AwsCall:
    """One API call a function made: the service's IAM prefix, the operation and its parameters."""

    function: str
    # botocore's signing name, which is the IAM service prefix for every service the stack calls
    # (dynamodb, s3, datapipeline, application-autoscaling, states, sns, lambda, iam).
    service: str
    operation: str
    # The request's parameters, JSON-like values only (bodies and streams are left out).
    params: dict[str, Any]
    # When it was made, on the session's clock (None when the log has no clock).
    at: datetime | None = None


@dataclass
class AwsCallLog:
    """Every AWS call the session's functions made, in order."""

    calls: list[AwsCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Simulated seconds each call of a function costs, by function name, and what moves the clock.
    call_seconds: dict[str, float] = field(default_factory=dict)
    advance: Callable[[float], None] | None = None
    clock: Callable[[], datetime] | None = None

    def charge(self, function: str) -> None:
        """Spend one call's simulated cost for ``function`` (nothing without a cost or a clock)."""
        seconds = self.call_seconds.get(function, 0.0)
        if seconds > 0 and self.advance is not None:
            self.advance(seconds)

    def by_function(self) -> dict[str, set[tuple[str, str]]]:
        """``{function name: {(service, operation), ...}}``."""
        with self.lock:
            calls = list(self.calls)
        found: dict[str, set[tuple[str, str]]] = {}
        for call in calls:
            found.setdefault(call.function, set()).add((call.service, call.operation))
        return found


def _plain(value: Any) -> Any:
    """JSON-like data only: a PutObject body or an upload stream is not needed to name a resource."""
    if isinstance(value, dict):
        return {str(key): _plain(inner) for key, inner in value.items() if _keep(inner)}
    if isinstance(value, list | tuple):
        return [_plain(inner) for inner in value if _keep(inner)]
    return value


def _keep(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | dict | list | tuple)


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    if _FUNCTION.get() is not None and _LOG:
        context[_PARAMS_KEY] = _plain(params)


def _before_call(model: Any, context: dict[str, Any], **_: Any) -> None:
    function, logs = _FUNCTION.get(), list(_LOG)
    if function is None or not logs:
        return
    service_model = model.service_model
    service = service_model.signing_name or service_model.endpoint_prefix
    log = logs[-1]
    call = AwsCall(
        function=function,
        service=service,
        operation=model.name,
        params=context.get(_PARAMS_KEY, {}),
        at=log.clock() if log.clock is not None else None,
    )
    with log.lock:
        log.calls.append(call)
    log.charge(function)


_HOOKS: list[tuple[str, Callable[..., None]]] = [
    ("before-parameter-build", _keep_params),
    ("before-call", _before_call),
]


def install_builtin_hooks(hooks: list[tuple[str, Callable[..., Any]]]) -> None:
    """Add ``hooks`` to botocore's built-in handlers once: every botocore session made after registers them."""
    with _INSTALL_LOCK:
        for hook in hooks:
            if hook not in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.append(hook)


def _install() -> None:
    install_builtin_hooks(_HOOKS)


def current_function() -> str | None:
    """The function whose handler runs on this thread (None outside any invocation)."""
    return _FUNCTION.get()


@contextmanager
def invoking(function_name: str) -> Iterator[None]:
    """Attribute the AWS calls made on this thread, inside the block, to one function."""
    token = _FUNCTION.set(function_name)
    try:
        yield
    finally:
        _FUNCTION.reset(token)


_submit = ThreadPoolExecutor.submit


def _submit_in_context(
    executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Future[Any]:
    return _submit(executor, contextvars.copy_context().run, fn, *args, **kwargs)


@contextmanager
def recording_aws_calls() -> Iterator[AwsCallLog]:
    """Record the functions' AWS calls made by clients created while the block runs."""
    _install()
    log = AwsCallLog()
    _LOG.append(log)
    try:
        with mock.patch.object(ThreadPoolExecutor, "submit", _submit_in_context):
            yield log
    finally:
        _LOG.remove(log)
