"""The account's control-plane API rates, enforced in simulated time as AWS enforces them.

moto answers every call, however fast they come. AWS meters control-plane APIs per account and
refuses calls beyond a rate with a throttling error, which the SDK retries with back-off. A
night that is correct against moto can still spend its Lambda time being throttled at 10,000
tables. :func:`enforced_quotas` puts a token bucket (rate, burst) in front of moto for every
operation in :data:`QUOTAS`, on the session's simulated clock. A call the bucket refuses gets the
error AWS returns (HTTP 400 ``ThrottlingException``) *before* moto runs it, at the HTTP layer, so
botocore's own retry handler sees it and retries it as it would against AWS (its back-off sleeps
move the simulated clock on, see :func:`hippolyte_local.session.local_session`).

Only calls made by the stack's functions are metered and recorded (the harness's set-up and the
emulated EMR are not the night's calls). Every metered or unmetered call's simulated time is
recorded per operation, for the bench's peak rates and headroom.

Rates and their sources (per account and region):

* DynamoDB (API reference per operation; Developer Guide, "Service, account, and table quotas";
  aws-facts.md): ListTagsOfResource 10/s; DescribeContinuousBackups 10/s; TagResource and
  UntagResource 5/s; DescribeTable and ListTables together 2,500/s; DescribeLimits once a minute.
  AWS states rates, not bursts: the burst here is one second's worth (at least one call).
* AWS Data Pipeline (Developer Guide, "AWS Data Pipeline Limits", web service call limits):
  ActivatePipeline, CreatePipeline, DeletePipeline, DescribePipelines, GetPipelineDefinition,
  ListPipelines, PutPipelineDefinition, ValidatePipelineDefinition 1/s with a burst of 100;
  DescribeObjects and QueryObjects 2/s with a burst of 100.
* Application Auto Scaling publishes no per-API rate (its quotas page lists only resource
  counts). Assumed: 5 calls/s with a burst of 10 for RegisterScalableTarget and
  DescribeScalableTargets each, a conservative figure from the rates of similar control planes.
* Not metered: S3 (3,500 writes and 5,500 reads a second *per prefix*, which one night's few
  calls a second never approach), SNS, Step Functions and Lambda (the stack's own calls are a
  handful per state).
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from unittest import mock

from botocore.awsrequest import AWSResponse
from hippolyte.call_rate import TokenBucket
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

from hippolyte_local.aws_calls import current_function


@dataclass(frozen=True)
class ApiQuota:
    """One rate AWS enforces: operations sharing a bucket, its rate and burst, and its source."""

    service: str  # botocore's hyphenated service id, as in "before-send.<service>.<operation>"
    operations: tuple[str, ...]
    per_second: float
    burst: float
    source: str

    @property
    def name(self) -> str:
        """How the bench names it: ``dynamodb:DescribeTable+ListTables``."""
        return f"{self.service}:{'+'.join(self.operations)}"


_DYNAMODB = "DynamoDB API reference; Developer Guide, 'Service, account, and table quotas'"
_DATAPIPELINE = "AWS Data Pipeline Developer Guide, 'AWS Data Pipeline Limits'"
_AUTOSCALING = "assumed: Application Auto Scaling publishes no per-API rate"

QUOTAS: tuple[ApiQuota, ...] = (
    ApiQuota("dynamodb", ("DescribeTable", "ListTables"), 2500, 2500, _DYNAMODB),
    ApiQuota("dynamodb", ("ListTagsOfResource",), 10, 10, _DYNAMODB),
    ApiQuota("dynamodb", ("DescribeContinuousBackups",), 10, 10, _DYNAMODB),
    ApiQuota("dynamodb", ("TagResource",), 5, 5, _DYNAMODB),
    ApiQuota("dynamodb", ("UntagResource",), 5, 5, _DYNAMODB),
    ApiQuota("dynamodb", ("DescribeLimits",), 1 / 60, 1, _DYNAMODB),
    *(
        ApiQuota("data-pipeline", (operation,), 1, 100, _DATAPIPELINE)
        for operation in (
            "ActivatePipeline",
            "CreatePipeline",
            "DeletePipeline",
            "DescribePipelines",
            "GetPipelineDefinition",
            "ListPipelines",
            "PutPipelineDefinition",
            "ValidatePipelineDefinition",
        )
    ),
    ApiQuota("data-pipeline", ("DescribeObjects",), 2, 100, _DATAPIPELINE),
    ApiQuota("data-pipeline", ("QueryObjects",), 2, 100, _DATAPIPELINE),
    ApiQuota("application-auto-scaling", ("RegisterScalableTarget",), 5, 10, _AUTOSCALING),
    ApiQuota("application-auto-scaling", ("DescribeScalableTargets",), 5, 10, _AUTOSCALING),
)

# The error AWS's JSON-protocol services return for a call over their rate (DynamoDB "Error
# handling", common errors: ThrottlingException, HTTP 400, "Rate of requests exceeds the allowed
# throughput."); botocore's retry handlers class it as throttling and retry it.
THROTTLE_STATUS = 400
THROTTLE_BODY = {"__type": "ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}


@dataclass
class QuotaLog:
    """What the night asked of each operation: call times (simulated seconds) and throttles."""

    calls: dict[str, list[float]] = field(default_factory=dict)
    throttles: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, at: float) -> None:
        """One call answered at ``at``."""
        with self.lock:
            bisect.insort(self.calls.setdefault(operation, []), at)

    def peak_per_second(self, operations: tuple[str, ...] | str) -> int:
        """The most calls of these operations in any one second."""
        times = self._times(operations)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def headroom(self, quota: ApiQuota) -> float:
        """How many times faster than it did the night could have called and stayed in the quota.

        The least rate whose bucket (with the quota's burst) admits every call as it came, found
        by bisection; the headroom is the quota's rate over it (infinite without calls).
        """
        times = self._times(quota.operations)
        if not times:
            return float("inf")
        if _admits(times, quota.per_second * 1e-6, quota.burst):
            return 1e6
        low, high = quota.per_second * 1e-6, quota.per_second * 1e3
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (low, middle) if _admits(times, middle, quota.burst) else (middle, high)
        return quota.per_second / high

    def _times(self, operations: tuple[str, ...] | str) -> list[float]:
        names = (operations,) if isinstance(operations, str) else operations
        with self.lock:
            return sorted(moment for name in names for moment in self.calls.get(name, []))


def _admits(times: list[float], per_second: float, burst: float) -> bool:
    tokens, at = burst, times[0]
    for moment in times:
        tokens = min(burst, tokens + (moment - at) * per_second) - 1
        at = moment
        if tokens < -1e-9:
            return False
    return True


def _operation(event_name: str) -> tuple[str, str]:
    _, service, operation = event_name.split(".", 2)
    return service, operation


@contextmanager
def enforced_quotas(clock: Callable[[], datetime], quotas: tuple[ApiQuota, ...] = QUOTAS) -> Iterator[QuotaLog]:
    """Meter the functions' calls against ``quotas`` on ``clock``; yields what was asked."""
    log = QuotaLog()
    by_operation = {(q.service, op): q for q in quotas for op in q.operations}
    buckets: dict[ApiQuota, TokenBucket] = {}
    lock = threading.Lock()
    original = BotocoreStubber.__call__

    def metered(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        if not self.enabled or current_function() is None:
            return original(self, event_name, request, **kwargs)
        service, operation = _operation(event_name)
        now = clock().timestamp()
        quota = by_operation.get((service, operation))
        if quota is not None:
            with lock:
                bucket = buckets.get(quota) or TokenBucket.full(quota.per_second, quota.burst, now)
                wait, taken = bucket.reserve(now)
                if wait > 0:
                    log.throttles[operation] = log.throttles.get(operation, 0) + 1
                    body = json.dumps(THROTTLE_BODY).encode()
                    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "ThrottlingException"}
                    return AWSResponse(request.url, THROTTLE_STATUS, headers, MockRawResponse(body))  # type: ignore[arg-type]
                buckets[quota] = taken
        log.record(operation, now)
        return original(self, event_name, request, **kwargs)

    with mock.patch.object(BotocoreStubber, "__call__", metered):
        yield log
