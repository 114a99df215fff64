"""template.yaml as CloudFormation deploys it: SAM's translator run over it, written as JSON.

Run with the SAM CLI's own Python, which has the translator (``samtranslator``), not the project's:

    .tools/sam/bin/python tests/static/sam_transform.py template.yaml transformed.json

The translator accepts only S3 locations for code and definitions, so the local ``CodeUri`` and
``DefinitionUri`` paths become S3 URIs first, as ``sam package`` would make them. Nothing is sent to
AWS: the region is given, and no managed policy is looked up by name (the template names none).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ARTIFACTS = "s3://hippolyte-artifacts"


def with_s3_locations(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its local code and definition paths replaced by S3 URIs.

    >>> t = {"Globals": {"Function": {"CodeUri": "functions/"}},
    ...      "Resources": {"M": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "a.json"}}}}
    >>> with_s3_locations(t)["Resources"]["M"]["Properties"]["DefinitionUri"]
    's3://hippolyte-artifacts/a.json'
    """
    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = f"{ARTIFACTS}/functions.zip"
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in properties:
            properties["CodeUri"] = f"{ARTIFACTS}/functions.zip"
        if resource["Type"] == "AWS::Serverless::StateMachine" and "DefinitionUri" in properties:
            properties["DefinitionUri"] = f"{ARTIFACTS}/{properties['DefinitionUri']}"
    return template


class _NoManagedPolicies:
    """The translator's managed-policy loader, which would ask IAM; the template names no policy."""

    def load(self) -> dict[str, str]:
        """No managed policy names to resolve."""
        return {}


def main(argv: list[str]) -> int:
    """Transform ``argv[0]`` (SAM YAML) into ``argv[1]`` (CloudFormation JSON)."""
    from samtranslator.translator.transform import transform  # noqa: PLC0415 (the SAM CLI's Python only)
    from samtranslator.yaml_helper import yaml_parse  # noqa: PLC0415

    source, target = Path(argv[0]), Path(argv[1])
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = with_s3_locations(yaml_parse(source.read_text()))
    transformed = transform(template, {}, _NoManagedPolicies())
    target.write_text(json.dumps(transformed, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
