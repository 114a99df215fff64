"""The emr engine: the state machine runs EMR clusters itself, with no Data Pipeline.

Through the real ASL and handlers, with EMR's clusters and steps played as EMR documents them
(hippolyte_local.job_flows): a night over a mixed fleet, each boost raised only while its own
table is read, the faults EMR can throw at a run (a cluster that never starts, a step that fails,
a cluster terminated under the run, a step still running at the deadline), every state retried
after its work and every state failing, reconcile after a run that died, and restores that run
DynamoDBImport on a cluster of their own, with no Data Pipeline.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hippolyte import restore_plan
from hippolyte.backup_manifest import schema_from_description, shape_differences
from hippolyte_local.emr import ActivityFailedError
from hippolyte_local.fleet import DemoTable, demo_fleet
from hippolyte_local.lambda_runtime import LambdaServiceError
from hippolyte_local.session import LocalSession
from hippolyte_local.verify import backup_items, same_items, table_items

from tests.statemachine.fleet_support import (
    BIG_SLOW_TABLE,
    TEST_PARAMETERS,
    assert_capacity_restored,
    build,
    capacity_snapshot,
    sent_messages,
)
from tests.statemachine.test_restore_roundtrip import create_source, restore
from tests.support.aws_rules import StrictAws

EMR_PARAMETERS = {**TEST_PARAMETERS, "Engine": "emr"}
# One cluster at a time: both slow tables share one batch, read one after the other.
ONE_CLUSTER = {**EMR_PARAMETERS, "MaxConcurrentPipelines": "1"}
SECOND_SLOW_TABLE = DemoTable("big-slow-2", items=160, item_bytes=20_000, rcu=1)
SMALL = DemoTable("small-orders", items=5, item_bytes=200, rcu=5, gsi=True)
ACTIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]


def progress_of(session: LocalSession, run_id: str) -> dict[str, Any]:
    """The run's progress document, as stored in the backup bucket."""
    body = session.client("s3").get_object(Bucket=session.stack.bucket, Key=f"runs/{run_id}/progress.json")["Body"]
    return json.loads(body.read())  # type: ignore[no-any-return]


def active_clusters(session: LocalSession) -> list[str]:
    """Clusters EMR still runs (and bills)."""
    return [c["Id"] for c in session.client("emr").list_clusters(ClusterStates=ACTIVE)["Clusters"]]


def cluster_ids(session: LocalSession) -> list[str]:
    """Every cluster the run started, whatever its state."""
    return [c["Id"] for c in session.client("emr").list_clusters()["Clusters"]]


def read_capacity(session: LocalSession, table: str) -> int:
    """A table's read capacity now."""
    described = session.client("dynamodb").describe_table(TableName=table)["Table"]
    return int(described["ProvisionedThroughput"]["ReadCapacityUnits"])


def test_an_emr_night_backs_up_every_table_into_the_same_files_as_a_pipeline(session_factory: Any) -> None:
    # GIVEN a stack on the emr engine and a fleet of 30 tables (provisioned, on-demand, GSIs, auto
    # scaling, one table too slow for the window), plus one opted out by tag
    session: LocalSession = session_factory(parameters=EMR_PARAMETERS)
    fleet = demo_fleet(30)
    build(session, fleet)
    before = capacity_snapshot(session)

    # WHEN the nightly execution runs
    result = session.run({"poll_seconds": 120}, name="nightly", timeout=240)

    # THEN it succeeds through the named states, without Data Pipeline
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    for state in ("ScaleUpReadCapacity", "CreatePipelines", "AddExportSteps", "CheckPipelines"):
        assert state in result.state_names
    assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
    # AND every table's backup holds exactly its items, in the export tool's files
    outcomes = progress_of(session, "nightly")["outcomes"]
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    backed_up = {t.name for t in fleet if not t.opted_out}
    assert {name for name, o in outcomes.items() if o["status"] == "backed_up"} == backed_up
    assert {o["engine"] for o in outcomes.values() if o["status"] == "backed_up"} == {"emr"}
    for name in backed_up:
        path = outcomes[name]["s3_path"]
        assert same_items(backup_items(s3, path), table_items(dynamodb, name)), name
    # AND every cluster was terminated, and every table ends as it was
    assert cluster_ids(session) and active_clusters(session) == []
    assert capacity_snapshot(session) == before
    ((subject, body),) = sent_messages(session)
    assert "SUCCEEDED" in subject and "scratch-experiments: opted out by tag hippolyte:backup=false" in body


