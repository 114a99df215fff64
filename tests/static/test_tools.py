"""SAM CLI and ruff over the repository, as a user's `sam build` and a reviewer's linter see it.

SAM CLI pins its own boto3 and pydantic, so it lives in its own virtualenv (.tools/sam, made by
`make tools`, which `make test` runs first). When it is missing the SAM checks are skipped, unless
HIPPOLYTE_REQUIRE_SAM=1 (set by `make test`) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.static.asl_graph import ROOT

SAM = ROOT / ".tools" / "sam" / "bin" / "sam"


def _sam_env() -> dict[str, str]:
    """SAM's environment, with a real python3.12 first on PATH (pyenv's shim alone does not run)."""
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    if shutil.which("pyenv"):
        pyenv = subprocess.run(
            ["pyenv", "which", "python3.12"],
            capture_output=True,
            text=True,
            check=False,
            env=dict(env, PYENV_VERSION=os.environ.get("HIPPOLYTE_PYENV_312", "3.12.1")),
        )
        if pyenv.returncode == 0:
            env["PATH"] = f"{Path(pyenv.stdout.strip()).parent}:{env['PATH']}"
    return env


@pytest.fixture
def sam() -> Path:
    """The SAM CLI of the tool virtualenv."""
    if not SAM.exists():
        if os.environ.get("HIPPOLYTE_REQUIRE_SAM") == "1":
            pytest.fail("SAM CLI is not installed in .tools/sam (run `make tools`)")
        pytest.skip("SAM CLI is not installed in .tools/sam (run `make tools`)")
    return SAM


def test_sam_validate_lint_accepts_the_template(sam: Path) -> None:
    result = subprocess.run(
        [str(sam), "validate", "--lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=_sam_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build_packages_a_function_for_python312_on_arm64(sam: Path, tmp_path: Path) -> None:
    # GIVEN the template; WHEN one function is built (they all share CodeUri and requirements)
    result = subprocess.run(
        [
            str(sam),
            "build",
            "DiscoverTablesFunction",
            "--build-dir",
            str(tmp_path / "build"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=_sam_env(),
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # THEN the artifact holds our package and pydantic's compiled core for Lambda's arm64 python3.12
    built = tmp_path / "build" / "DiscoverTablesFunction"
    assert (built / "hippolyte" / "handlers" / "discover_tables.py").exists()
    assert list(built.glob("pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so"))
    # AND nothing of the local harness, the CLI or moto, which no Lambda imports
    assert not list(built.glob("hippolyte_local*")) and not list(built.glob("hippolyte_cli*"))
    assert not (built / "hippolyte" / "local").exists() and not (built / "hippolyte" / "cli").exists()
    assert not (built / "moto").exists()


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "functions", "tools", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:]


def test_mypy_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "functions/hippolyte", "tools/hippolyte_local", "tools/hippolyte_cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:]
