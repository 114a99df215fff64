"""One module per state, named after it, and no state module importing another's.

The developer guide's rule, read from the sources themselves: each Task state of
``statemachine/*.asl.json`` invokes a function (through ``DefinitionSubstitutions`` in
``template.yaml``) whose ``Handler`` is ``hippolyte.handlers.<state_in_snake_case>``, and its work
lives in ``hippolyte.workflow.<state>`` (backup) or ``hippolyte.workflow.<machine>.<state>``
(restore). A function no state invokes (the hourly ReconcileCapacity) follows the same rule with
its own name. What two states share lives in a module named for what it is, so no state module
imports another state's module, and no shared module imports a state module.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hippolyte_local.template import CfnTag, load_template

from tests.static.asl_graph import ROOT, all_state_sets

SOURCES = ROOT / "functions"
PACKAGE = SOURCES / "hippolyte"
HANDLERS = "hippolyte.handlers"
# Where each state machine's steps live; a new state machine needs its own entry here.
WORKFLOW_PACKAGES = {"backup": "hippolyte.workflow", "restore": "hippolyte.workflow.restore"}
# The steps of functions that no state invokes (scheduled ones) live with the backup's.
UNINVOKED_WORKFLOW_PACKAGE = "hippolyte.workflow"


@dataclass(frozen=True)
class Step:
    """One state (or uninvoked function) and the modules the rule expects for it."""

    name: str
    function: str
    handler: str
    workflow_package: str

    @property
    def module(self) -> str:
        """The module name the rule asks for: the step's name in snake_case."""
        return snake_case(self.name)

    @property
    def handler_module(self) -> str:
        """The module the rule asks the function's ``Handler`` to be in."""
        return f"{HANDLERS}.{self.module}"

    @property
    def workflow_module(self) -> str:
        """The module the rule asks the step's work to be in."""
        return f"{self.workflow_package}.{self.module}"


def snake_case(name: str) -> str:
    """A state's name as a module name.

    >>> snake_case("CreatePipeline"), snake_case("RestoreCapacityAndTtl"), snake_case("ImportData")
    ('create_pipeline', 'restore_capacity_and_ttl', 'import_data')
    """
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _template() -> dict[str, Any]:
    """template.yaml, with its CloudFormation tags kept as :class:`CfnTag`."""
    return load_template(ROOT / "template.yaml")


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Lambda functions, by logical ID."""
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def _function_of(substitution: Any) -> str:
    """The logical ID a ``DefinitionSubstitutions`` value refers to (``!Ref X.Version`` gives X)."""
    assert isinstance(substitution, CfnTag) and substitution.name in ("Ref", "GetAtt"), substitution
    value = substitution.value
    return str(value[0] if isinstance(value, list) else value).split(".")[0]


def steps() -> list[Step]:
    """Every Task state of every state machine, then every function no state invokes."""
    template = _template()
    functions = _functions(template)
    found: list[Step] = []
    invoked: set[str] = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        properties = resource["Properties"]
        machine = Path(properties["DefinitionUri"]).name.removesuffix(".asl.json")
        assert machine in WORKFLOW_PACKAGES, f"state machine {machine} has no workflow package in this test"
        substitutions = properties["DefinitionSubstitutions"]
        definition = json.loads((ROOT / properties["DefinitionUri"]).read_text())
        for states in all_state_sets(definition):
            for name, state in states["States"].items():
                if state["Type"] != "Task":
                    continue
                placeholder = state["Parameters"]["FunctionName"]
                function = _function_of(substitutions[placeholder.removeprefix("${").removesuffix("}")])
                invoked.add(function)
                handler = functions[function]["Handler"]
                found.append(Step(name, function, handler, WORKFLOW_PACKAGES[machine]))
    for function, properties in functions.items():
        if function not in invoked:
            name = function.removesuffix("Function")
            found.append(Step(name, function, properties["Handler"], UNINVOKED_WORKFLOW_PACKAGE))
    return found


STEPS = steps()


def _module_name(path: Path) -> str:
    """The dotted name of a module under functions/ (a package's ``__init__.py`` is the package)."""
    parts = path.relative_to(SOURCES).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_path(module: str) -> Path:
    """The file a dotted module name under functions/ would be in (a plain module, not a package)."""
    return SOURCES.joinpath(*module.split(".")).with_suffix(".py")


def _imported(path: Path) -> set[str]:
    """Every module name an import in the file may bind: ``from a import b`` gives ``a`` and ``a.b``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _state_modules() -> dict[str, str]:
    """Every state module (handler and workflow) that exists, mapped to the step it belongs to."""
    modules = {
        **{step.handler_module: step.name for step in STEPS},
        **{step.workflow_module: step.name for step in STEPS},
    }
    return {module: step for module, step in modules.items() if _module_path(module).is_file()}


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_every_step_runs_the_handler_module_named_after_it(step: Step) -> None:
    """A Task state's function (or an uninvoked function) has its handler in a module named after the step."""
    # GIVEN a Task state, its function from DefinitionSubstitutions, and the function's Handler
    module, _, entry = step.handler.rpartition(".")
    # THEN the handler is lambda_handler of hippolyte.handlers.<step in snake_case>
    assert (module, entry) == (step.handler_module, "lambda_handler"), f"{step.function} runs {step.handler}"
    # AND that module exists, and its docstring opens with the step's name
    path = _module_path(module)
    assert path.is_file(), f"{step.function}'s handler module {module} does not exist"
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert docstring.startswith(step.name), f"{path.relative_to(ROOT)}'s docstring does not name {step.name}"


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
def test_every_step_has_a_workflow_module_named_after_it(step: Step) -> None:
    """A step's work is in a workflow module named after it, whose docstring names the step."""
    # GIVEN the workflow module the rule asks for
    path = _module_path(step.workflow_module)
    # THEN it exists, and its docstring opens with the step's name
    assert path.is_file(), f"{step.name} has no workflow module {path.relative_to(ROOT)}"
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert docstring.startswith(step.name), f"{path.relative_to(ROOT)}'s docstring does not name {step.name}"


def test_every_handler_module_is_a_function_handler() -> None:
    """No module of hippolyte.handlers defines a lambda_handler that no function of template.yaml runs."""
    # GIVEN the handler modules the template names
    handlers = {step.handler.rpartition(".")[0] for step in STEPS}
    # WHEN the package's modules that define a lambda_handler are read
    defined = {
        _module_name(path)
        for path in (PACKAGE / "handlers").glob("*.py")
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "lambda_handler"
            for node in ast.parse(path.read_text()).body
        )
    }
    # THEN they are exactly the template's
    assert defined == handlers


def test_no_state_module_imports_another_state_module() -> None:
    """A state's modules import no module of another state (a handler imports its own workflow module)."""
    # GIVEN every state module, and the step each belongs to
    states = _state_modules()
    # WHEN their imports are read
    crossing = {
        module: sorted(name for name in _imported(_module_path(module)) if states.get(name, step) != step)
        for module, step in states.items()
    }
    # THEN none names another step's module
    assert {module: names for module, names in crossing.items() if names} == {}


def test_no_shared_module_imports_a_state_module() -> None:
    """A module that belongs to no state imports no state module, so no state reaches another through it."""
    # GIVEN every module of the package that is not a state module
    states = _state_modules()
    shared = [path for path in sorted(PACKAGE.rglob("*.py")) if _module_name(path) not in states]
    assert shared
    # WHEN their imports are read
    found = {str(path.relative_to(ROOT)): sorted(_imported(path) & set(states)) for path in shared}
    # THEN none names a state module
    assert {path: names for path, names in found.items() if names} == {}
