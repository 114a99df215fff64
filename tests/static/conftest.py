"""Fixtures of the static checks: the template as SAM transforms it (with the SAM CLI's Python)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.static.asl_graph import ROOT
from tests.static.tool_venvs import SAM_PYTHON, require_tool

TRANSFORM = ROOT / "tests" / "static" / "sam_transform.py"


@pytest.fixture(scope="session")
def transformed_template_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """template.yaml after SAM's transform (what CloudFormation deploys), as a JSON file."""
    python = require_tool(SAM_PYTHON, "HIPPOLYTE_REQUIRE_SAM", "the SAM CLI")
    target = tmp_path_factory.mktemp("sam-transform") / "transformed.json"
    result = subprocess.run(
        [str(python), str(TRANSFORM), str(ROOT / "template.yaml"), str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1"),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return target


@pytest.fixture(scope="session")
def transformed_template(transformed_template_path: Path) -> dict[str, Any]:
    """The transformed template, parsed."""
    template: dict[str, Any] = json.loads(transformed_template_path.read_text())
    return template
