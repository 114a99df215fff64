"""The IAM contract: what each function really calls, checked against its role in template.yaml.

Representative runs of the real state machines, with the real handlers, record every AWS call each
function makes (``LocalSession.aws_calls``): a nightly backup over provisioned, auto-scaled,
on-demand and native-export tables (one without PITR, turned on by EnablePitr); a restore by each
engine (one retrying its table creation), refused restores and a restore whose import fails; a run
that fails after its pipeline was created; and reconcile after runs stopped before and after their
pipelines were recorded; and NotifyExecutionEnded after the failed run (reported already) and the
stopped runs (reported by it). Each call's permissions (tests/support/iam_contract.py) must be granted by
the function's policy, SAM policy templates expanded, on the resource it names: a permission
missing in template.yaml fails here instead of in the account at night.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from hippolyte import restore_plan
from hippolyte.workflow import create_pipeline
from hippolyte_local.emr import ActivityFailedError
from hippolyte_local.fleet import DemoTable
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.stack import ACCOUNT_ID, repo_root
from hippolyte_local.template import load_template

from tests.statemachine.fleet_support import BIG_SLOW_TABLE, TEST_PARAMETERS, build, sent_messages
from tests.statemachine.test_restore_roundtrip import create_source, restore
from tests.support.aws_rules import StrictAws
from tests.support.iam_contract import (
    Environment,
    Policies,
    Requirement,
    lambda_targets,
    load_policies,
    needed_by_function,
    unused_actions,
    violations,
)

TEMPLATE = repo_root() / "template.yaml"
AUTOSCALED_SLOW = DemoTable("autoscaled-slow", items=160, item_bytes=20_000, rcu=1, autoscaled=True)
ON_DEMAND = DemoTable("on-demand-carts", items=5, item_bytes=200, rcu=None)
EMR_PARAMETERS = {**TEST_PARAMETERS, "Engine": "emr"}
ACTIVE_CLUSTER_STATES = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]
# The error type Step Functions retries as a Lambda service failure (the class name has a dot).
LambdaServiceError = type("Lambda.ServiceException", (Exception,), {})

# Inline permissions no scenario needs. Any other is a permission the code does not need (remove
# it from template.yaml) or a path the scenarios miss (add it to them).
NOT_EXERCISED_LOCALLY = {
    # Finding, at the deadline, the cluster of an emr start that never stored its result: the
    # failure path covers the same lookup (the failed emr run), the deadline path is not reached so.
    "CheckPipelinesFunction": {"elasticmapreduce:ListClusters"},
    # Deleting a pipeline whose definition Data Pipeline rejected: moto accepts every definition.
    "CreatePipelineFunction": {"datapipeline:DeletePipeline"},
    "RestoreImportPipelineFunction": {"datapipeline:DeletePipeline"},
    # Putting an auto-scaled table's bounds back from ScaleDown or the failure path: the scenarios
    # that reach those states run on plain moto, where registering bounds never moves a table, so
    # their auto-scaled table is never boosted (the fault matrix covers these paths under StrictAws).
    "ScaleDownReadCapacityFunction": {"application-autoscaling:RegisterScalableTarget", "iam:CreateServiceLinkedRole"},
    "RestoreCapacityAfterFailureFunction": {
        "application-autoscaling:RegisterScalableTarget",
        "iam:CreateServiceLinkedRole",
    },
    # A table whose run lease another run holds (read it, ask whether that run still lives, give
    # back what a refused manual re-run took): no scenario here overlaps two runs; the fault
    # matrix's overlap test does.
    "DiscoverTablesFunction": {"dynamodb:GetItem", "dynamodb:DeleteItem", "states:DescribeExecution"},
    # Restoring a table encrypted with a customer managed key: moto's tables have none.
    "RestoreCreateTargetTableFunction": {"kms:DescribeKey", "kms:CreateGrant"},
}
# Granted, and needed by no call of the code; kept for the reason given, and listed so that a new
# extra cannot hide among them.
NOT_NEEDED_BY_THE_CODE = {
    # CreatePipeline takes the tags; the Service Authorization Reference lists no dependent action.
    "CreatePipelineFunction": {"datapipeline:AddTags"},
    "RestoreImportPipelineFunction": {"datapipeline:AddTags"},
    # The capacity statements are shared with ScaleUpReadCapacity, the only one that reads targets.
    "ScaleDownReadCapacityFunction": {"application-autoscaling:DescribeScalableTargets"},
    "RestoreCapacityAfterFailureFunction": {"application-autoscaling:DescribeScalableTargets"},
    "ReconcileCapacityFunction": {"application-autoscaling:DescribeScalableTargets"},
    # The table gets its tags in CreateTable's request.
    "RestoreCreateTargetTableFunction": {"dynamodb:TagResource"},
    # ImportTable creates the table itself; DescribeImport is in AWS's example policy for imports
    # (DynamoDB developer guide, "Requesting a table import"), CheckImport is what calls it.
    "RestoreImportTableFunction": {"dynamodb:CreateTable", "dynamodb:DescribeTable", "dynamodb:DescribeImport"},
    # A report not sent yet is a GetObject of a missing key, which S3 answers 404 only with
    # s3:ListBucket, else 403 (S3 API Reference, GetObject). The contract maps calls, not outcomes.
    "RestoreNotifyFunction": {"s3:ListBucket"},
    "RestoreNotifyFailureFunction": {"s3:ListBucket"},
    # The same for a sent/ marker not there yet (HeadObject answers 404 only with s3:ListBucket).
    "NotifyExecutionEndedFunction": {"s3:ListBucket"},
}


@dataclass
class Scenario:
    """What one session recorded, with the policies resolved against that session's stack."""

    name: str
    needed: dict[str, set[Requirement]]
    policies: Policies
    invoke_targets: dict[str, set[str]]
    # The tags of every CreatePipeline call (the stack's policies scope Data Pipeline by one of them).
    pipeline_tags: list[dict[str, str]]


