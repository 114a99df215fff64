"""Deploys while a backup runs: an execution finishes on the code it started with.

The state machines name each function's published version (template.yaml: ``AutoPublishAlias`` and
``!Ref <Function>.Version``). A deploy publishes new versions, moves the ``live`` alias and updates
the definitions; Step Functions keeps a running execution on the definition it started with, so
that execution goes on calling the old versions. Here a "deploy" is what CloudFormation does to the
Lambda and Step Functions APIs, made from inside the first poll of a running backup.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hippolyte_local.fleet import DemoTable
from hippolyte_local.session import LocalSession

from tests.statemachine.fleet_support import build

NEW_HANDLER = "tests.statemachine.test_deploys.new_version_handler"
_QUALIFIED = re.compile(r"^arn:aws:lambda:[\w-]+:\d{12}:function:(?P<name>[\w-]+):(?P<version>\d+)$")


class NewVersionError(Exception):
    """Raised by the "new version" of every function, so that running it cannot go unnoticed."""


def new_version_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every function's handler after the test's deploy."""
    raise NewVersionError(f"new code ran in {context.function_name}")


def _lambda_tasks(definition: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for state in definition["States"].values():
        if state.get("Resource") == "arn:aws:states:::lambda:invoke":
            names.append(state["Parameters"]["FunctionName"])
        for branch in state.get("Branches", []):
            names += _lambda_tasks(branch)
        if "ItemProcessor" in state:
            names += _lambda_tasks(state["ItemProcessor"])
    return names


def _definitions(session: LocalSession) -> dict[str, dict[str, Any]]:
    sfn = session.client("stepfunctions")
    return {
        machine: json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
        for machine, arn in session.stack.state_machines.items()
    }


def deploy_new_code(session: LocalSession) -> None:
    """What a deploy of changed code does: new $LATEST, a new version, the alias moved, definitions updated."""
    awslambda, sfn = session.client("lambda"), session.client("stepfunctions")
    versions: dict[str, str] = {}
    for logical_id in session.stack.function_arns:
        name = session.stack.refs[logical_id]
        awslambda.update_function_configuration(FunctionName=name, Handler=NEW_HANDLER)
        versions[name] = awslambda.publish_version(FunctionName=name)["Version"]
        awslambda.update_alias(FunctionName=name, Name="live", FunctionVersion=versions[name])
    for arn in session.stack.state_machines.values():
        definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
        for name, version in versions.items():
            definition = re.sub(rf"(:function:{name}):\d+\"", rf'\g<1>:{version}"', definition)
        sfn.update_state_machine(stateMachineArn=arn, definition=definition)


def test_every_lambda_task_names_the_version_the_live_alias_points_to(session: LocalSession) -> None:
    # GIVEN the deployed stack; WHEN its state machines' Lambda tasks are read
    awslambda = session.client("lambda")
    for machine, definition in _definitions(session).items():
        tasks = _lambda_tasks(definition)
        assert tasks, machine
        for function_arn in tasks:
            # THEN each names a published version (not $LATEST, not the moving alias) ...
            match = _QUALIFIED.match(function_arn)
            assert match, f"{machine} invokes {function_arn}, which is not a published version"
            # ... the one the live alias points to now
            alias = awslambda.get_alias(FunctionName=match["name"], Name="live")
            assert alias["FunctionVersion"] == match["version"]


def test_a_deploy_during_a_run_leaves_the_running_execution_on_its_own_code(session_factory: Any) -> None:
    # GIVEN a backup that is deployed over during its first poll
    deployed: list[str] = []

    def deploy_during_first_poll(name: str, *_: Any) -> None:
        if name.endswith("-CheckPipelinesFunction") and not deployed:
            deployed.append(name)
            deploy_new_code(holder[0])

    holder: list[LocalSession] = []
    session: LocalSession = session_factory(before_invoke=deploy_during_first_poll)
    holder.append(session)
    build(session, [DemoTable("orders", items=20, item_bytes=200, rcu=5)])

    # WHEN the run goes on after the deploy
    result = session.run({"poll_seconds": 120}, name="across-a-deploy", timeout=120)

    # THEN it finished on the code it started with: no state ran the new code
    assert deployed, "the deploy never happened"
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "ScaleDownReadCapacity" in result.state_names and "NotifyResult" in result.state_names
    # AND an execution started after the deploy runs the new code from its first state
    after = session.run({"poll_seconds": 120}, name="after-the-deploy", timeout=60)
    assert after.status == "FAILED" and after.error == "NewVersionError", (after.error, after.cause)
    assert "new code ran in" in (after.cause or "")


def test_execution_input_with_an_unknown_field_is_still_refused(session: LocalSession) -> None:
    # GIVEN each state machine and input with a misspelt field
    cases = {
        "BackupStateMachine": ({"poll_seconds": 120, "tabels": ["orders"]}, "InvalidExecutionInputError", "tabels"),
        "RestoreStateMachine": (
            {"table": "orders", "target": "orders-copy", "tagret": "x"},
            "InvalidRestoreRequestError",
            "tagret",
        ),
    }
    for machine, (execution_input, error, field) in cases.items():
        # WHEN an execution starts with it
        result = session.run(execution_input, machine=machine, name=f"typo-{machine}", timeout=60)
        # THEN it fails at its first state, with the error naming the field
        assert result.status == "FAILED" and result.error == error, (machine, result.error, result.cause)
        assert f"input {field}: Extra inputs are not permitted" in (result.cause or "")
