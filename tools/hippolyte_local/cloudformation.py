"""CloudFormation's DescribeStacks for the local stack: what ``sam deploy`` leaves for the CLI to read.

The ``hippolyte`` command finds a deployed stack's state machines and bucket through its Outputs,
and the settings it was deployed with through its Parameters (DescribeStacks). moto's
CloudFormation needs extras this project does not install, and would deploy nothing the local run
uses, so while a local session lasts the local run answers DescribeStacks itself for its stack
(``hippolyte-<stage>``): the template's Outputs resolved against what was deployed, and the
parameters it was deployed with. Any other stack does not exist, and any other CloudFormation call
is refused, as moto would refuse a call it cannot serve.

The answer is given the way botocore's own ``Stubber`` gives one: a ``before-call`` handler
returns the response, so no request is sent. The handlers join botocore's built-in handlers, which
every botocore session created afterwards registers (the CLI makes one per command).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from hippolyte_local.aws_calls import install_builtin_hooks
from hippolyte_local.stack import ACCOUNT_ID, LocalStack

# The stacks of the sessions open now, innermost last (the hooks are installed once and answer
# nothing while none is open).
_STACKS: list[LocalStack] = []
# DescribeStacks' StackName, kept from ``before-parameter-build`` (``before-call`` only has the
# serialised request).
_STACK_NAME: ContextVar[str | None] = ContextVar("hippolyte_local_stack_name", default=None)
_CREATED = datetime(2026, 1, 1, tzinfo=UTC)


def describe(stack: LocalStack) -> dict[str, Any]:
    """DescribeStacks' description of the local stack, as after a successful ``sam deploy``."""
    return {
        "StackId": f"arn:aws:cloudformation:{stack.region}:{ACCOUNT_ID}:stack/{stack.name}/local",
        "StackName": stack.name,
        "CreationTime": _CREATED,
        "StackStatus": "CREATE_COMPLETE",
        "Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in stack.parameters.items()],
        "Outputs": [{"OutputKey": key, "OutputValue": value} for key, value in stack.outputs.items()],
    }


def _keep_stack_name(params: dict[str, Any], model: Any, **_: Any) -> None:
    if _STACKS and model.name == "DescribeStacks":
        _STACK_NAME.set(params.get("StackName"))


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("", 400, HTTPHeaders(), None), {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def _answer(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    stacks = list(_STACKS)
    if not stacks:
        return None
    stack = stacks[-1]
    if model.name != "DescribeStacks":
        return _error("InvalidAction", f"the local run answers only DescribeStacks, not {model.name}")
    name = _STACK_NAME.get()
    if name is not None and name not in (stack.name, describe(stack)["StackId"]):
        return _error("ValidationError", f"Stack with id {name} does not exist")
    return AWSResponse("", 200, HTTPHeaders(), None), {
        "Stacks": [describe(stack)],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }


_HOOKS: list[tuple[str, Callable[..., Any]]] = [
    ("before-parameter-build.cloudformation", _keep_stack_name),
    ("before-call.cloudformation", _answer),
]


def _install() -> None:
    install_builtin_hooks(_HOOKS)


@contextmanager
def describing(stack: LocalStack) -> Iterator[None]:
    """Answer DescribeStacks for ``stack`` to clients whose botocore session starts in the block."""
    _install()
    _STACKS.append(stack)
    try:
        yield
    finally:
        _STACKS.remove(stack)
