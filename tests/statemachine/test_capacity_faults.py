"""Capacity safety: the fault matrix over the real state machine.

Every scenario runs the ASL file through moto's interpreter with the real handlers, with
``StrictAws`` (tests/support/aws_rules.py) enforcing the DynamoDB and Data Pipeline rules moto
does not (UPDATING, the decrease limit, throttling, pipeline limits, Application Auto Scaling
moving a table into its new bounds). After each fault, every table's capacity and scaling settings
equal the ledger's originals (at once, or after reconcile where DynamoDB's limits require it; an
auto-scaled table's capacity lies inside its owner's bounds, where Application Auto Scaling puts
it), and the fault appears in the notification.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hippolyte.adapters.ledger import LEASE_KEY
from hippolyte_local.fleet import DemoTable
from hippolyte_local.session import LocalSession

from tests.statemachine.fleet_support import (
    BIG_SLOW_TABLE,
    TEST_PARAMETERS,
    assert_capacity_restored,
    build,
    capacity_snapshot,
    exports_left_running,
    sent_messages,
)
from tests.support.aws_rules import StrictAws

# Nights that start at different dates and hours, so that nothing depends on the day the suite
# runs: the usual nightly start, a night that crosses midnight into a new year, the last seconds of
# a month (the window crosses 00:00 UTC, when DynamoDB's daily decrease count resets), just after
# midnight, and a date years away from today.
NIGHT_STARTS = [
    datetime(2026, 11, 28, 0, 10, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    datetime(2027, 2, 28, 23, 59, 50, tzinfo=UTC),
    datetime(2027, 3, 1, 0, 0, 5, tzinfo=UTC),
    datetime(2031, 6, 15, 13, 45, tzinfo=UTC),
]

SMALL = DemoTable("small-orders", items=5, item_bytes=200, rcu=5, gsi=True)
ON_DEMAND = DemoTable("on-demand-carts", items=5, item_bytes=200, rcu=None)
AUTOSCALED = DemoTable("autoscaled-slow", items=160, item_bytes=20_000, rcu=1, autoscaled=True)


def ledger_items(session: LocalSession) -> list[dict[str, str]]:
    """The capacity ledger's records (not the run leases it also holds), simplified."""
    items = session.client("dynamodb").scan(TableName=session.stack.refs["CapacityLedger"])["Items"]
    simple = [{key: next(iter(value.values())) for key, value in item.items()} for item in items]
    return [item for item in simple if item["run_id"] != LEASE_KEY]


def only_message(session: LocalSession) -> tuple[str, str]:
    """The single message the run sent."""
    messages = sent_messages(session)
    assert len(messages) == 1, messages
    return messages[0]


# ------------------------------------------------------------------ each state failing in turn

STATE_FUNCTIONS = [
    "DiscoverTables",
    "PlanBatches",
    "ScaleUpReadCapacity",
    "CreatePipeline",
    "CheckPipelines",
    "ScaleDownReadCapacity",
    "NotifyResult",
]


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("state", STATE_FUNCTIONS)
def test_each_state_failing_ends_with_capacity_restored_and_reported(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], state: str, when: str
) -> None:
    # GIVEN a table the plan boosts, and the state's Lambda failing before (or after) its work,
    # the first time it runs
    failed: list[str] = []

    def fault(name: str, *_: Any) -> None:
        if name.endswith(f"-{state}Function") and not failed:
            failed.append(name)
            raise RuntimeError(f"injected fault in {state} ({when} its work)")

    hooks = {"before_invoke": fault} if when == "before" else {"after_invoke": fault}
    session, strict = strict_session(**hooks)
    build(session, [BIG_SLOW_TABLE, SMALL])
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name=f"fault-{state}-{when}", timeout=120)

    # THEN the run fails through the restore and the failure notification
    assert failed, "the fault was never injected"
    assert result.status == "FAILED"
    assert result.error == "RuntimeError"
    assert "RestoreCapacityAfterFailure" in result.state_names
    # AND every table is back to its original capacity and scaling, at once
    strict.settle()
    assert capacity_snapshot(session) == before
    assert all(item["status"] in ("restored", "superseded") for item in ledger_items(session))
    # AND the fault is in the notification (after a report that was already sent, if any)
    messages = sent_messages(session)
    assert len(messages) == (2 if (state, when) == ("NotifyResult", "after") else 1)
    subject, body = messages[-1]
    assert "FAILED" in subject and f"injected fault in {state}" in body


# ------------------------------------------------------------------------ DynamoDB refusing