def test_each_boost_is_raised_only_while_its_own_table_is_read(session_factory: Any) -> None:
    # GIVEN two tables that each need a boost to fit the window, sharing one cluster
    session: LocalSession = session_factory(parameters=ONE_CLUSTER)
    build(session, [BIG_SLOW_TABLE, SECOND_SLOW_TABLE])
    seen: dict[str, dict[str, int]] = {}

    def capacities_at_export(directory: str, table: str, percent: str) -> None:
        seen[table] = {name: read_capacity(session, name) for name in ("big-slow", "big-slow-2")}

    session.emr.before_export = capacities_at_export

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="just-in-time", timeout=240)

    # THEN both were read on one cluster, each boosted while it was read and the other not
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert len(cluster_ids(session)) == 1
    assert seen["big-slow"]["big-slow"] > 1 and seen["big-slow"]["big-slow-2"] == 1
    assert seen["big-slow-2"]["big-slow-2"] > 1 and seen["big-slow-2"]["big-slow"] == 1
    # AND the second table's step went to the cluster in its own wave, after its boost
    assert result.state_names.count("AddExportSteps") >= 2
    assert read_capacity(session, "big-slow") == read_capacity(session, "big-slow-2") == 1


def test_a_cluster_that_fails_to_start_fails_its_tables_with_emrs_reason(session_factory: Any) -> None:
    # GIVEN a boosted table and a small one on one cluster, whose bootstrap fails
    session: LocalSession = session_factory(
        parameters=ONE_CLUSTER, emr={"fail_clusters": {"hippolyte-test-bootstrap-fails-b0001"}}
    )
    build(session, [BIG_SLOW_TABLE, SMALL])
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="bootstrap-fails", timeout=240)

    # THEN both tables are reported failed with EMR's reason, and the run says so
    assert result.status == "FAILED" and result.error == "TablesFailed"
    outcomes = progress_of(session, "bootstrap-fails")["outcomes"]
    for table in ("big-slow", "small-orders"):
        assert outcomes[table]["status"] == "failed"
        assert "TERMINATED_WITH_ERRORS (BOOTSTRAP_FAILURE" in outcomes[table]["reason"], outcomes[table]
    # AND the boost is back, and the email names the tables
    assert capacity_snapshot(session) == before
    ((subject, body),) = sent_messages(session)
    assert "FAILED" in subject and "big-slow" in body and "BOOTSTRAP_FAILURE" in body


def test_a_failed_step_fails_its_table_and_the_cluster_goes_on_with_the_next(session_factory: Any) -> None:
    # GIVEN a boosted table whose export step fails, and a small table after it on the same cluster
    session: LocalSession = session_factory(parameters=ONE_CLUSTER, emr={"fail_tables": {"big-slow"}})
    build(session, [BIG_SLOW_TABLE, SMALL])
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="step-fails", timeout=240)

    # THEN the failed table is reported with the step's failure, the other is backed up
    assert result.status == "FAILED" and result.error == "TablesFailed"
    outcomes = progress_of(session, "step-fails")["outcomes"]
    assert outcomes["big-slow"]["status"] == "failed"
    assert "ended FAILED" in outcomes["big-slow"]["reason"] and "injected fault" in outcomes["big-slow"]["reason"]
    assert "_SUCCESS" in outcomes["big-slow"]["reason"]
    assert outcomes["small-orders"]["status"] == "backed_up"
    # AND capacity is back and no cluster is left
    assert capacity_snapshot(session) == before
    assert active_clusters(session) == []


def test_a_cluster_terminated_under_the_run_fails_what_it_had_not_finished(session_factory: Any) -> None:
    # GIVEN two boosted tables on one cluster, the first one's export still running...
    session: LocalSession = session_factory(parameters=ONE_CLUSTER, emr={"stuck_tables": {"big-slow"}})
    build(session, [BIG_SLOW_TABLE, SECOND_SLOW_TABLE])
    before = capacity_snapshot(session)
    terminated: list[str] = []

    def terminate_once_running(_arn: str) -> None:
        # ...when a person terminates the cluster from the console
        running = session.client("emr").list_clusters(ClusterStates=["RUNNING"])["Clusters"]
        if running and not terminated:
            terminated.append(running[0]["Id"])
            session.client("emr").terminate_job_flows(JobFlowIds=[running[0]["Id"]])

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="terminated", timeout=240, on_poll=terminate_once_running)

    # THEN both tables are reported failed, saying the cluster was terminated by a user
    assert terminated and result.status == "FAILED" and result.error == "TablesFailed"
    outcomes = progress_of(session, "terminated")["outcomes"]
    for table in ("big-slow", "big-slow-2"):
        assert outcomes[table]["status"] == "failed"
        assert f"cluster {terminated[0]} ended TERMINATED (USER_REQUEST" in outcomes[table]["reason"], outcomes[table]
    # AND no boost outlives the run, and the second table was never boosted at all
    assert capacity_snapshot(session) == before
    assert "big-slow-2" not in progress_of(session, "terminated")["restored"]