def _record(name: str, session: LocalSession) -> Scenario:
    profiles = session.client("iam").list_instance_profiles()["InstanceProfiles"]
    env = Environment(
        region=session.region,
        account=ACCOUNT_ID,
        instance_profile_roles={p["InstanceProfileName"]: p["Roles"][0]["RoleName"] for p in profiles if p["Roles"]},
    )
    sfn = session.client("stepfunctions")
    targets = {
        logical_id: lambda_targets(json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]))
        for logical_id, arn in session.stack.state_machines.items()
    }
    with session.aws_calls.lock:
        calls = list(session.aws_calls.calls)
    tags = [
        {tag["key"]: tag["value"] for tag in call.params.get("tags", [])}
        for call in calls
        if call.service == "datapipeline" and call.operation == "CreatePipeline"
    ]
    return Scenario(
        name, needed_by_function(calls, session.stack, env), load_policies(session.stack, TEMPLATE), targets, tags
    )


def _report_ended_execution(session: LocalSession, execution_arn: str, status: str) -> dict[str, Any]:
    """Invoke NotifyExecutionEnded with the event EventBridge sends when a backup execution ends."""
    machine = session.stack.state_machines["BackupStateMachine"]
    detail = {
        "executionArn": execution_arn,
        "stateMachineArn": machine,
        "name": execution_arn.rsplit(":", 1)[1],
        "status": status,
    }
    event = {"source": "aws.states", "detail-type": "Step Functions Execution Status Change", "detail": detail}
    return session.invoke("NotifyExecutionEndedFunction", event)


def _backup_and_restores() -> Scenario:
    retried: list[str] = []

    def lambda_fails_once_after_creating(name: str, event: dict[str, Any], *_: Any) -> None:
        # A Lambda service error after CreateTable: the retried state finds the table it made.
        if name.endswith("-RestoreCreateTargetTableFunction") and not retried:
            retried.append(name)
            raise LambdaServiceError("the function's response was lost")

    with local_session(
        parameters={**TEST_PARAMETERS, "EnablePitr": "true"}, after_invoke=lambda_fails_once_after_creating
    ) as session:
        build(session, [BIG_SLOW_TABLE, AUTOSCALED_SLOW, ON_DEMAND])
        create_source(session, "orders-dp", 60, engine=None, on_demand=False, lsi=True)
        create_source(session, "events-ex", 60, engine="export", on_demand=True, lsi=False)
        create_source(session, "legacy-ex", 3, engine="export", on_demand=False, lsi=False, pitr=False)
        night = session.run({"poll_seconds": 120}, name="nightly", timeout=120)
        assert night.status == "SUCCEEDED", (night.error, night.cause)
        assert "RestoreCapacityAfterFailure" not in night.state_names

        with mock.patch.object(restore_plan, "IMPORT_TARGET_SECONDS", 1):
            by_pipeline = restore(session, "orders-dp", "orders-dp-restored", "restore-dp")
        assert by_pipeline.status == "SUCCEEDED", (by_pipeline.error, by_pipeline.cause)
        assert retried
        by_import = restore(session, "events-ex", "events-ex-restored", "restore-ex")
        assert by_import.status == "SUCCEEDED", (by_import.error, by_import.cause)
        refused = restore(session, "no-such-table", "no-such-copy", "restore-refused")
        assert refused.error == "UnknownTableError"
        not_empty = restore(session, "orders-dp", "events-ex", "restore-not-empty", into_existing=True)
        assert not_empty.error == "RestoreTargetExistsError"

        def failing_import(directory: str, table: str, percent: str) -> None:
            raise ActivityFailedError(f"import into {table} failed (injected fault)")

        session.emr.before_import = failing_import
        with mock.patch.object(restore_plan, "IMPORT_TARGET_SECONDS", 1):
            broken = restore(session, "orders-dp", "orders-dp-broken", "restore-broken")
        assert broken.status == "FAILED" and "StopImportAndLowerCapacity" in broken.state_names, broken.state_names
        return _record("backup and restores", session)


