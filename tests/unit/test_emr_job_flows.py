"""The emr engine's pure side: which tables go to a cluster together, what RunJobFlow and the steps say."""

from __future__ import annotations

from hippolyte.emr_job_flows import (
    ACTION_ON_FAILURE,
    EmrClusterSettings,
    boosts_at_start,
    export_step,
    idle_timeout_seconds,
    job_flow_request,
    just_in_time_boosts,
    step_groups,
    supports_auto_termination,
)
from hippolyte.models import Batch, PlannedTable
from hypothesis import given
from hypothesis import strategies as st

CLUSTER = EmrClusterSettings(jar="s3://tools/t.jar", service_role="svc", instance_profile="inst")


def planned(name: str, extra: int) -> PlannedTable:
    """A planned table, boosted by ``extra`` RCU (0: not boosted)."""
    return PlannedTable(
        name=name,
        size_bytes=1,
        original_read_capacity_units=10,
        read_capacity_units=10 + extra,
        read_throughput_percent=0.5,
        estimated_seconds=1,
    )


batches = st.lists(st.integers(0, 50), min_size=1, max_size=32).map(
    lambda extras: Batch(
        id="b0001",
        engine="emr",
        estimated_seconds=1,
        tables=[planned(f"t{index:02d}", extra) for index, extra in enumerate(extras)],
    )
)


@given(batches)
def test_the_runs_are_the_batch_in_order_and_each_later_run_starts_at_a_boost(batch: Batch) -> None:
    groups = step_groups(batch)
    # Every table goes to the cluster once, in the plan's order
    assert [t.name for group in groups for t in group] == [t.name for t in batch.tables]
    # A run after the first begins with its only boost: a boost waits for the steps before it
    for group in groups[1:]:
        assert group[0].boosted and not any(t.boosted for t in group[1:])
    # The first run raises at most its first table's boost, the one raised as the batch starts
    assert not any(t.boosted for t in groups[0][1:])
    assert boosts_at_start(batch) == [t for t in groups[0] if t.boosted]
    assert just_in_time_boosts(batch) == len(groups) - 1


@given(batches)
def test_data_pipeline_raises_every_boost_at_the_start_and_needs_no_trip(batch: Batch) -> None:
    pipeline = batch.model_copy(update={"engine": "datapipeline"})
    assert boosts_at_start(pipeline) == [t for t in batch.tables if t.boosted]
    assert just_in_time_boosts(pipeline) == 0


@given(st.integers(120, 3600))
def test_a_cluster_outlives_every_wait_of_a_live_run_within_emrs_range(poll_seconds: int) -> None:
    idle = idle_timeout_seconds(poll_seconds)
    assert idle >= 2 * poll_seconds + 900 or idle == 3600 * 24 * 7
    assert 3600 <= idle <= 7 * 24 * 3600


def test_the_request_keeps_the_cluster_for_later_steps_and_ends_it_when_idle() -> None:
    request = job_flow_request("hippolyte-prod-run-b0001", CLUSTER, "s3://b/logs/", {"hippolyte:stage": "prod"}, [])
    assert request["Instances"]["KeepJobFlowAliveWhenNoSteps"] is True
    assert request["AutoTerminationPolicy"] == {"IdleTimeout": 3600}
    assert request["StepConcurrencyLevel"] == 1
    assert {"Key": "hippolyte:stage", "Value": "prod"} in request["Tags"]
    assert (request["ServiceRole"], request["JobFlowRole"]) == ("svc", "inst")


def test_a_release_before_auto_termination_gets_no_policy_emr_would_refuse() -> None:
    old = CLUSTER.model_copy(update={"release_label": "emr-5.23.0"})
    assert "AutoTerminationPolicy" not in job_flow_request("c", old, "s3://b/", {}, [])
    assert [supports_auto_termination(r) for r in ("emr-5.29.0", "emr-5.30.0", "emr-6.0.0", "emr-6.1.0")] == [
        False,
        True,
        False,
        True,
    ]


def test_a_step_runs_the_export_tool_on_the_tables_directory_and_never_ends_the_cluster() -> None:
    step = export_step("s3://tools/t.jar", "s3://b/orders/2026-11-28-00-10-00/", "orders", 0.9677419)
    assert step["ActionOnFailure"] == ACTION_ON_FAILURE == "CONTINUE"
    # The share is rounded down, so the application keeps its capacity
    assert step["HadoopJarStep"]["Args"] == ["s3://b/orders/2026-11-28-00-10-00/", "orders", "0.967741"]
