"""The workflow steps and the handlers never call AWS themselves: the adapters do.

``hippolyte.adapters`` owns every AWS call and the reading of every AWS error code, with typed
clients (mypy checks each call against the ``types-boto3`` stubs there). A step may get a client
from the runtime (``rt.client("s3")``) and hand it to an adapter function, but it may not call a
method on it, nor import boto3 or botocore (whose ``ClientError`` it would have to interpret).
This test reads the modules' syntax trees, so it also covers code no test happens to run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "hippolyte"
# Where no AWS call may be made directly.
GUARDED = ("workflow", "handlers")
AWS_PACKAGES = {"boto3", "botocore"}


def _is_client_call(node: ast.AST) -> bool:
    """Whether ``node`` makes a client: ``rt.client(...)``, ``clients.client(...)``, ``client(...)``."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Attribute) and func.attr == "client") or (
        isinstance(func, ast.Name) and func.id == "client"
    )


def _bound_pairs(target: ast.expr, value: ast.expr) -> Iterator[tuple[ast.expr, ast.expr]]:
    """Each (name, value) of an assignment, pairing tuples element by element (``a, b = x, y``)."""
    if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
        if len(target.elts) == len(value.elts):
            for inner_target, inner_value in zip(target.elts, value.elts, strict=True):
                yield from _bound_pairs(inner_target, inner_value)
        return
    yield target, value


def _client_names(tree: ast.AST) -> set[str]:
    """Names a module binds to a client: assigned one, or a parameter annotated as one
    (``dynamodb: DynamoDBClient``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _bound_pairs(target, node.value):
                    if isinstance(name, ast.Name) and _is_client_call(value):
                        names.add(name.id)
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            if isinstance(node.target, ast.Name) and _is_client_call(node.value):
                names.add(node.target.id)
        elif isinstance(node, ast.arg) and node.annotation is not None and "Client" in ast.unparse(node.annotation):
            names.add(node.arg)
    return names


def boundary_violations(source: str, filename: str = "<source>") -> list[str]:
    """What in one module crosses the boundary: each as ``line: what``, in order.

    An import of boto3 or botocore (even one only for type checking), and a method called on a
    client: on a name bound to a client, or on ``rt.client(...)`` itself.
    """
    tree = ast.parse(source, filename=filename)
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(
                (node.lineno, f"imports {alias.name}")
                for alias in node.names
                if alias.name.split(".")[0] in AWS_PACKAGES
            )
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in AWS_PACKAGES:
            found.append((node.lineno, f"imports from {node.module}"))
    # Names are gathered over the whole module, whichever function binds them: a name that holds
    # a client anywhere is not used for anything else in these short modules.
    clients = _client_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (isinstance(owner, ast.Name) and owner.id in clients) or _is_client_call(owner):
                found.append((node.lineno, f"calls {ast.unparse(node.func)}() on a client"))
    return [f"{line}: {what}" for line, what in sorted(set(found))]


def _guarded_modules() -> list[Path]:
    """Every module of the workflow steps and of the handlers."""
    return sorted(path for part in GUARDED for path in (PACKAGE / part).rglob("*.py"))


def test_workflow_and_handlers_leave_every_aws_call_to_the_adapters() -> None:
    """No step or handler imports boto3/botocore or calls a method on a client."""
    # GIVEN every module of the workflow and of the handlers
    modules = _guarded_modules()
    assert len(modules) > 10
    # WHEN each is read
    violations = {
        str(path.relative_to(ROOT)): found
        for path in modules
        if (found := boundary_violations(path.read_text(), str(path)))
    }
    # THEN none calls AWS itself: the adapters do it
    assert violations == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            'def f(rt):\n    rt.client("s3").put_object(Bucket="b")\n',
            ["2: calls rt.client('s3').put_object() on a client"],
        ),
        ('def f(rt):\n    s3 = rt.client("s3")\n    s3.head_object()\n', ["3: calls s3.head_object() on a client"]),
        (
            'def f(rt):\n    name, ddb = "t", rt.client("dynamodb")\n    ddb.scan(TableName=name)\n',
            ["3: calls ddb.scan() on a client"],
        ),
        ("def f(dynamodb: DynamoDBClient):\n    dynamodb.scan()\n", ["2: calls dynamodb.scan() on a client"]),
        ("from botocore.exceptions import ClientError\n", ["1: imports from botocore.exceptions"]),
        ("if TYPE_CHECKING:\n    import boto3\n", ["2: imports boto3"]),
        # Handing a client to an adapter is what steps do; other objects' methods are theirs.
        ('def f(rt):\n    s3 = rt.client("s3")\n    save(s3, "x")\n    rt.ledger().get("t", "r")\n', []),
    ],
)
def test_the_boundary_check_sees_each_kind_of_crossing(source: str, expected: list[str]) -> None:
    """The check itself finds direct calls, calls through a bound name, and AWS imports."""
    assert boundary_violations(source) == expected