def _emr_night_and_restores() -> Scenario:
    """A night on the emr engine (two boosted tables share a cluster, so the second one's boost is
    raised, and its step added, in a wave of its own), then a restore on a cluster of its own and
    one whose import step fails."""
    with local_session(parameters={**EMR_PARAMETERS, "MaxConcurrentPipelines": "1"}) as session:
        build(session, [BIG_SLOW_TABLE, AUTOSCALED_SLOW, ON_DEMAND])
        night = session.run({"poll_seconds": 120}, name="nightly-emr", timeout=120)
        assert night.status == "SUCCEEDED", (night.error, night.cause)
        assert night.state_names.count("AddExportSteps") >= 2
        restored = restore(session, ON_DEMAND.name, "on-demand-carts-restored", "restore-emr")
        assert restored.status == "SUCCEEDED", (restored.error, restored.cause)

        def failing_import(directory: str, table: str, percent: str) -> None:
            raise ActivityFailedError(f"import into {table} failed (injected fault)")

        session.emr.before_import = failing_import
        broken = restore(session, ON_DEMAND.name, "on-demand-carts-broken", "restore-emr-broken")
        assert broken.status == "FAILED" and "StopImportAndLowerCapacity" in broken.state_names
        return _record("emr night and restores", session)


def _failed_run(parameters: dict[str, str] = TEST_PARAMETERS, name: str = "failed run") -> Scenario:
    """CreatePipeline dies after creating its pipeline (or cluster) and before storing its result
    (as a Lambda timeout would end it): the failure path finds it by its name and deletes it."""
    real_store_start = create_pipeline.store_start
    died: list[str] = []

    def die_before_storing(*args: Any, **kwargs: Any) -> None:
        if not died:
            died.append("CreatePipeline")
            raise RuntimeError("injected fault after the pipeline was created, before its result was stored")
        real_store_start(*args, **kwargs)

    with (
        local_session(parameters=parameters) as session,
        mock.patch.object(create_pipeline, "store_start", die_before_storing),
    ):
        build(session, [BIG_SLOW_TABLE, AUTOSCALED_SLOW])
        result = session.run({"poll_seconds": 120}, name="crashed", timeout=120)
        assert result.status == "FAILED" and "RestoreCapacityAfterFailure" in result.state_names
        assert session.client("datapipeline").list_pipelines()["pipelineIdList"] == []
        assert session.client("emr").list_clusters(ClusterStates=ACTIVE_CLUSTER_STATES)["Clusters"] == []
        # The failure path reported the run: the execution's end is not reported again.
        assert _report_ended_execution(session, result.arn, "FAILED")["already_reported_by"]
        return _record(name, session)


