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
"""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's remaining time; the local run has no deadline."""
        return 900_000


def _load_handler(spec: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, attribute = spec.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass
class InvocationLog:
    """Every invocation the local run made: function name and event, in order (for tests)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def in_process_lambdas(
    before_invoke: InvocationHook | None = None, after_invoke: AfterInvocationHook | None = None
) -> Iterator[InvocationLog]:
    """Patch moto so Lambda invocations call our handlers; the hooks may raise to inject faults."""
    log = InvocationLog()

    def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str | bytes) and event else (event or {})
        with log.lock:
            log.calls.append((function.function_name, payload))
        context = LocalLambdaContext(function.function_name, function.function_arn)
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
            body = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            return json.dumps(body), True, ""
        return json.dumps(result), False, ""

    with mock.patch.object(LambdaFunction, "_invoke_lambda", invoke):
        yield log
