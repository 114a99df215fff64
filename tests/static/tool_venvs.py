"""Where the tool virtualenvs are, and what a check does when one is missing.

The SAM CLI (.tools/sam) and checkov (.tools/checkov) pin their own dependencies, so each lives in
its own virtualenv (`make tools`, which `make test` runs first). A check that needs a missing tool
is skipped, unless `make test`'s HIPPOLYTE_REQUIRE_SAM=1 or HIPPOLYTE_REQUIRE_CHECKOV=1 makes that
a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.static.asl_graph import ROOT

SAM_PYTHON = ROOT / ".tools" / "sam" / "bin" / "python"
CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"


def require_tool(path: Path, required_by: str, what: str) -> Path:
    """``path`` when it exists; else skip, or fail when the environment variable ``required_by`` is 1."""
    if not path.exists():
        message = f"{what} is not installed at {path.relative_to(ROOT)} (run `make tools`)"
        if os.environ.get(required_by) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