def _reconcile_after_a_dead_run(stop_in: str, when: str, parameters: dict[str, str] = TEST_PARAMETERS) -> Scenario:
    """A person stops the run while ``stop_in`` runs (before or after its work); then reconcile runs.

    Stopped after ScaleUpReadCapacity, the first wave is boosted and marked running with no pipeline
    recorded (reconcile looks the run's pipelines up by name); stopped as CheckPipelines starts, the
    pipelines are created and recorded (reconcile deletes them by id).
    """
    holder: list[LocalSession] = []

    def stop(name: str, *_: Any) -> None:
        if not name.endswith(f"-{stop_in}Function") or not holder:
            return
        session = holder.pop()
        sfn = session.client("stepfunctions")
        machine = session.stack.state_machines["BackupStateMachine"]
        for execution in sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"], error="StoppedByOperator")

    hook = {"before_invoke": stop} if when == "before" else {"after_invoke": stop}
    # Under StrictAws, so that registering the auto-scaled table's raised bounds moves its capacity
    # as Application Auto Scaling does (plain moto leaves the table alone).
    strict = StrictAws(auto_advance_on_describe=True)
    with (
        strict,
        local_session(
            parameters=parameters, emr={"hold": lambda pipeline_id: True}, clock=strict.clock, **hook
        ) as session,
    ):
        holder.append(session)
        build(session, [BIG_SLOW_TABLE, AUTOSCALED_SLOW])
        strict.settle()
        stopped = session.run({"poll_seconds": 120}, name="stopped")
        assert stopped.status == "ABORTED"
        # No Catch runs for a stop: the execution's end is reported by NotifyExecutionEnded.
        assert _report_ended_execution(session, stopped.arn, "ABORTED")["message_id"]
        strict.settle()  # the hourly reconcile comes after the boosts' updates have ended
        report = session.invoke("ReconcileCapacityFunction")
        # Data Pipeline raised both boosts as their batches started; the emr engine raises a boost
        # only when its table's turn on its cluster comes, and the stop came before the second one's.
        raised = {"autoscaled-slow", "big-slow"}
        assert report["stopped_runs"] == ["stopped"], report
        assert set(report["restored"]) == raised if parameters.get("Engine") != "emr" else report["restored"], report
        assert sent_messages(session)
        assert session.client("emr").list_clusters(ClusterStates=ACTIVE_CLUSTER_STATES)["Clusters"] == []
        engine = parameters.get("Engine", "datapipeline")
        return _record(f"reconcile after a run stopped {when} {stop_in} ({engine})", session)


@pytest.fixture(scope="module")
def scenarios() -> Iterator[list[Scenario]]:
    """The recorded scenarios (about 40 s: this module's tests share them)."""
    yield [
        _backup_and_restores(),
        _failed_run(),
        _reconcile_after_a_dead_run("ScaleUpReadCapacity", "after"),
        _reconcile_after_a_dead_run("CheckPipelines", "before"),
        _emr_night_and_restores(),
        _failed_run(EMR_PARAMETERS, "failed emr run"),
        _reconcile_after_a_dead_run("ScaleUpReadCapacity", "after", EMR_PARAMETERS),
        _reconcile_after_a_dead_run("CheckPipelines", "before", EMR_PARAMETERS),
    ]


def _functions() -> set[str]:
    resources = load_template(TEMPLATE)["Resources"]
    return {logical_id for logical_id, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}


def check_every_call_each_function_makes_is_allowed_by_its_role(scenarios: list[Scenario]) -> None:
    # GIVEN every AWS call each function made in the scenarios
    # WHEN each call's permissions are checked against the function's policy in template.yaml
    found = {f"{scenario.name}: {v}" for scenario in scenarios for v in violations(scenario.needed, scenario.policies)}
    # THEN none is missing
    assert sorted(found) == []


def check_the_scenarios_exercise_every_function(scenarios: list[Scenario]) -> None:
    # A function that never ran would pass the contract without being checked.
    exercised = set().union(*(scenario.needed for scenario in scenarios))
    assert _functions() - exercised == set()


def check_removing_any_permission_a_function_needs_is_reported(scenarios: list[Scenario]) -> None:
    # GIVEN each (function, action) a scenario needed
    unreported: list[str] = []
    checked = 0
    for scenario in scenarios:
        for principal, needed in scenario.needed.items():
            for action in sorted({r.action for r in needed}):
                # WHEN that one action is taken out of the function's policy
                weakened = scenario.policies.without(principal, action)
                # THEN the contract names the function and the action
                reported = {(v.principal, v.action) for v in violations(scenario.needed, weakened)}
                checked += 1
                if (principal, action) not in reported:
                    unreported.append(f"{scenario.name}: {principal} without {action}")
    assert checked > 50
    assert unreported == []


