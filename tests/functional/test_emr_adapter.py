"""The EMR adapter against moto, with EMR's cluster and step life (hippolyte_local.job_flows):
nothing is started twice, steps are found by table, and EMR refuses what it documents refusing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from hippolyte.adapters.emr import add_steps, cluster_status, cluster_steps, start_cluster, terminate_clusters
from hippolyte.emr_job_flows import EmrClusterSettings, export_step, job_flow_request
from hippolyte.errors import StepRefusedError
from hippolyte_local import job_flows, pipeline_runs
from hippolyte_local.simulated_time import SimulatedClock
from moto import mock_aws

CLUSTER = EmrClusterSettings(jar="s3://tools/t.jar", service_role="svc", instance_profile="inst")
SINCE = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def emr() -> Iterator[Any]:
    with mock_aws(), job_flows.installed():
        yield boto3.client("emr", region_name="us-east-1")


def step(table: str) -> dict[str, Any]:
    return export_step(CLUSTER.jar, f"s3://b/{table}/2026-11-28-00-10-00/", table, 0.5)


def test_a_retried_start_finds_the_cluster_it_started_instead_of_starting_another(emr: Any) -> None:
    # GIVEN a batch's cluster started once
    request = job_flow_request("hippolyte-prod-run-b0001", CLUSTER, "s3://b/logs/", {}, [step("orders")])
    first = start_cluster(emr, request, SINCE)
    # WHEN the start runs again (its state retried after its work)
    again = start_cluster(emr, request, SINCE)
    # THEN it is the same cluster, the only one, STARTING with its step PENDING
    assert again == first
    assert [c["Id"] for c in emr.list_clusters()["Clusters"]] == [first]
    assert cluster_status(emr, first).state == "STARTING"  # type: ignore[union-attr]
    assert {t: s.state for t, s in cluster_steps(emr, first).items()} == {"orders": "PENDING"}


def test_steps_already_on_the_cluster_are_not_added_again(emr: Any) -> None:
    cluster = start_cluster(emr, job_flow_request("c", CLUSTER, "s3://b/", {}, [step("orders")]), SINCE)
    add_steps(emr, cluster, [step("orders"), step("events")])
    add_steps(emr, cluster, [step("events")])
    steps = emr.list_steps(ClusterId=cluster)["Steps"]
    assert sorted(s["Config"]["Args"][1] for s in steps) == ["events", "orders"]


def test_a_terminated_cluster_refuses_steps_and_its_steps_are_cancelled(emr: Any) -> None:
    cluster = start_cluster(emr, job_flow_request("c", CLUSTER, "s3://b/", {}, [step("orders")]), SINCE)
    terminate_clusters(emr, [cluster])
    status = cluster_status(emr, cluster)
    assert status is not None and status.describe() == "TERMINATED (USER_REQUEST: Terminated by user request)"
    assert cluster_steps(emr, cluster)["orders"].state == "CANCELLED"
    with pytest.raises(StepRefusedError, match="may not be modified"):
        add_steps(emr, cluster, [step("events")])


def test_an_unknown_cluster_has_no_status(emr: Any) -> None:
    assert cluster_status(emr, "j-NOSUCHCLUSTER") is None


def test_a_cluster_made_before_the_run_is_not_taken_for_the_runs(emr: Any) -> None:
    # GIVEN an active cluster of the batch's name, started a day before the run (on the harness's clock)
    clock = SimulatedClock(datetime(2026, 11, 27, 0, 10, tzinfo=UTC))
    request = job_flow_request("hippolyte-prod-run-b0001", CLUSTER, "s3://b/", {}, [])
    with mock.patch.object(pipeline_runs, "CLOCK", clock):
        older = start_cluster(emr, request, SINCE)
        run_started = clock.advance(timedelta(days=1))
        clock.advance(timedelta(seconds=1))
        # WHEN the run starts its batch, and its start is retried
        mine = start_cluster(emr, request, run_started)
        again = start_cluster(emr, request, run_started)
    # THEN it starts its own cluster, once
    assert mine != older and again == mine


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"StepConcurrencyLevel": 2, "ReleaseLabel": "emr-5.27.0"}, "StepConcurrencyLevel is not supported"),
        ({"StepConcurrencyLevel": 300}, "StepConcurrencyLevel must be between 1 and 256"),
        ({"ReleaseLabel": "emr-5.23.0"}, "Auto-termination is not available"),
        ({"AutoTerminationPolicy": {"IdleTimeout": 30}}, "IdleTimeout must be between 60"),
        ({"ReleaseLabel": "emr-5.99.0"}, "release label emr-5.99.0 is not available"),
        ({"Instances": {"MasterInstanceType": "m5.colossal", "InstanceCount": 1}}, "m5.colossal is not supported"),
    ],
)
def test_emr_refuses_a_cluster_it_documents_refusing(emr: Any, change: dict[str, Any], refusal: str) -> None:
    request = {**job_flow_request("c", CLUSTER, "s3://b/", {}, []), **change}
    with pytest.raises(ClientError, match=refusal):
        emr.run_job_flow(**request)
    assert emr.list_clusters()["Clusters"] == []


def test_steps_of_a_concurrent_cluster_must_continue_on_failure(emr: Any) -> None:
    concurrent = {**job_flow_request("c", CLUSTER, "s3://b/", {}, []), "StepConcurrencyLevel": 4}
    cluster = emr.run_job_flow(**concurrent)["JobFlowId"]
    stopping = {**step("orders"), "ActionOnFailure": "TERMINATE_CLUSTER"}
    with pytest.raises(ClientError, match="ActionOnFailure CONTINUE"):
        emr.add_job_flow_steps(JobFlowId=cluster, Steps=[stopping])
