"""Reading a deployed Hippolyte stack's outputs (CloudFormation DescribeStacks, read-only)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hippolyte.errors import ConfigurationError

if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient

STACK_ENVIRONMENT_VARIABLE = "HIPPOLYTE_STACK"


def stack_name(given: str | None) -> str:
    """The stack to read: the option's value, else ``$HIPPOLYTE_STACK``."""
    name = given or os.environ.get(STACK_ENVIRONMENT_VARIABLE, "")
    if not name:
        raise ConfigurationError(
            f"--stack: name the deployed stack (for example hippolyte-prod) or set {STACK_ENVIRONMENT_VARIABLE}"
        )
    return name


def stack_output(cloudformation: CloudFormationClient, name: str, output: str) -> str:
    """One output of a stack; ConfigurationError naming the stack when it or the output is missing."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        raise ConfigurationError(f"--stack: {error.response['Error'].get('Message', name)}") from None
    for stack in stacks:
        for item in stack.get("Outputs", []):
            if item["OutputKey"] == output:
                return str(item["OutputValue"])
    raise ConfigurationError(f"--stack: stack {name} has no output {output} (is it a Hippolyte stack?)")
