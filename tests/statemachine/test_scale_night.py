"""A night of a few hundred generated tables, with the invariants the 10,000-table bench asserts,
on the datapipeline engine and on the emr engine.

The same simulated night as ``make bench-scale`` (tests.support.scale_night): the real state
machine and handlers, AWS's rules, the account's API rates, Lambda's timeout and EMR's timing, all
on a simulated clock, so it runs in seconds whatever the machine and the date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hippolyte.history_budget import MIN_POLL_SECONDS
from hippolyte_local.api_quotas import ApiQuota, enforced_quotas
from hippolyte_local.aws_calls import invoking, recording_aws_calls
from hippolyte_local.simulated_time import SimulatedClock
from moto import mock_aws

from tests.support.scale_night import HISTORY_QUOTA, PAYLOAD_QUOTA, POLL_SECONDS, NightResult, run_night

TABLES = 200


@pytest.fixture(scope="module", params=["datapipeline", "emr"])
def night(request: pytest.FixtureRequest) -> NightResult:
    """One night of the generated account on each cluster engine, shared by the invariants below."""
    return run_night(TABLES, engine=request.param)


def test_every_table_ends_the_night_backed_up_or_reported_with_its_reason(night: NightResult) -> None:
    assert night.unaccounted == []
    assert night.outcomes["backed_up"] + night.outcomes["failed"] == TABLES
    assert all(reason for reason in night.failures.values())
    assert night.status == ("SUCCEEDED" if not night.failures else "FAILED"), night.error


def test_capacity_ends_as_the_night_found_it_with_no_lease_open(night: NightResult) -> None:
    # The plan raised some tables (the night paid for boosts), and every one came back.
    assert night.cost_usd["rcu_boosts"] > 0
    assert night.capacity_differs == []
    assert night.open_leases == []


def test_every_quota_keeps_twice_its_use_in_hand(night: NightResult) -> None:
    used = [quota for quota in night.quotas if quota.calls]
    assert {q.name for q in used} >= {"dynamodb:ListTagsOfResource"}
    assert night.engine == "emr" or "data-pipeline:CreatePipeline" in {q.name for q in used}
    assert [(q.name, round(q.headroom, 2)) for q in used if q.headroom < 2.0] == []
    assert night.throttles == 0
    assert night.history_events * 2 <= HISTORY_QUOTA
    assert max(night.largest_input, night.largest_output) * 2 <= PAYLOAD_QUOTA


def test_the_loop_polls_when_work_is_due_never_under_the_history_floor(night: NightResult) -> None:
    # Tables end between polls: the loop looks again soon after each expected end rather than a
    # whole interval later, and never more often than the history budget allows.
    assert night.poll_waits, "the night never waited for its pipelines"
    assert min(night.poll_waits) >= MIN_POLL_SECONDS
    assert max(night.poll_waits) <= POLL_SECONDS
    assert sum(1 for wait in night.poll_waits if wait < POLL_SECONDS) >= len(night.poll_waits) // 2


def test_no_invocation_comes_near_its_timeout(night: NightResult) -> None:
    assert {f.function for f in night.functions} >= {"DiscoverTablesFunction", "CheckPipelinesFunction"}
    assert [(f.function, f.longest_seconds) for f in night.functions if f.longest_seconds * 2 > f.timeout_seconds] == []


def test_a_call_over_the_accounts_rate_is_refused_with_awss_throttling_error_before_it_runs() -> None:
    # GIVEN an account allowing ListTables once a second with a burst of 2, on a clock that stands
    # still, and a client that does not retry
    clock = SimulatedClock(datetime(2026, 11, 28, tzinfo=UTC))
    quota = ApiQuota("dynamodb", ("ListTables",), per_second=1, burst=2, source="test")
    with mock_aws(), recording_aws_calls(), enforced_quotas(clock, (quota,)) as log, invoking("fn"):
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
        # WHEN a function calls three times in the same instant
        dynamodb.list_tables()
        dynamodb.list_tables()
        with pytest.raises(ClientError) as refused:
            dynamodb.list_tables()
        # THEN the third gets AWS's throttling error, and only the two answered calls are counted
        assert refused.value.response["Error"]["Code"] == "ThrottlingException"
        assert log.throttles == {"ListTables": 1}
        assert len(log.calls["ListTables"]) == 2
        # AND a second later the bucket has a token again
        clock.advance(timedelta(seconds=1))
        dynamodb.list_tables()
        assert len(log.calls["ListTables"]) == 3
        # AND the headroom reads the calls against the quota: a 1/s bucket of 2 admits them
        assert log.headroom(quota) >= 1.0