def test_a_step_still_running_at_the_deadline_is_stopped_with_its_cluster(session_factory: Any) -> None:
    # GIVEN a boosted table whose export would never end inside the window
    session: LocalSession = session_factory(parameters=EMR_PARAMETERS, emr={"stuck_tables": {"big-slow"}})
    build(session, [BIG_SLOW_TABLE])
    before = capacity_snapshot(session)

    # WHEN the backup runs past its window
    result = session.run({"poll_seconds": 120}, name="deadline", timeout=240)

    # THEN the table is reported as not finished inside the window, and its cluster is terminated
    assert result.status == "FAILED" and result.error == "TablesFailed"
    outcome = progress_of(session, "deadline")["outcomes"]["big-slow"]
    assert "did not finish inside the window" in outcome["reason"]
    assert active_clusters(session) == []
    assert capacity_snapshot(session) == before


# ------------------------------------------------------------------ the fault matrix, on emr

EMR_STATES = [
    ("ScaleUpReadCapacity", "ServiceException"),
    ("CreatePipeline", "ServiceException"),
    ("AddExportSteps", "TooManyRequestsException"),
    ("CheckPipelines", "TooManyRequestsException"),
    ("ScaleDownReadCapacity", "ServiceException"),
]
TABLES = [BIG_SLOW_TABLE, SECOND_SLOW_TABLE, SMALL]


def _exports_seen(session: LocalSession) -> Counter[str]:
    counts: Counter[str] = Counter()
    session.emr.before_export = lambda directory, table, percent: counts.update([table])
    return counts


@pytest.mark.parametrize(("state", "code"), EMR_STATES, ids=[s for s, _ in EMR_STATES])
def test_an_emr_state_retried_after_its_work_ends_the_night_as_without_the_fault(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], state: str, code: str
) -> None:
    # GIVEN two boosted tables and a small one on one cluster, and the state's invocation failing
    # once after its work with an error the ASL retries
    faulted: list[str] = []

    def fail_once_after_work(name: str, *_: Any) -> None:
        if name.endswith(f"-{state}Function") and not faulted:
            faulted.append(name)
            raise LambdaServiceError(code, f"injected {code} after {state} did its work")

    session, strict = strict_session(parameters=ONE_CLUSTER, after_invoke=fail_once_after_work)
    build(session, TABLES)
    strict.settle()
    before = capacity_snapshot(session)
    exports = _exports_seen(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name=f"retried-{state}", timeout=240)

    # THEN it succeeded, every table exported exactly once on one cluster, which is terminated
    assert faulted, "the fault was never injected"
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert exports == {table.name: 1 for table in TABLES}
    assert len(cluster_ids(session)) == 1 and active_clusters(session) == []
    # AND every table is back as it was, and one report lists every table
    strict.settle()
    assert_capacity_restored(before, capacity_snapshot(session))
    ((subject, body),) = sent_messages(session)
    assert "SUCCEEDED" in subject and f"Backed up ({len(TABLES)})" in body


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("state", [s for s, _ in EMR_STATES])
def test_an_emr_state_failing_terminates_the_clusters_and_restores_capacity(
    strict_session: Callable[..., tuple[LocalSession, StrictAws]], state: str, when: str
) -> None:
    # GIVEN boosted tables on one cluster, and the state failing (before or after its work) once
    failed: list[str] = []

    def fault(name: str, *_: Any) -> None:
        if name.endswith(f"-{state}Function") and not failed:
            failed.append(name)
            raise RuntimeError(f"injected fault in {state} ({when} its work)")

    hooks = {"before_invoke": fault} if when == "before" else {"after_invoke": fault}
    session, strict = strict_session(parameters=ONE_CLUSTER, **hooks)
    build(session, TABLES)
    strict.settle()
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name=f"fault-{state}-{when}", timeout=240)

    # THEN it fails through the failure path: no cluster is left running, capacity is back
    assert failed and result.status == "FAILED" and result.error == "RuntimeError"
    assert "RestoreCapacityAfterFailure" in result.state_names
    assert active_clusters(session) == []
    strict.settle()
    assert capacity_snapshot(session) == before
    subject, body = sent_messages(session)[-1]
    assert "FAILED" in subject and f"injected fault in {state}" in body


