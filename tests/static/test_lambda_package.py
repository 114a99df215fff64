"""The Lambda package (template.yaml's CodeUri) holds only what the Lambdas import.

The local harness (``tools/hippolyte_local``, which patches moto) and the command line
(``tools/hippolyte_cli``) live outside ``functions/``, so ``sam build`` never packages them.
Imports under ``if TYPE_CHECKING:`` (the boto3 type stubs, a development dependency) never run in
Lambda, so they are not counted.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Imports the Lambda runtime provides or functions/requirements.txt installs, and the package itself.
LAMBDA_IMPORTS = {"hippolyte", "boto3", "botocore", "pydantic", "aws_lambda_powertools"}


def _code_uri() -> Path:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    return ROOT / template["Globals"]["Function"]["CodeUri"]


def _is_type_checking(test: ast.expr) -> bool:
    """Whether an ``if`` tests ``TYPE_CHECKING`` (or ``typing.TYPE_CHECKING``), false at run time."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node below ``node`` that can run: the body of ``if TYPE_CHECKING:`` never does (its
    imports are the type stubs, development dependencies only), though its ``else`` does."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for branch in child.orelse:
                yield branch
                yield from _runtime_nodes(branch)
            continue
        yield child
        yield from _runtime_nodes(child)


def top_level_imports(source: str, filename: str = "<source>") -> set[str]:
    """The top-level packages a module imports when it runs (relative imports are its own)."""
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_lambda_package_imports_only_the_runtime_and_its_requirements() -> None:
    # GIVEN every module under the functions' CodeUri
    modules = sorted(_code_uri().rglob("*.py"))
    assert modules
    # WHEN their imports are read
    outside = {
        str(module.relative_to(ROOT)): sorted(
            name
            for name in top_level_imports(module.read_text(), str(module))
            if name not in LAMBDA_IMPORTS and name not in sys.stdlib_module_names and name != "__future__"
        )
        for module in modules
    }
    # THEN none imports moto, the local harness, the CLI, or anything else not installed in Lambda
    assert {module: names for module, names in outside.items() if names} == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # The stubs only type-check: Lambda never imports them.
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from types_boto3_s3 import S3Client\n", {"typing"}),
        ("import typing\nif typing.TYPE_CHECKING:\n    import types_boto3_s3\n", {"typing"}),
        # Anything that runs counts: at module level, in a function, or in the else of the check.
        ("import moto\n", {"moto"}),
        ("def f():\n    from types_boto3_s3 import S3Client\n", {"types_boto3_s3"}),
        ("if TYPE_CHECKING:\n    import a\nelse:\n    import yaml\n", {"yaml"}),
        ("if DEBUG:\n    import moto\n", {"moto"}),
    ],
)
def test_only_imports_that_run_are_counted(source: str, expected: set[str]) -> None:
    """Imports under ``if TYPE_CHECKING:`` are left out; every other import is counted."""
    assert top_level_imports(source) == expected


def test_the_harness_and_the_cli_are_outside_the_lambda_package() -> None:
    # GIVEN the functions' CodeUri
    code = _code_uri()
    # THEN it holds no local harness and no command line
    assert not (code / "hippolyte" / "local").exists() and not (code / "hippolyte" / "cli").exists()
    assert (ROOT / "tools" / "hippolyte_local" / "session.py").exists()
    assert (ROOT / "tools" / "hippolyte_cli" / "__init__.py").exists()
