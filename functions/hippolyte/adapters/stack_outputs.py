"""Reading a deployed Hippolyte stack's outputs and parameters (CloudFormation DescribeStacks, read-only)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hippolyte.errors import ConfigurationError

STACK_ENVIRONMENT_VARIABLE = "HIPPOLYTE_STACK"


if TYPE_CHECKING:
    from types_boto3_cloudformation import CloudFormationClient


@dataclass(frozen=True)
class DeployedStack:
    """What DescribeStacks says of one stack: its outputs and the parameters it was deployed with."""

    name: str
    outputs: dict[str, str] = field(default_factory=dict)
    # CloudFormation shows a CommaDelimitedList parameter as one string, its items joined by commas.
    parameters: dict[str, str] = field(default_factory=dict)

    def output(self, key: str) -> str:
        """One output; ConfigurationError naming the stack when it has none by that name."""
        if key not in self.outputs:
            raise ConfigurationError(f"--stack: stack {self.name} has no output {key} (is it a Hippolyte stack?)")
        return self.outputs[key]


def stack_name(given: str | None) -> str:
    """The stack to read: the option's value, else ``$HIPPOLYTE_STACK``."""
    name = given or os.environ.get(STACK_ENVIRONMENT_VARIABLE, "")
    if not name:
        raise ConfigurationError(
            f"--stack: name the deployed stack (for example hippolyte-prod) or set {STACK_ENVIRONMENT_VARIABLE}"
        )
    return name


def describe_stack(cloudformation: CloudFormationClient, name: str) -> DeployedStack:
    """A stack's outputs and parameters; ConfigurationError naming the stack when it does not exist."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        raise ConfigurationError(f"--stack: {error.response['Error'].get('Message', name)}") from None
    outputs: dict[str, str] = {}
    parameters: dict[str, str] = {}
    for stack in stacks:
        outputs.update({item["OutputKey"]: str(item["OutputValue"]) for item in stack.get("Outputs", [])})
        parameters.update(
            {item["ParameterKey"]: str(item.get("ParameterValue", "")) for item in stack.get("Parameters", [])}
        )
    return DeployedStack(name=name, outputs=outputs, parameters=parameters)


def stack_output(cloudformation: CloudFormationClient, name: str, output: str) -> str:
    """One output of a stack; ConfigurationError naming the stack when it or the output is missing."""
    return describe_stack(cloudformation, name).output(output)
