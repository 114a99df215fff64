"""Deploying ``template.yaml`` into moto: resources, functions and the state machine.

The functions are created from the template (name, handler, environment) and run by
:mod:`hippolyte_local.lambda_runtime`. A function with ``AutoPublishAlias`` (itself or in
``Globals``) gets what SAM makes of it: a published version and an alias pointing at it, so that
``!Ref <Function>.Version`` and ``!Ref <Function>.Alias`` resolve to their ARNs, and moto's Lambda
runs the version an ARN names (its own copy of the handler). The state machines are created from
the ASL files with their ``DefinitionSubstitutions`` resolved, exactly as ``sam deploy`` would pass
them. Only the resource types the stack uses are understood; an unknown one is an error.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from moto.core import DEFAULT_ACCOUNT_ID

from hippolyte_local.template import Resolver, load_template

if TYPE_CHECKING:
    from types_boto3_s3.literals import BucketLocationConstraintType

ACCOUNT_ID = DEFAULT_ACCOUNT_ID
# What the local run does not deploy: access policies (the IAM contract checks the functions' own
# policies instead), the topic's key, and what watches the stack rather than runs it (log groups,
# dead-letter queues, alarms: moto's Lambda runs no asynchronous invocations and no alarm fires).
IGNORED_TYPES = {
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::KMS::Key",
    "AWS::IAM::Policy",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::CloudWatch::Alarm",
}

# A function's timeout when neither it nor Globals sets one ("Configure Lambda function timeout",
# Lambda Developer Guide: the default is 3 seconds).
LAMBDA_DEFAULT_TIMEOUT = 3
# Lambda API reference, CreateFunction: "MemorySize ... The default value is 128 MB."
LAMBDA_DEFAULT_MEMORY_MB = 128


def repo_root() -> Path:
    """The checkout holding template.yaml (the local run works from a clone)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "template.yaml").exists() and (parent / "statemachine").is_dir():
            return parent
    raise FileNotFoundError("template.yaml not found above the hippolyte package: run from a clone")


@dataclass
class LocalStack:
    """What was deployed: names and ARNs by logical id, and the functions' environment."""

    region: str
    refs: dict[str, str] = field(default_factory=dict)
    function_arns: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    # The alias ARN of each function that has one (what its schedule invokes).
    aliases: dict[str, str] = field(default_factory=dict)
    # Resolves the template's values against what was deployed (the IAM contract tests use it).
    resolver: Resolver | None = None
    # What CloudFormation would tell of the stack (DescribeStacks; see hippolyte_local.cloudformation):
    # its name, the parameters it was deployed with (a list joined by commas, as CloudFormation
    # shows it) and its Outputs resolved against what was deployed.
    name: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def bucket(self) -> str:
        """The backup bucket's name."""
        return self.refs["BackupBucket"]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Hippolyte's handlers run in-process in the local run.")
    return buffer.getvalue()


def _parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = overrides.get(name, spec.get("Default", ""))
        if spec.get("Type") == "CommaDelimitedList":
            value = [part for part in str(value).split(",") if part] if isinstance(value, str) else value
        values[name] = value if isinstance(value, list) else str(value)
    unknown = set(overrides) - set(values)
    if unknown:
        raise KeyError(f"unknown stack parameter(s): {', '.join(sorted(unknown))}")
    return values


