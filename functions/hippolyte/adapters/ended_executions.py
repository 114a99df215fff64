"""What NotifyExecutionEnded asks AWS: how an execution ended, and whether a marker is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hippolyte.errors import ExecutionDetailsUnavailableError, MarkerUnreadableError
from hippolyte.execution_alert import EndedExecution, ExecutionStatusChange

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_stepfunctions import SFNClient

# HeadObject's answer for a key that does not exist, given s3:ListBucket (S3 API Reference,
# HeadObject: without it, S3 answers 403 instead).
_MISSING = ("404", "NoSuchKey", "NotFound")


def describe_ended_execution(sfn: SFNClient, execution_arn: str) -> EndedExecution:
    """How an execution ended, from DescribeExecution; raises :class:`ExecutionDetailsUnavailableError`.

    ``error`` and ``cause`` are what the execution failed with (a Fail state's, States.Timeout for a
    timeout, or what StopExecution was given; Step Functions API Reference, DescribeExecution).
    """
    try:
        described = sfn.describe_execution(executionArn=execution_arn)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        raise ExecutionDetailsUnavailableError(f"DescribeExecution of {execution_arn} failed: {code}") from error
    return EndedExecution(
        arn=execution_arn,
        name=described["name"],
        state_machine_arn=described["stateMachineArn"],
        status=described["status"],
        error=described.get("error"),
        cause=described.get("cause"),
        started_at=described.get("startDate"),
        stopped_at=described.get("stopDate"),
    )


def as_described_by_event(change: ExecutionStatusChange, why: str) -> EndedExecution:
    """What the event itself says of the execution, when DescribeExecution cannot say more."""
    return EndedExecution(
        arn=change.execution_arn,
        name=change.name,
        state_machine_arn=change.state_machine_arn,
        status=change.status,
        unavailable=why,
    )


def stored_object_exists(s3: S3Client, bucket: str, key: str) -> bool:
    """Whether ``key`` exists in ``bucket``; raises :class:`MarkerUnreadableError` when S3 will not say."""
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in _MISSING:
            return False
        raise MarkerUnreadableError(f"s3://{bucket}/{key} could not be read: {code}") from error
    return True