def check_a_removed_permission_fails_with_a_message_naming_function_action_and_resource(
    scenarios: list[Scenario],
) -> None:
    # GIVEN the failure path's role without datapipeline:ListPipelines (as template.yaml once was)
    failed_run = next(s for s in scenarios if s.name == "failed run")
    weakened = failed_run.policies.without("RestoreCapacityAfterFailureFunction", "datapipeline:ListPipelines")
    # WHEN the contract is checked
    messages = [str(v) for v in violations(failed_run.needed, weakened)]
    # THEN it says which function lacks which permission on what, and which call needed it
    assert messages == [
        "RestoreCapacityAfterFailureFunction lacks datapipeline:ListPipelines on * (needed by ListPipelines)"
    ]


def check_every_pipeline_carries_the_tag_the_policies_scope_data_pipeline_by(scenarios: list[Scenario]) -> None:
    # GIVEN the template's Data Pipeline statements (other than ListPipelines, which takes no condition)
    resources = load_template(TEMPLATE)["Resources"]
    conditions = [
        statement.get("Condition")
        for resource in resources.values()
        if resource["Type"] == "AWS::Serverless::Function"
        for entry in resource["Properties"].get("Policies", [])
        if isinstance(entry, dict) and "Statement" in entry
        for statement in entry["Statement"]
        if any(str(a).startswith("datapipeline:") and a != "datapipeline:ListPipelines" for a in statement["Action"])
    ]
    # THEN each is scoped to the stack's pipelines by their hippolyte:stage tag
    assert conditions and all(set(c["StringEquals"]) == {"datapipeline:Tag/hippolyte:stage"} for c in conditions), (
        conditions
    )
    # AND every pipeline the scenarios created (backup and restore) carries that tag, with the stage
    created = [tags for scenario in scenarios for tags in scenario.pipeline_tags]
    assert created and all(tags.get("hippolyte:stage") == TEST_PARAMETERS["Stage"] for tags in created), created


def check_each_state_machine_may_invoke_every_function_version_it_names(scenarios: list[Scenario]) -> None:
    # GIVEN the deployed definitions' Lambda tasks
    for scenario in scenarios:
        for machine, targets in scenario.invoke_targets.items():
            assert targets, f"{machine} invokes no function"
            # THEN the state machine's role may invoke each one, on the exact ARN it names
            refused = [t for t in targets if not scenario.policies.allows(machine, "lambda:InvokeFunction", t)]
            assert refused == []


def check_inline_permissions_no_scenario_needs_are_only_for_paths_the_local_run_cannot_take(
    scenarios: list[Scenario],
) -> None:
    # GIVEN every function's needs over all scenarios
    merged: dict[str, set[Requirement]] = {}
    for scenario in scenarios:
        for principal, needed in scenario.needed.items():
            merged.setdefault(principal, set()).update(needed)
    # WHEN the inline statements' actions are compared with them
    unused = unused_actions(merged, scenarios[0].policies)
    # THEN what is granted but never needed is only what is listed, each with its reason
    expected = {
        principal: NOT_EXERCISED_LOCALLY.get(principal, set()) | NOT_NEEDED_BY_THE_CODE.get(principal, set())
        for principal in {*NOT_EXERCISED_LOCALLY, *NOT_NEEDED_BY_THE_CODE}
    }
    assert unused == expected, {
        name: (unused.get(name), expected.get(name))
        for name in {*unused, *expected}
        if unused.get(name) != expected.get(name)
    }


CONTRACT_CHECKS: list[Callable[[list[Scenario]], None]] = [
    check_every_call_each_function_makes_is_allowed_by_its_role,
    check_the_scenarios_exercise_every_function,
    check_removing_any_permission_a_function_needs_is_reported,
    check_a_removed_permission_fails_with_a_message_naming_function_action_and_resource,
    check_every_pipeline_carries_the_tag_the_policies_scope_data_pipeline_by,
    check_each_state_machine_may_invoke_every_function_version_it_names,
    check_inline_permissions_no_scenario_needs_are_only_for_paths_the_local_run_cannot_take,
]


def test_the_iam_contract_holds_for_every_scenario(scenarios: list[Scenario], subtests: pytest.Subtests) -> None:
    """Every check of the contract over one recording of the scenarios, each reported as its own subtest.

    One test rather than one per check: the scenarios take about 40 s to record, and a module
    fixture shared by several tests is recorded again on every xdist worker that runs one of them.
    """
    for check in CONTRACT_CHECKS:
        with subtests.test(msg=check.__name__):
            check(scenarios)