def test_throttled_update_table_is_retried_and_reported(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN UpdateTable refusing the next 3 calls with LimitExceededException
    session, strict = strict_session()
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)
    strict.throttle_update_table(3, table="big-slow")

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="throttled", timeout=120)

    # THEN the boost happened after backing off (with growing, jittered delays), the table is
    # backed up and back to its capacity, and the report mentions the throttling
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert len(session.sleeps) == 3
    strict.settle()
    assert capacity_snapshot(session) == before
    _, body = only_message(session)
    assert "big-slow: raised to" in body and "throttled 3 time(s)" in body


def test_update_table_throttled_beyond_retries_leaves_the_table_unboosted_and_safe(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN UpdateTable refusing every call for the slow table
    session, strict = strict_session()
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)
    strict.throttle_update_table(50, table="big-slow")
    percents: list[float] = []

    def watching(directory: str, table: str, percent: str) -> None:
        percents.append(float(percent))

    session.emr.before_export = watching

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="throttled-out", timeout=120)

    # THEN the export reads no more than the default share of the table's own capacity
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert percents == [0.1]
    assert capacity_snapshot(session) == before
    _, body = only_message(session)
    assert "big-slow: not raised: UpdateTable refused (CapacityUpdateThrottledError)" in body


@pytest.mark.parametrize("start", NIGHT_STARTS, ids=str)
def test_decrease_limit_leaves_restore_pending_until_reconcile(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], start: datetime
) -> None:
    # GIVEN a boosted table whose owner keeps using up its free decreases of the day, so that each
    # time the run tries to put it back, four decreases were made today, the last one just now
    def use_up_decreases(name: str, *_: Any) -> None:
        if name.endswith("-ScaleDownReadCapacityFunction"):
            strict.set_decreases_today("big-slow", 4, last_decrease=strict.now)

    session, strict = strict_session(start=start, before_invoke=use_up_decreases)
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="decrease-limited", timeout=120)

    # THEN the table is backed up, but its capacity stays raised, pending, with the retry time
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert capacity_snapshot(session)["big-slow"]["rcu"] > 1
    _, body = only_message(session)
    assert "Capacity not back to its original yet (1)" in body
    assert "big-slow: DynamoDB's daily limit on capacity decreases is reached; reconcile retries after" in body

    # WHEN an hour passes and the hourly reconcile runs
    strict.advance(timedelta(hours=1, minutes=1))
    report = session.invoke("ReconcileCapacityFunction")

    # THEN the table is back to its original capacity, and reconcile says so
    assert report["restored"] == ["big-slow"]
    strict.settle()
    assert capacity_snapshot(session) == before
    subject, body = sent_messages(session)[-1]
    assert "reconcile restored 1" in subject and "big-slow" in body


def test_a_table_deleted_mid_run_is_reported_not_crashed_on(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN a boosted table that a person deletes while its export runs
    session, strict = strict_session()
    build(session, [BIG_SLOW_TABLE, SMALL])
    strict.settle()
    before = capacity_snapshot(session)

    def delete_first(directory: str, table: str, percent: str) -> None:
        if table == "big-slow":
            strict.settle()
            session.client("dynamodb").delete_table(TableName="big-slow")

    session.emr.before_export = delete_first

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="deleted", timeout=120)

    # THEN the run ends normally: the table is failed with its reason, the ledger records it gone
    assert result.status == "FAILED" and result.error == "TablesFailed"
    _, body = only_message(session)
    assert "big-slow: the table was deleted during the run" in body
    # (its pipeline's or its EMR step's end, with the files it lacks)
    assert re.search(r"Failed \(1\)\n  big-slow: (pipeline|EMR step) .*_SUCCESS", body), body
    assert {i["table_name"]: i["status"] for i in ledger_items(session)} == {"big-slow": "gone"}
    # AND the other tables keep their capacity
    after = capacity_snapshot(session)
    assert "big-slow" not in after
    assert after == {name: value for name, value in before.items() if name != "big-slow"}


def test_a_table_switched_to_on_demand_mid_run_is_left_alone_and_reported(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN a boosted table that its owner switches to on-demand during the backup
    session, strict = strict_session()
    build(session, [BIG_SLOW_TABLE])
    strict.settle()

    def switch_first(directory: str, table: str, percent: str) -> None:
        strict.settle()
        session.client("dynamodb").update_table(TableName=table, BillingMode="PAY_PER_REQUEST")

    session.emr.before_export = switch_first

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="switched", timeout=120)

    # THEN the backup succeeds, Hippolyte never puts throughput on the on-demand table, and says so
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    refused = [call for call in strict.update_table_calls if call.error_code]
    assert refused == []
    assert capacity_snapshot(session)["big-slow"]["billing"] == "PAY_PER_REQUEST"
    _, body = only_message(session)
    assert "big-slow: the table was switched to on-demand during the run; left as is" in body


