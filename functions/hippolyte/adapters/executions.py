"""Step Functions calls: is a run's execution still alive?"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hippolyte.errors import ExecutionStatusUnknownError

if TYPE_CHECKING:
    from types_boto3_stepfunctions import SFNClient

# DescribeExecution's error for an execution Step Functions does not know (Step Functions API
# Reference, DescribeExecution, Errors). Only this one means the execution is gone: throttling,
# AccessDenied or a service error say nothing about it.
EXECUTION_GONE_CODE = "ExecutionDoesNotExist"
GONE = "GONE"


def execution_status(sfn: SFNClient, execution_arn: str) -> str:
    """An execution's status (RUNNING, SUCCEEDED, ...), or ``GONE`` when Step Functions has no record.

    Raises :class:`ExecutionStatusUnknownError` for any other error, naming its code.
    """
    try:
        status: str = sfn.describe_execution(executionArn=execution_arn)["status"]
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == EXECUTION_GONE_CODE:
            return GONE
        raise ExecutionStatusUnknownError(f"DescribeExecution of {execution_arn} failed: {code}") from error
    return status


def execution_status_reader(sfn: SFNClient) -> Callable[[str], str]:
    """A cached :func:`execution_status`: each execution is described once per pass."""
    cache: dict[str, str] = {}

    def status(execution_arn: str) -> str:
        if execution_arn not in cache:
            cache[execution_arn] = execution_status(sfn, execution_arn)
        return cache[execution_arn]

    return status
