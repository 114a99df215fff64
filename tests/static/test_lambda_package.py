"""The Lambda package (template.yaml's CodeUri) holds only what the Lambdas import.

The local harness (``tools/hippolyte_local``, which patches moto) and the command line
(``tools/hippolyte_cli``) live outside ``functions/``, so ``sam build`` never packages them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

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


def _top_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
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
            for name in _top_level_imports(module)
            if name not in LAMBDA_IMPORTS and name not in sys.stdlib_module_names and name != "__future__"
        )
        for module in modules
    }
    # THEN none imports moto, the local harness, the CLI, or anything else not installed in Lambda
    assert {module: names for module, names in outside.items() if names} == {}


def test_the_harness_and_the_cli_are_outside_the_lambda_package() -> None:
    # GIVEN the functions' CodeUri
    code = _code_uri()
    # THEN it holds no local harness and no command line
    assert not (code / "hippolyte" / "local").exists() and not (code / "hippolyte" / "cli").exists()
    assert (ROOT / "tools" / "hippolyte_local" / "session.py").exists()
    assert (ROOT / "tools" / "hippolyte_cli" / "__init__.py").exists()
