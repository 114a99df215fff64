"""What a step needs from its surroundings: settings, AWS clients, the ledger and a clock.

Handlers build one :class:`Runtime` from the environment; tests and the local run build theirs
with a controllable clock. Domain modules never see it.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from hippolyte.adapters import clients
from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.errors import ConfigurationError
from hippolyte.settings import StackSettings, load_settings

if TYPE_CHECKING:
    from botocore.client import BaseClient
    from types_boto3_application_autoscaling import ApplicationAutoScalingClient
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_datapipeline import DataPipelineClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_emr import EMRClient
    from types_boto3_s3 import S3Client
    from types_boto3_sns import SNSClient
    from types_boto3_stepfunctions import SFNClient


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


# What Lambda invocations use for time and back-off. The local run and the tests replace these
# (a fake clock that DynamoDB's rules share, and no real sleeping); in Lambda they stay as they are.
CLOCK: Callable[[], datetime] = utc_now
# What an invocation keeps in hand when it decides whether to start more work: enough to save its
# progress and return its answer before Lambda's timeout stops it mid-write.
RETURN_MARGIN_SECONDS = 5.0
# An invocation's loops plan to use half the time it started with: the other half is kept for
# answers slower than a loop's estimate (a throttled call's back-off, a slow DescribeTable), so
# that no invocation comes near Lambda's timeout, whatever AWS's latency that night.
TIME_RESERVE_SHARE = 0.5
SLEEP: Callable[[float], None] = time.sleep


@dataclass
class Runtime:
    """Settings, clients and clock for one invocation."""

    settings: StackSettings
    region: str
    clock: Callable[[], datetime] = field(default=utc_now)
    sleep: Callable[[float], None] = time.sleep
    # Seconds this invocation has left before Lambda stops it (its context's remaining time);
    # unbounded outside Lambda. Loops over many tables check it and leave the rest for later.
    remaining_seconds: Callable[[], float] = field(default=lambda: math.inf)
    # Seconds of the invocation's time its loops leave unplanned (see TIME_RESERVE_SHARE).
    reserve_seconds: float = 0.0

    def has_time_for(self, seconds: float) -> bool:
        """Whether the invocation can still spend ``seconds`` and return before its timeout.

        >>> from hippolyte.settings import StackSettings
        >>> settings = StackSettings(BACKUP_BUCKET="backups")
        >>> rt = Runtime(settings=settings, region="eu-west-1", remaining_seconds=lambda: 30.0)
        >>> rt.has_time_for(25), rt.has_time_for(26)
        (True, False)
        """
        return self.remaining_seconds() - max(RETURN_MARGIN_SECONDS, self.reserve_seconds) >= seconds

    # The same typed overloads as clients.client: a step's client is checked like an adapter's.
    @overload
    def client(
        self, service: Literal["application-autoscaling"], retries: bool = True
    ) -> ApplicationAutoScalingClient: ...
    @overload
    def client(self, service: Literal["cloudformation"], retries: bool = True) -> CloudFormationClient: ...
    @overload
    def client(self, service: Literal["datapipeline"], retries: bool = True) -> DataPipelineClient: ...
    @overload
    def client(self, service: Literal["emr"], retries: bool = True) -> EMRClient: ...
    @overload
    def client(self, service: Literal["dynamodb"], retries: bool = True) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["s3"], retries: bool = True) -> S3Client: ...
    @overload
    def client(self, service: Literal["sns"], retries: bool = True) -> SNSClient: ...
    @overload
    def client(self, service: Literal["stepfunctions"], retries: bool = True) -> SFNClient: ...
    def client(self, service: clients.ServiceName, retries: bool = True) -> BaseClient:
        """A boto3 client for one service (``retries=False``: the caller handles every error)."""
        return clients.client(service, retries)

    def ledger(self) -> CapacityLedger:
        """The stack's capacity ledger."""
        if not self.settings.ledger_table:
            raise ConfigurationError("configuration LEDGER_TABLE: is empty")
        return CapacityLedger(clients.ledger_table(self.settings.ledger_table), clock=self.clock)

    @classmethod
    def from_environment(cls, context: Any = None) -> Runtime:
        """The runtime a Lambda invocation uses; ``context`` (Lambda's) gives the time it has left."""
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return cls(
            settings=load_settings(),
            region=region,
            clock=CLOCK,
            sleep=SLEEP,
            remaining_seconds=(lambda: remaining() / 1000) if callable(remaining) else (lambda: math.inf),
            reserve_seconds=remaining() / 1000 * TIME_RESERVE_SHARE if callable(remaining) else 0.0,
        )


def account_of(arn: str) -> str:
    """The account id in an ARN.

    >>> account_of("arn:aws:states:eu-west-1:123456789012:execution:backup:nightly")
    '123456789012'
    """
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else "unknown"