# ---------------------------------------------------------------------- pipelines refusing or late


@pytest.mark.parametrize("start", NIGHT_STARTS, ids=str)
def test_pipeline_creation_refused_at_the_account_limit(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], start: datetime
) -> None:
    # GIVEN an account already at its pipeline limit all night
    attempts: list[str] = []

    def count_attempts(name: str, *_: Any) -> None:
        if name.endswith("-CreatePipelineFunction"):
            attempts.append(name)

    session, strict = strict_session(start=start, before_invoke=count_attempts)
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)
    strict.pipeline_limit = 0

    # WHEN the backup runs, polling every 20 minutes of simulated time
    result = session.run({"poll_seconds": 1200}, name="limited", timeout=120)

    # THEN the batch is tried again on every poll until the deadline (the one-hour window plus
    # one hour of grace), then its table is reported failed with the reason, and its capacity is back
    assert result.status == "FAILED" and result.error == "TablesFailed"
    assert len(attempts) >= 2 * 60 // 20
    assert result.state_names.count("CreatePipelines") == len(attempts)
    assert sum(session.waits) >= 2 * 3600
    strict.settle()
    assert capacity_snapshot(session) == before
    _, body = only_message(session)
    assert (
        f"big-slow: not started before the window's deadline (Data Pipeline refused it {len(attempts)} time(s)" in body
    )


class InternalServiceError(Exception):
    """Named like Data Pipeline's server fault: the ASL retries a Task that reports it."""


def test_a_create_pipeline_retried_after_its_work_leaves_the_running_exports_alone(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN two tables, and a CreatePipeline Lambda that fails with a retried error
    # after it has created and activated the batch's pipeline
    failed: list[str] = []

    def fail_after_work(name: str, *_: Any) -> None:
        if name.endswith("-CreatePipelineFunction") and not failed:
            failed.append(name)
            raise InternalServiceError("an internal service error occurred (after the activation)")

    # (a read share of 50%, inside the range DynamoDBDataNode documents)
    session, strict = strict_session(
        after_invoke=fail_after_work, parameters={**TEST_PARAMETERS, "ReadThroughputPercent": "0.5"}
    )
    build(session, [SMALL, ON_DEMAND])
    strict.settle()
    exported: list[str] = []
    session.emr.before_export = lambda directory, table, percent: exported.append(table)

    # WHEN the backup runs, and Step Functions retries CreatePipeline
    result = session.run({"poll_seconds": 120}, name="retried-create", timeout=120)

    # THEN the retry found the pipeline and left it running: no second activation, and each
    # table was exported once
    assert failed and result.status == "SUCCEEDED", (result.error, result.cause)
    creations = [name for name, _ in session.invocations.calls if name.endswith("-CreatePipelineFunction")]
    assert len(creations) == 2
    assert strict.reactivations == []
    assert sorted(exported) == ["on-demand-carts", "small-orders"]


@pytest.mark.parametrize("start", NIGHT_STARTS, ids=str)
def test_a_pipeline_that_does_not_finish_in_the_window_is_stopped_at_the_deadline(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], start: datetime
) -> None:
    # GIVEN a pipeline that never finishes (its EMR cluster hangs)
    session, strict = strict_session(start=start, emr={"hold": lambda pipeline_id: True})
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)
    start = strict.now

    # WHEN the night passes, polling every 10 minutes of simulated time
    result = session.run({"poll_seconds": 600}, name="late", timeout=120)

    # THEN at the deadline (the one-hour window plus one hour of grace) the pipeline is stopped,
    # the table reported failed, and its capacity put back
    assert result.status == "FAILED" and result.error == "TablesFailed"
    assert timedelta(hours=2) <= strict.now - start < timedelta(hours=2, minutes=30)
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    strict.settle()
    assert capacity_snapshot(session) == before
    _, body = only_message(session)
    assert "big-slow" in body and "did not finish inside the window" in body


# -------------------------------------------------------------------------- runs that die


