"""Static checks of the state machines: what AWS would reject, and the rules we hold ourselves to."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hippolyte_local.template import load_template

from tests.static.asl_graph import END, ROOT, START, all_state_sets, graph, load, mermaid_edges, transitions

MACHINES = sorted(path.name for path in (ROOT / "statemachine").glob("*.asl.json"))
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
FAILURE_PATH = {"RestoreCapacityAfterFailure", "NotifyFailure"}


@pytest.mark.parametrize("machine", MACHINES)
def test_every_transition_target_exists_and_every_state_is_reachable(machine: str) -> None:
    # GIVEN each state set of the definition (top level and Map iterators)
    for states in all_state_sets(load(machine)):
        names = set(states["States"])
        edges = {(START, states["StartAt"]), *transitions(states["States"])}
        # THEN every target is a state of the same set (AWS rejects others; moto does not)
        assert {target for _, target in edges} - {END} <= names
        # AND every state can be reached from StartAt
        reached, frontier = set(), [states["StartAt"]]
        while frontier:
            name = frontier.pop()
            if name in reached or name == END:
                continue
            reached.add(name)
            frontier += [target for source, target in edges if source == name]
        assert reached == names, f"unreachable in {machine}: {names - reached}"


@pytest.mark.parametrize("machine", MACHINES)
def test_every_lambda_task_retries_lambda_errors_and_is_caught(machine: str) -> None:
    # GIVEN every Task state invoking a Lambda
    for states in all_state_sets(load(machine)):
        for name, state in states["States"].items():
            if state["Type"] != "Task":
                continue
            # THEN it retries Lambda's own transient errors with back-off
            retried = {error for retry in state.get("Retry", []) for error in retry["ErrorEquals"]}
            assert retried >= LAMBDA_ERRORS, name
            # AND its function comes from DefinitionSubstitutions
            assert state["Parameters"]["FunctionName"].startswith("${"), name


def test_every_backup_state_that_can_fail_leads_through_capacity_restore() -> None:
    # GIVEN the backup state machine
    states = load("backup.asl.json")["States"]
    for name, state in states.items():
        if state["Type"] not in ("Task", "Map") or name in FAILURE_PATH:
            continue
        # THEN a Catch of every error leads to the capacity restore, which cannot be skipped
        catches = {catch["Next"] for catch in state.get("Catch", []) if "States.ALL" in catch["ErrorEquals"]}
        assert catches == {"RestoreCapacityAfterFailure"}, name
    # AND the restore runs again until every table has been tried, then notifies
    assert states["RestoreCapacityAfterFailure"]["Next"] == "AllTablesRestored"
    restored = states["AllTablesRestored"]
    assert restored["Default"] == "NotifyFailure"
    again = {choice["Next"] for choice in restored["Choices"]}
    assert again == {"WaitBeforeRestoringMore"}
    assert states["WaitBeforeRestoringMore"]["Next"] == "RestoreCapacityAfterFailure"
    assert {c["Next"] for c in states["RestoreCapacityAfterFailure"]["Catch"]} == {"NotifyFailure"}
    assert states["NotifyFailure"]["Next"] == "BackupFailed"


def test_the_backup_states_are_named_for_what_they_do() -> None:
    # GIVEN the backup state machine, as the console's graph shows it
    states = load("backup.asl.json")["States"]
    # THEN the states the design names are there, in the loop the design describes
    for name in (
        "DiscoverTables",
        "PlanBatches",
        "ScaleUpReadCapacity",
        "CreatePipelines",
        "WaitForPipelines",
        "CheckPipelines",
        "ScaleDownReadCapacity",
        "NotifyResult",
    ):
        assert name in states
    assert states["CreatePipelines"]["Type"] == "Map"
    # Data Pipeline's API allows about one call a second: a few creations at once, not a flood.
    assert 1 <= states["CreatePipelines"]["MaxConcurrency"] <= 5
    # The wait is the poll interval or shorter, as CheckPipelines sets it (hippolyte.poll_timing).
    assert states["WaitForPipelines"]["SecondsPath"] == "$.wait_seconds"
    edges = graph(load("backup.asl.json"))
    assert ("WaitForPipelines", "CheckPipelines") in edges and ("AllBackupsDone", "WaitForPipelines") in edges


def test_no_path_indexes_a_list_then_reads_a_field() -> None:
    # moto's JSONPath returns a list for "$.arr[1].x" where AWS returns the value: never write one.
    for machine in MACHINES:
        text = (ROOT / "statemachine" / machine).read_text()
        assert "]." not in text.replace("[*].", ""), machine


@pytest.mark.parametrize("machine", MACHINES)
def test_the_readme_diagram_matches_the_state_machine(machine: str) -> None:
    # GIVEN the README's Mermaid diagram of this state machine
    readme = (ROOT / "README.md").read_text()
    marker = f"<!-- diagram: statemachine/{machine} -->"
    assert marker in readme, f"README has no diagram for {machine}"
    # THEN its edges are exactly the ASL's transitions
    assert mermaid_edges(readme, marker) == graph(load(machine))


@pytest.mark.parametrize("machine", MACHINES)
def test_cfn_lint_validates_the_definition(machine: str, tmp_path: Path) -> None:
    # cfn-lint checks ASL only inside a plain AWS::StepFunctions::StateMachine resource.
    definition = (ROOT / "statemachine" / machine).read_text()
    definition = __import__("re").sub(r"\$\{(\w+)\}", r"arn:aws:lambda:us-east-1:123456789012:function:\1", definition)
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": json.loads(definition)},
            }
        },
    }
    path = tmp_path / "asl.json"
    path.write_text(json.dumps(template))
    result = subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_validates_the_template() -> None:
    result = subprocess.run([CFN_LINT, str(ROOT / "template.yaml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_stack_parameter_is_documented_in_the_readme() -> None:
    # GIVEN the template's parameters and the README's parameter table
    parameters = load_template(ROOT / "template.yaml")["Parameters"]
    readme = (ROOT / "README.md").read_text()
    # THEN each one has a row, with its default
    for name, spec in parameters.items():
        default = str(spec.get("Default", "")) or "empty"
        assert f"| `{name}` | " in readme, name
        row = readme.split(f"| `{name}` | ", 1)[1].split("\n", 1)[0]
        assert default in row or f"`{default}`" in row, (name, default, row)