def deploy(
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
    root: Path | None = None,
    function_timeouts: dict[str, int] | None = None,
) -> LocalStack:
    """Create the stack in the active moto mock; sets the functions' environment in ``os.environ``.

    Each function gets its ``Timeout`` (its own, else ``Globals``, else Lambda's default of 3 s) and
    its ``MemorySize`` (likewise, else 128 MB);
    ``function_timeouts`` overrides it by logical id, for tests of invocations that run out of time.
    """
    root = root or repo_root()
    template = load_template(root / "template.yaml")
    stage = (parameters or {}).get("Stage", "local")
    params = _parameters(template, {"Stage": stage, **(parameters or {})})
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": f"hippolyte-{stage}",
    }
    stack = LocalStack(
        region=region,
        name=pseudo["AWS::StackName"],
        parameters={key: ",".join(value) if isinstance(value, list) else value for key, value in params.items()},
    )
    attributes: dict[str, str] = {}
    resolver = Resolver(params, stack.refs, attributes, pseudo)
    stack.resolver = resolver
    resources = template["Resources"]
    s3, sns, dynamodb = (
        boto3.client("s3", region_name=region),
        boto3.client("sns", region_name=region),
        boto3.client("dynamodb", region_name=region),
    )
    iam, awslambda, sfn = (
        boto3.client("iam", region_name=region),
        boto3.client("lambda", region_name=region),
        boto3.client("stepfunctions", region_name=region),
    )

    for logical_id, resource in resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::S3::Bucket":
            name = f"hippolyte-{stage}-{logical_id.lower()}"
            if region == "us-east-1":  # S3 refuses a LocationConstraint naming its default region
                s3.create_bucket(Bucket=name)
            else:
                # The stubs list the regions S3 knew of when they were made; moto takes any.
                location = cast("BucketLocationConstraintType", region)
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": location})
            stack.refs[logical_id] = name
            attributes[f"{logical_id}.Arn"] = f"arn:aws:s3:::{name}"
        elif kind == "AWS::SNS::Topic":
            arn = sns.create_topic(Name=f"hippolyte-{stage}-{logical_id}")["TopicArn"]
            stack.refs[logical_id] = arn
            attributes[f"{logical_id}.TopicName"] = arn.rsplit(":", 1)[1]
        elif kind == "AWS::DynamoDB::Table":
            name = f"hippolyte-{stage}-{logical_id}"
            spec = {
                k: resolver.resolve(v)
                for k, v in props.items()
                if k in ("AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "Tags")
            }
            dynamodb.create_table(TableName=name, **spec)
            stack.refs[logical_id] = name
        elif kind == "AWS::IAM::Role":
            # The emr engine's roles, which its requests name (RunJobFlow's ServiceRole, and the
            # instance profile's role); their policies are not evaluated here (see IGNORED_TYPES).
            name = str(resolver.resolve(props.get("RoleName", f"hippolyte-{stage}-{logical_id}")))
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            stack.refs[logical_id] = name
            attributes[f"{logical_id}.Arn"] = arn
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::IAM::InstanceProfile":
            props = resource.get("Properties", {})
            name = str(resolver.resolve(props.get("InstanceProfileName", f"hippolyte-{stage}-{logical_id}")))
            iam.create_instance_profile(InstanceProfileName=name)
            for role in resolver.resolve(props.get("Roles", [])):
                iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=str(role))
            stack.refs[logical_id] = name
    role_arn = iam.create_role(RoleName=f"hippolyte-{stage}-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function_globals = template.get("Globals", {}).get("Function", {})
    globals_env = function_globals.get("Environment", {}).get("Variables", {})
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        name = f"hippolyte-{stage}-{logical_id}"
        timeout = (function_timeouts or {}).get(
            logical_id, int(props.get("Timeout", function_globals.get("Timeout", LAMBDA_DEFAULT_TIMEOUT)))
        )
        arn = awslambda.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": _dummy_zip()},
            Timeout=timeout,
            MemorySize=int(props.get("MemorySize", function_globals.get("MemorySize", LAMBDA_DEFAULT_MEMORY_MB))),
        )["FunctionArn"]
        stack.refs[logical_id] = name
        attributes[f"{logical_id}.Arn"] = arn
        stack.function_arns[logical_id] = arn
        alias = props.get("AutoPublishAlias", function_globals.get("AutoPublishAlias"))
        if alias:
            version = awslambda.publish_version(FunctionName=name)
            stack.refs[f"{logical_id}.Version"] = version["FunctionArn"]
            alias_arn = awslambda.create_alias(FunctionName=name, Name=alias, FunctionVersion=version["Version"])
            stack.refs[f"{logical_id}.Alias"] = stack.aliases[logical_id] = alias_arn["AliasArn"]
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::StateMachine":
            continue
        props = resource["Properties"]
        definition = (root / props["DefinitionUri"]).read_text()
        for key, value in resolver.resolve(props.get("DefinitionSubstitutions", {})).items():
            definition = definition.replace("${" + key + "}", value)
        name = resolver.resolve(props.get("Name", f"hippolyte-{stage}-{logical_id}"))
        arn = sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)["stateMachineArn"]
        stack.state_machines[logical_id] = arn
        stack.refs[logical_id] = arn
    known = {
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::DynamoDB::Table",
        "AWS::IAM::Role",
        "AWS::IAM::InstanceProfile",
        "AWS::Serverless::Function",
        "AWS::Serverless::StateMachine",
        *IGNORED_TYPES,
    }
    unknown = {r["Type"] for r in resources.values()} - known
    if unknown:
        raise KeyError(f"the local run cannot deploy resource type(s) {', '.join(sorted(unknown))}")
    environment = {key: str(resolver.resolve(value)) for key, value in globals_env.items()}
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            own = resource["Properties"].get("Environment", {}).get("Variables", {})
            environment.update({key: str(resolver.resolve(value)) for key, value in own.items()})
    environment.update(
        {
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("HIPPOLYTE_LOCAL_LOG_LEVEL", "WARNING"),
        }
    )
    stack.environment = environment
    stack.outputs = {key: str(resolver.resolve(output["Value"])) for key, output in template.get("Outputs", {}).items()}
    os.environ.update(environment)
    return stack


def definition_of(root: Path, name: str) -> dict[str, Any]:
    """An ASL file of the repository, parsed (for checks and tests)."""
    return json.loads((root / "statemachine" / name).read_text())
