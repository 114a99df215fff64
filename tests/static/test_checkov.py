"""checkov over the template as CloudFormation deploys it (SAM's transform applied).

checkov reads SAM's own resource types only partly, so it scans the transformed template, where every
function, role, schedule and rule SAM generates is a plain CloudFormation resource. The checks that
do not apply to this stack are skipped in .checkov.yaml, each with its reason.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

from tests.static.asl_graph import ROOT
from tests.static.tool_venvs import CHECKOV, require_tool

CONFIG = ROOT / ".checkov.yaml"


def test_checkov_finds_nothing_in_the_transformed_template(transformed_template_path: Path) -> None:
    checkov = require_tool(CHECKOV, "HIPPOLYTE_REQUIRE_CHECKOV", "checkov")
    # GIVEN the transformed template; WHEN checkov scans it with the project's configuration
    result = subprocess.run(
        [str(checkov), "--file", str(transformed_template_path), "--config-file", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        # BC_SKIP_MAPPING: no download of Bridgecrew's guideline links (the scan itself is local).
        env=dict(os.environ, BC_SKIP_MAPPING="TRUE"),
    )
    # THEN no check fails
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "Passed checks:" in result.stdout, result.stdout[-3000:]


def test_every_skipped_check_says_why_it_does_not_apply() -> None:
    # GIVEN .checkov.yaml's skipped checks
    config = yaml.safe_load(CONFIG.read_text())
    skipped = config["skip-check"]
    assert skipped
    # THEN each is on its own line with a reason after it
    reasons = dict(re.findall(r"^\s*-\s*(CKV\w+)\s*#\s*(.+)$", CONFIG.read_text(), flags=re.M))
    assert sorted(reasons) == sorted(skipped)
    assert all(len(reason.split()) >= 8 for reason in reasons.values()), reasons