def stop_when_polled(session_holder: list[LocalSession], error: str) -> Callable[..., None]:
    """A hook that stops the running backup execution the first time CheckPipelines is invoked.

    The stop lands while the first poll's Lambda runs, after every pipeline of the wave has been
    created and activated: a point the test controls, whatever the machine's speed.
    """
    stopped: list[str] = []

    def hook(name: str, *_: Any) -> None:
        if stopped or not name.endswith("-CheckPipelinesFunction"):
            return
        session = session_holder[0]
        sfn = session.client("stepfunctions")
        machine = session.stack.state_machines["BackupStateMachine"]
        for execution in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"], error=error)
            stopped.append(execution["executionArn"])

    return hook


def test_an_execution_stopped_mid_run_is_cleaned_up_by_reconcile(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN a run whose boosted tables are being exported by a pipeline that is still running
    holder: list[LocalSession] = []
    session, strict = strict_session(
        emr={"hold": lambda pipeline_id: True}, before_invoke=stop_when_polled(holder, "StoppedByOperator")
    )
    holder.append(session)
    build(session, [BIG_SLOW_TABLE, AUTOSCALED])
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN a person stops the execution during its first poll (no Catch runs)
    result = session.run({"poll_seconds": 120}, name="stopped")
    assert result.status == "ABORTED"
    assert exports_left_running(session) != []
    assert capacity_snapshot(session) != before  # the boosts are still held
    # (Data Pipeline's raised both as their batch started; the emr engine only the first table's,
    # the second one's turn had not come)
    raised = sorted(item["table_name"] for item in ledger_items(session))
    assert "big-slow" in raised or "autoscaled-slow" in raised
    # AND the hourly reconcile runs
    report = session.invoke("ReconcileCapacityFunction")

    # THEN reconcile stops the dead run's pipeline (or cluster) and puts every table back, scaling included
    assert sorted(report["restored"]) == raised
    assert report["stopped_runs"] == ["stopped"]
    assert exports_left_running(session) == []
    strict.settle()
    assert_capacity_restored(before, capacity_snapshot(session))
    subject, body = sent_messages(session)[-1]
    assert f"reconcile restored {len(raised)}" in subject and "stopped" in body


@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
def test_reconcile_leaves_a_live_run_alone_when_it_cannot_tell_whether_the_run_lives(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], code: str
) -> None:
    # GIVEN a live run with a boosted table whose pipeline runs, and Step Functions refusing
    # reconcile's DescribeExecution (throttled beyond the SDK's own retries, or denied)
    reports: list[dict[str, Any]] = []

    def reconcile_during_first_poll(name: str, *_: Any) -> None:
        if name.endswith("-CheckPipelinesFunction") and not reports:
            strict.fail_describe_execution(10, code=code)
            reports.append(session.invoke("ReconcileCapacityFunction"))

    session, strict = strict_session(before_invoke=reconcile_during_first_poll)
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the hourly reconcile runs while the night is under way
    result = session.run({"poll_seconds": 120}, name="live")

    # THEN reconcile neither stopped the run's pipeline nor lowered its boost: it reported the
    # run as left for the next pass, with the error
    (report,) = reports
    assert report["stopped_runs"] == [] and report["restored"] == []
    assert [note["name"] for note in report["skipped"]] == ["big-slow"]
    assert code in report["skipped"][0]["reason"]
    _, body = sent_messages(session)[0]
    assert "Left for the next pass" in body and "big-slow" in body
    # AND the night went on to back the table up and put its capacity back itself
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    strict.settle()
    assert capacity_snapshot(session) == before