def test_reconcile_terminates_the_cluster_of_a_run_stopped_by_a_person(session_factory: Any) -> None:
    # GIVEN an emr run whose first table's export is under way when a person stops the execution
    session: LocalSession = session_factory(parameters=ONE_CLUSTER, emr={"stuck_tables": {"big-slow"}})
    build(session, [BIG_SLOW_TABLE, SMALL])
    before = capacity_snapshot(session)

    def stop_once_running(arn: str) -> None:
        if session.client("emr").list_clusters(ClusterStates=["RUNNING"])["Clusters"]:
            session.client("stepfunctions").stop_execution(executionArn=arn, error="StoppedByOperator")

    stopped = session.run({"poll_seconds": 120}, name="stopped", timeout=240, on_poll=stop_once_running)
    assert stopped.status == "ABORTED" and active_clusters(session)

    # WHEN the hourly reconcile runs
    report = session.invoke("ReconcileCapacityFunction")

    # THEN it terminates the dead run's cluster and puts the boost back
    assert report["stopped_runs"] == ["stopped"]
    assert active_clusters(session) == []
    assert capacity_snapshot(session) == before


# ------------------------------------------------------------------ restoring without Data Pipeline


def test_an_emr_backup_is_restored_by_an_emr_cluster_without_any_data_pipeline_call(
    session_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a stack on the emr engine, whose night backed up a table with a GSI, an LSI and TTL,
    # and an import target time of one second, so that the restore must raise the new table's writes
    session: LocalSession = session_factory(parameters=EMR_PARAMETERS)
    create_source(session, "orders-emr", 120, engine=None, on_demand=False, lsi=True)
    night = session.run({"poll_seconds": 120}, name="nightly", timeout=240)
    assert night.status == "SUCCEEDED", (night.error, night.cause)
    monkeypatch.setattr(restore_plan, "IMPORT_TARGET_SECONDS", 1)

    # WHEN it is restored into a new table
    result = restore(session, "orders-emr", "orders-emr-restored", "restore-emr", at="latest")

    # THEN the restore succeeded through the import path, with the original's items and shape
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ImportData" in result.state_names and "CheckImport" in result.state_names
    dynamodb = session.client("dynamodb")
    assert same_items(table_items(dynamodb, "orders-emr"), table_items(dynamodb, "orders-emr-restored"))
    original, restored = (dynamodb.describe_table(TableName=n)["Table"] for n in ("orders-emr", "orders-emr-restored"))
    assert shape_differences(schema_from_description(original), schema_from_description(restored)) == []
    assert restored["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    # AND it ran on an EMR cluster of its own, now terminated, and nothing called Data Pipeline
    restore_clusters = [c for c in session.client("emr").list_clusters()["Clusters"] if "restore" in c["Name"]]
    assert len(restore_clusters) == 1 and restore_clusters[0]["Status"]["State"].startswith("TERMINATED")
    assert [call for call in session.aws_calls.calls if call.service == "datapipeline"] == []


def test_a_failed_import_step_fails_the_restore_and_stops_its_cluster(session_factory: Any) -> None:
    # GIVEN an emr backup, and an import step that fails on its cluster
    session: LocalSession = session_factory(parameters=EMR_PARAMETERS)
    create_source(session, "orders-emr", 30, engine=None, on_demand=False, lsi=False)
    assert session.run({"poll_seconds": 120}, name="nightly", timeout=240).status == "SUCCEEDED"

    def failing_import(directory: str, table: str, percent: str) -> None:
        raise ActivityFailedError(f"import into {table} failed (injected fault)")

    session.emr.before_import = failing_import

    # WHEN it is restored
    result = restore(session, "orders-emr", "orders-emr-broken", "restore-broken")

    # THEN the restore fails naming the cluster and the step's failure, and no cluster is left
    assert result.status == "FAILED" and result.error == "RestoreImportFailedError"
    assert "import cluster j-" in (result.cause or "") and "injected fault" in (result.cause or "")
    assert "StopImportAndLowerCapacity" in result.state_names
    assert active_clusters(session) == []


def test_a_cluster_emr_refuses_to_start_fails_its_tables_with_emrs_reason(session_factory: Any) -> None:
    # GIVEN a stack whose clusters ask for an instance type the EMR release does not offer
    session: LocalSession = session_factory(parameters={**ONE_CLUSTER, "EmrMasterInstanceType": "m5.colossal"})
    build(session, [BIG_SLOW_TABLE, SMALL])
    before = capacity_snapshot(session)

    # WHEN the backup runs
    result = session.run({"poll_seconds": 120}, name="refused", timeout=240)

    # THEN no cluster exists, and both tables are failed with RunJobFlow's refusal
    assert result.status == "FAILED" and result.error == "TablesFailed"
    assert cluster_ids(session) == []
    outcomes = progress_of(session, "refused")["outcomes"]
    for table in ("big-slow", "small-orders"):
        reason = outcomes[table]["reason"]
        assert reason.startswith("its cluster could not be started: ClusterCreationError: RunJobFlow refused")
        assert "m5.colossal" in reason
    # AND the boost raised for the first table is back
    assert capacity_snapshot(session) == before