def test_a_run_retried_after_a_crash_never_records_a_boosted_value_as_original(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN a run that died (stopped during its first poll) with its table boosted, and its
    # pipeline deleted by hand
    holder: list[LocalSession] = []
    hold_pipelines = [True]
    session, strict = strict_session(
        emr={"hold": lambda pipeline_id: hold_pipelines[0]}, before_invoke=stop_when_polled(holder, "Crashed")
    )
    holder.append(session)
    build(session, [BIG_SLOW_TABLE])
    strict.settle()
    before = capacity_snapshot(session)
    assert session.run({"poll_seconds": 120}, name="crashed").status == "ABORTED"
    datapipeline = session.client("datapipeline")
    for pipeline in datapipeline.list_pipelines()["pipelineIdList"]:
        datapipeline.delete_pipeline(pipelineId=pipeline["id"])
    hold_pipelines[0] = False
    strict.settle()

    # WHEN the run is retried while the table is still boosted
    assert capacity_snapshot(session) != before
    result = session.run({"poll_seconds": 120}, name="retried", timeout=120)

    # THEN the retry takes the original from the dead run's record, and ends with the true original
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    statuses = {item["run_id"]: item["status"] for item in ledger_items(session)}
    assert statuses == {"crashed": "superseded", "retried": "restored"}
    strict.settle()
    assert capacity_snapshot(session) == before
    # AND reconcile finds nothing left to do
    assert session.invoke("ReconcileCapacityFunction")["restored"] == []


# ------------------------------------------------------------------------ kinds of tables


def test_auto_scaled_on_demand_and_gsi_tables_end_as_they_were(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN an auto-scaled slow table with a scaling policy, an on-demand table, a table with GSIs
    session, strict = strict_session()
    build(session, [AUTOSCALED, ON_DEMAND, SMALL])
    autoscaling = session.client("application-autoscaling")
    autoscaling.put_scaling_policy(
        PolicyName="reads",
        ServiceNamespace="dynamodb",
        ResourceId="table/autoscaled-slow",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"},
        },
    )
    strict.settle()
    before = capacity_snapshot(session)
    during: list[Any] = []

    def watching(directory: str, table: str, percent: str) -> None:
        if table == "autoscaled-slow":
            during.append(
                autoscaling.describe_scalable_targets(
                    ServiceNamespace="dynamodb", ResourceIds=["table/autoscaled-slow"]
                )["ScalableTargets"][0]
            )

    session.emr.before_export = watching

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="kinds", timeout=120)

    # THEN the scaler's minimum was raised to the boost (not deregistered), and Application Auto
    # Scaling had raised the table to it, before the export read it
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert during and during[0]["MinCapacity"] > 1
    boost = during[0]["MinCapacity"]
    raised = [a for a in strict.scaling_activities if a.to_capacity == boost]
    assert [(a.resource_id, a.error_code) for a in raised] == [("table/autoscaled-slow", None)]
    # AND afterwards every table and its GSIs are as before, the scaling target exactly (policy
    # kept), the auto-scaled table's capacity inside its owner's range
    strict.settle()
    assert_capacity_restored(before, capacity_snapshot(session))
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="dynamodb")["ScalingPolicies"]
    assert [policy["PolicyName"] for policy in policies] == ["reads"]
    # AND Hippolyte never sent UpdateTable for any of them: the auto-scaled table was raised and
    # lowered by Application Auto Scaling alone, and the report says where it left the capacity
    assert strict.update_table_calls == []
    _, body = only_message(session)
    assert "autoscaled-slow: auto scaling bounds back to 1-20 RCU" in body


# ------------------------------------------------------------------------ runs that overlap


def test_a_second_run_never_touches_a_table_another_live_run_holds(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]],
) -> None:
    # GIVEN a night whose boosted table is being exported (its pipeline still runs), and, during
    # its first poll, a manual re-run of that table and a second full run
    first_pipeline: dict[str, str] = {}
    others: dict[str, Any] = {}

    def hold_first(pipeline_id: str) -> bool:
        return "done" not in others and first_pipeline.setdefault("id", pipeline_id) == pipeline_id

    def overlap(name: str, *_: Any) -> None:
        if name.endswith("-CheckPipelinesFunction") and not others:
            others["manual"] = session.run({"tables": ["big-slow"], "poll_seconds": 120}, name="manual-rerun")
            others["second"] = session.run({"poll_seconds": 120}, name="second-night")
            others["done"] = True

    session, strict = strict_session(emr={"hold": hold_first}, before_invoke=overlap)
    build(session, [BIG_SLOW_TABLE, SMALL])
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the first night runs
    result = session.run({"poll_seconds": 120}, name="first-night")

    # THEN the manual re-run was refused at its first state, naming the run that holds the table
    manual = others["manual"]
    assert manual.status == "FAILED" and manual.error == "RunAlreadyRunningError"
    assert "big-slow: run first-night is backing it up now" in (manual.cause or "")
    # AND the second night left the table out, reported with the reason, and backed up the rest
    second = others["second"]
    assert second.status == "SUCCEEDED", (second.error, second.cause)
    second_report = next(body for subject, body in sent_messages(session) if "second-night" in body)
    assert "big-slow: run first-night is backing it up now" in second_report
    # AND only the first night ever recorded (and restored) the table's capacity
    assert {item["run_id"] for item in ledger_items(session) if item["table_name"] == "big-slow"} == {"first-night"}
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    strict.settle()
    assert capacity_snapshot(session) == before
    # AND once the first night ended, its leases were given back: a re-run may take the table
    rerun = session.run({"tables": ["big-slow"], "poll_seconds": 120}, name="rerun-after")
    assert rerun.status == "SUCCEEDED", (rerun.error, rerun.cause)
