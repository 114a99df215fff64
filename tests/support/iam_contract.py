"""The IAM contract: every AWS call a function makes is allowed by that function's policy in template.yaml.

The local run records each handler's calls (``LocalSession.aws_calls``, see
``hippolyte_local.aws_calls``). This module turns each call into the IAM permissions it needs (an
action on a resource ARN), expands each function's ``Policies`` from template.yaml (SAM policy
templates included) into statements resolved against the deployed local stack, and reports every
needed permission that no statement allows.

Action names: an IAM action is the API operation's name with the service's prefix
(``dynamodb:UpdateTable``, ``datapipeline:ListPipelines``,
``application-autoscaling:RegisterScalableTarget``), except where the service authorization
reference says otherwise; those exceptions are in :data:`S3_ACTIONS` and
:func:`requirements`, each with its source. A paginated call is the same operation once per page
(ListTables pages need ``dynamodb:ListTables``, ListObjectsV2 pages ``s3:ListBucket``).

Resources: each permission is checked on the ARN the call names (a table, an index, an object, a
topic, an execution), or on ``*`` for actions without resource-level permissions (Data Pipeline
as the project uses it, Application Auto Scaling, ListTables, DescribeLimits). Conditions are not
evaluated: a statement with a ``Condition`` counts as allowing (the only one, on KMS, is for a path
the local run does not take). Managed policies SAM adds to every function (basic execution, X-Ray)
are left out: no handler calls their actions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from hippolyte_local.aws_calls import AwsCall
from hippolyte_local.stack import LocalStack
from hippolyte_local.template import Resolver, load_template

# SAM policy templates the stack uses, as aws/serverless-application-model defines them in
# samtranslator/policy_templates_data/policy_templates.json (commit 7000d0a3b0e5e0d9fca014ce135850718aad1290).
# There, each resource is an Fn::Sub whose variable is a Ref to the template's one parameter; here
# the parameter's name stands in the ${...} directly. A template not listed is an error (add it
# from that file), so a new one in template.yaml is never silently taken as granting nothing.
SAM_POLICY_TEMPLATES: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "S3CrudPolicy": (
        (
            (
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetObjectVersion",
                "s3:PutObject",
                "s3:PutObjectAcl",
                "s3:GetLifecycleConfiguration",
                "s3:PutLifecycleConfiguration",
                "s3:DeleteObject",
            ),
            ("arn:${AWS::Partition}:s3:::${BucketName}", "arn:${AWS::Partition}:s3:::${BucketName}/*"),
        ),
    ),
    "S3ReadPolicy": (
        (
            (
                "s3:GetObject",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetObjectVersion",
                "s3:GetLifecycleConfiguration",
            ),
            ("arn:${AWS::Partition}:s3:::${BucketName}", "arn:${AWS::Partition}:s3:::${BucketName}/*"),
        ),
    ),
    "DynamoDBCrudPolicy": (
        (
            (
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ),
            (
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
            ),
        ),
    ),
    "DynamoDBReadPolicy": (
        (
            ("dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"),
            (
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}",
                "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${TableName}/index/*",
            ),
        ),
    ),
    "SNSPublishMessagePolicy": (
        (("sns:Publish",), ("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${TopicName}",)),
    ),
    "LambdaInvokePolicy": (
        (
            ("lambda:InvokeFunction",),
            # The trailing * is SAM's: it covers the function's versions and aliases too.
            ("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}*",),
        ),
    ),
}

# S3 operations whose IAM action is not s3:<Operation> (Amazon S3 API reference, "Permissions"
# of each operation; Service Authorization Reference for Amazon S3).
S3_ACTIONS = {
    "HeadObject": "s3:GetObject",  # HeadObject: "you must have the s3:GetObject permission"
    "ListObjectsV2": "s3:ListBucket",  # ListObjectsV2: "you must have permission to perform the s3:ListBucket action"
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",  # HeadBucket: "you must have permission to perform the s3:ListBucket action"
    "ListObjectVersions": "s3:ListBucketVersions",
    # Multipart uploads (boto3's transfer manager) are PutObject for IAM.
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",  # DeleteObjects: "you must have the s3:DeleteObject permission"
}
_S3_BUCKET_ACTIONS = {"s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetLifecycleConfiguration"}
# DynamoDB operations that take no table (their resource is "*" in the service authorization reference).
_DYNAMODB_ACCOUNT_OPERATIONS = {"ListTables", "DescribeLimits", "ListExports", "ListImports", "ListBackups"}
# Application Auto Scaling's service-linked role for DynamoDB (Application Auto Scaling User Guide,
# "Service-linked roles for Application Auto Scaling").
_DYNAMODB_SCALING_ROLE = (
    "role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)


@dataclass(frozen=True)
class Statement:
    """One Allow statement of a function's policy, resolved: action and resource patterns."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str  # "S3CrudPolicy" or "Statement"
    conditional: bool = False

    def allows(self, action: str, resource: str) -> bool:
        """Whether this statement allows ``action`` on ``resource`` (IAM wildcards ``*`` and ``?``)."""
        return any(_matches(pattern, action, case=False) for pattern in self.actions) and any(
            _matches(pattern, resource, case=True) for pattern in self.resources
        )


@dataclass(frozen=True)
class Requirement:
    """One permission a call needs, and why."""

    action: str
    resource: str
    reason: str


@dataclass(frozen=True)
class Violation:
    """A permission a function needed that its policy does not grant."""

    principal: str
    action: str
    resource: str
    reason: str

    def __str__(self) -> str:
        return f"{self.principal} lacks {self.action} on {self.resource} (needed by {self.reason})"


@dataclass
class Environment:
    """The deployed stack's partition, region and account, for ARNs."""

    region: str
    account: str
    partition: str = "aws"
    # Each instance profile's role: passing a profile to EMR (RunJobFlow's JobFlowRole) passes it.
    instance_profile_roles: dict[str, str] = field(default_factory=dict)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """An ARN of this account."""
        where = f"{self.region if region else ''}:{self.account if account else ''}"
        return f"arn:{self.partition}:{service}:{where}:{resource}"


@dataclass
class Policies:
    """Each function's and state machine's statements, by logical id."""

    statements: dict[str, list[Statement]] = field(default_factory=dict)

    def without(self, principal: str, action: str) -> Policies:
        """A copy where ``principal``'s statements no longer grant ``action`` (to show a removal is caught)."""
        changed = dict(self.statements)
        kept: list[Statement] = []
        for statement in changed[principal]:
            actions = tuple(a for a in statement.actions if a.lower() != action.lower())
            if actions:
                kept.append(replace(statement, actions=actions))
        changed[principal] = kept
        return Policies(changed)

    def allows(self, principal: str, action: str, resource: str) -> bool:
        """Whether any of ``principal``'s statements allows ``action`` on ``resource``."""
        return any(statement.allows(action, resource) for statement in self.statements.get(principal, []))


@cache
def _glob(pattern: str, case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, 0 if case else re.IGNORECASE)


def _matches(pattern: str, value: str, *, case: bool) -> bool:
    return _glob(pattern, case).fullmatch(value) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sam_template(name: str, arguments: dict[str, Any], pseudo: dict[str, str], where: str) -> list[Statement]:
    if name not in SAM_POLICY_TEMPLATES:
        raise KeyError(f"{where}: SAM policy template {name} is not expanded by the IAM contract; add its definition")
    values = {**pseudo, **{key: str(value) for key, value in arguments.items()}}

    def fill(text: str) -> str:
        return re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], text)

    return [
        Statement(actions=actions, resources=tuple(fill(r) for r in resources), source=name)
        for actions, resources in SAM_POLICY_TEMPLATES[name]
    ]


def _inline(statements: Any, resolver: Resolver, where: str) -> list[Statement]:
    found: list[Statement] = []
    for raw in _as_list(statements):
        unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(raw)
        if raw.get("Effect") != "Allow" or unsupported:
            raise ValueError(f"{where}: the IAM contract only reads Allow statements with Action and Resource")
        found.append(
            Statement(
                actions=tuple(_as_list(raw["Action"])),
                resources=tuple(str(r) for r in _as_list(resolver.resolve(raw["Resource"]))),
                source="Statement",
                conditional="Condition" in raw,
            )
        )
    return found


def load_policies(stack: LocalStack, template_path: Path) -> Policies:
    """Every function's and state machine's policy from template.yaml, resolved against ``stack``."""
    if stack.resolver is None:
        raise ValueError("the local stack was deployed without its resolver")
    resolver = stack.resolver
    template = load_template(template_path)
    policies = Policies()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        statements: list[Statement] = []
        for entry in resource["Properties"].get("Policies", []):
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ValueError(f"{logical_id}: the IAM contract reads SAM policy templates and Statements only")
            ((name, value),) = entry.items()
            if name == "Statement":
                statements.extend(_inline(value, resolver, logical_id))
            else:
                statements.extend(_sam_template(name, resolver.resolve(value), resolver.pseudo, logical_id))
        policies.statements[logical_id] = statements
    return policies


# ------------------------------------------------------------------------------------------
# What each call needs
# ------------------------------------------------------------------------------------------


def _dynamodb(call: AwsCall, env: Environment) -> list[Requirement]:
    op, params = call.operation, call.params
    action = f"dynamodb:{op}"

    def table(name: str) -> str:
        return env.arn("dynamodb", f"table/{name}")

    if op in _DYNAMODB_ACCOUNT_OPERATIONS:
        return [Requirement(action, "*", op)]
    if op in ("BatchWriteItem", "BatchGetItem"):
        return [Requirement(action, table(name), op) for name in params["RequestItems"]]
    if op == "TransactWriteItems":
        # DynamoDB developer guide, "Using IAM with DynamoDB transactions": Put, Update and Delete
        # are authorised as PutItem, UpdateItem and DeleteItem, ConditionCheck as
        # dynamodb:ConditionCheckItem, each on its own table; there is no TransactWriteItems action.
        per_action = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        return [
            Requirement(f"dynamodb:{per_action[kind]}", table(body["TableName"]), op)
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if op == "ImportTable":
        source = params["S3BucketSource"]
        bucket, prefix = source["S3Bucket"], source.get("S3KeyPrefix", "")
        log_group = env.arn("logs", "log-group:/aws-dynamodb/imports")
        why = "ImportTable, which reads the source and logs with the caller's permissions"
        # DynamoDB developer guide, "Requesting a table import in DynamoDB": the caller needs
        # dynamodb:ImportTable on the new table, s3:GetObject and s3:ListBucket on the source, and
        # CloudWatch Logs actions on /aws-dynamodb/*.
        return [
            Requirement(action, table(params["TableCreationParameters"]["TableName"]), op),
            Requirement("s3:GetObject", f"arn:{env.partition}:s3:::{bucket}/{prefix}", why),
            Requirement("s3:ListBucket", f"arn:{env.partition}:s3:::{bucket}", why),
            *(
                Requirement(f"logs:{logs_action}", log_group, why)
                for logs_action in (
                    "CreateLogGroup",
                    "CreateLogStream",
                    "DescribeLogGroups",
                    "DescribeLogStreams",
                    "PutLogEvents",
                    "PutRetentionPolicy",
                )
            ),
        ]
    if op == "ExportTableToPointInTime":
        prefix = params.get("S3Prefix", "").rstrip("/")
        written = f"arn:{env.partition}:s3:::{params['S3Bucket']}/{prefix + '/' if prefix else ''}AWSDynamoDB/"
        why = "ExportTableToPointInTime, which writes with the caller's permissions"
        # DynamoDB developer guide, "Requesting a table export in DynamoDB": s3:AbortMultipartUpload,
        # s3:PutObject and s3:PutObjectAcl on the destination, and the export action on the table.
        return [
            Requirement(action, params["TableArn"], op),
            *(
                Requirement(s3_action, written, why)
                for s3_action in ("s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl")
            ),
        ]
    for key in ("TableArn", "ResourceArn", "ExportArn", "ImportArn"):
        if key in params:
            return [Requirement(action, params[key], op)]
    if "TableName" in params:
        resource = table(params["TableName"])
        # Query and Scan of an index are authorised on the index's ARN (DynamoDB developer guide,
        # "Identity-based policies for DynamoDB": table/<name>/index/<index>).
        if params.get("IndexName") and op in ("Query", "Scan"):
            resource += f"/index/{params['IndexName']}"
        return [Requirement(action, resource, op)]
    raise KeyError(f"the IAM contract does not know the resource of dynamodb {op}")


def _s3(call: AwsCall, env: Environment) -> list[Requirement]:
    op, params = call.operation, call.params
    action = S3_ACTIONS.get(op, f"s3:{op}")
    bucket = f"arn:{env.partition}:s3:::{params['Bucket']}"
    if op == "DeleteObjects":
        return [Requirement(action, f"{bucket}/{o['Key']}", op) for o in params["Delete"]["Objects"]]
    if op == "CopyObject":
        source = params["CopySource"]
        source_key = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.split("?")[0]
        return [
            Requirement("s3:PutObject", f"{bucket}/{params['Key']}", op),
            Requirement("s3:GetObject", f"arn:{env.partition}:s3:::{source_key}", op),
        ]
    if action in _S3_BUCKET_ACTIONS or "Key" not in params:
        return [Requirement(action, bucket, op)]
    return [Requirement(action, f"{bucket}/{params['Key']}", op)]


def _datapipeline(call: AwsCall, env: Environment) -> list[Requirement]:
    needed = [Requirement(f"datapipeline:{call.operation}", "*", call.operation)]
    if call.operation == "PutPipelineDefinition":
        # The definition names the roles Data Pipeline and EMR's instances assume: the caller must
        # be allowed to pass them (Data Pipeline developer guide, "Example Policies for AWS Data
        # Pipeline", example 4, and "IAM Roles for AWS Data Pipeline": fields role, resourceRole).
        roles = {
            entry["stringValue"]
            for obj in call.params.get("pipelineObjects", [])
            for entry in obj.get("fields", [])
            if entry.get("key") in ("role", "resourceRole") and "stringValue" in entry
        }
        needed += [
            Requirement("iam:PassRole", env.arn("iam", f"role/{role}", region=False), "PutPipelineDefinition's roles")
            for role in sorted(roles)
        ]
    return needed


def _emr(call: AwsCall, env: Environment) -> list[Requirement]:
    """EMR's actions: cluster actions on the cluster's ARN (``cluster/<id>``), RunJobFlow and
    ListClusters on ``*`` (Service Authorization Reference, "Actions, resources, and condition keys
    for Amazon Elastic MapReduce"). RunJobFlow passes the cluster's service role and its instance
    profile's role: "The iam:PassRole permission allows cluster creation" (EMR Management Guide,
    "Allow users and groups to create and modify roles")."""
    op, params = call.operation, call.params
    action = f"elasticmapreduce:{op}"
    if op == "RunJobFlow":
        profile = str(params.get("JobFlowRole", ""))
        passed = [str(params.get("ServiceRole", "")), env.instance_profile_roles.get(profile, profile)]
        roles = sorted({role for role in passed if role})
        return [Requirement(action, "*", op)] + [
            Requirement("iam:PassRole", env.arn("iam", f"role/{role}", region=False), "RunJobFlow's roles")
            for role in roles
        ]
    ids = params.get("JobFlowIds") or [params.get("ClusterId") or params.get("JobFlowId")]
    if ids == [None]:
        return [Requirement(action, "*", op)]
    return [Requirement(action, env.arn("elasticmapreduce", f"cluster/{cluster}"), op) for cluster in ids]


def _autoscaling(call: AwsCall, env: Environment) -> list[Requirement]:
    needed = [Requirement(f"application-autoscaling:{call.operation}", "*", call.operation)]
    if call.operation == "RegisterScalableTarget" and call.params.get("ServiceNamespace") == "dynamodb":
        # "When users call RegisterScalableTarget, Application Auto Scaling creates a service-linked
        # role in your account, if the role does not exist already ... users must have permissions
        # for the iam:CreateServiceLinkedRole action" (Application Auto Scaling User Guide).
        needed.append(
            Requirement(
                "iam:CreateServiceLinkedRole",
                env.arn("iam", _DYNAMODB_SCALING_ROLE, region=False),
                "RegisterScalableTarget's service-linked role",
            )
        )
    return needed


def _states(call: AwsCall, env: Environment) -> list[Requirement]:
    for key in ("executionArn", "stateMachineArn"):
        if key in call.params:
            return [Requirement(f"states:{call.operation}", call.params[key], call.operation)]
    raise KeyError(f"the IAM contract does not know the resource of states {call.operation}")


def _sns(call: AwsCall, env: Environment) -> list[Requirement]:
    topic = call.params.get("TopicArn") or call.params.get("TargetArn")
    if topic is None:
        raise KeyError(f"the IAM contract does not know the resource of sns {call.operation}")
    return [Requirement(f"sns:{call.operation}", topic, call.operation)]


def _lambda(call: AwsCall, env: Environment) -> list[Requirement]:
    name = call.params["FunctionName"]
    arn = name if name.startswith("arn:") else env.arn("lambda", f"function:{name}")
    action = "lambda:InvokeFunction" if call.operation == "Invoke" else f"lambda:{call.operation}"
    return [Requirement(action, arn, call.operation)]


def _sts(call: AwsCall, env: Environment) -> list[Requirement]:
    if call.operation == "GetCallerIdentity":
        return []  # "No permissions are required to perform this operation" (STS API reference)
    return [Requirement(f"sts:{call.operation}", "*", call.operation)]


_SERVICES = {
    "dynamodb": _dynamodb,
    "s3": _s3,
    "datapipeline": _datapipeline,
    "elasticmapreduce": _emr,
    "application-autoscaling": _autoscaling,
    "states": _states,
    "sns": _sns,
    "lambda": _lambda,
    "sts": _sts,
}


def requirements(call: AwsCall, env: Environment) -> list[Requirement]:
    """The permissions one recorded call needs.

    >>> env = Environment("us-east-1", "123456789012")
    >>> head = AwsCall("f", "s3", "HeadObject", {"Bucket": "b", "Key": "k"})
    >>> [(r.action, r.resource) for r in requirements(head, env)]
    [('s3:GetObject', 'arn:aws:s3:::b/k')]
    >>> [(r.action, r.resource) for r in requirements(AwsCall("f", "datapipeline", "ListPipelines", {}), env)]
    [('datapipeline:ListPipelines', '*')]
    """
    if call.service not in _SERVICES:
        raise KeyError(f"the IAM contract has no rules for service {call.service} ({call.operation})")
    return _SERVICES[call.service](call, env)


def function_ids(stack: LocalStack) -> dict[str, str]:
    """Deployed function name -> its logical id in template.yaml."""
    return {stack.refs[logical_id]: logical_id for logical_id in stack.function_arns}


def needed_by_function(calls: Iterable[AwsCall], stack: LocalStack, env: Environment) -> dict[str, set[Requirement]]:
    """Every permission each function (by logical id) needed for the recorded calls."""
    ids = function_ids(stack)
    needed: dict[str, set[Requirement]] = {}
    for call in calls:
        needed.setdefault(ids[call.function], set()).update(requirements(call, env))
    return needed


def violations(needed: dict[str, set[Requirement]], policies: Policies) -> list[Violation]:
    """Each needed permission no statement of its function allows, sorted."""
    found = {
        Violation(principal, r.action, r.resource, r.reason)
        for principal, reqs in needed.items()
        for r in reqs
        if not policies.allows(principal, r.action, r.resource)
    }
    return sorted(found, key=str)


def unused_actions(needed: dict[str, set[Requirement]], policies: Policies) -> dict[str, set[str]]:
    """Actions of each exercised function's inline statements that no recorded call needed.

    SAM policy templates grant fixed bundles, so only the template's own ``Statement`` actions count.
    """
    unused: dict[str, set[str]] = {}
    for principal, reqs in needed.items():
        for statement in policies.statements.get(principal, []):
            if statement.source != "Statement":
                continue
            for action in statement.actions:
                if not any(_matches(action, r.action, case=False) for r in reqs):
                    unused.setdefault(principal, set()).add(action)
    return unused


def lambda_targets(definition: dict[str, Any]) -> set[str]:
    """Every function a state machine definition invokes (``FunctionName`` of its Lambda tasks)."""
    found: set[str] = set()

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            if state.get("Type") == "Task" and state.get("Resource") == "arn:aws:states:::lambda:invoke":
                found.add(state["Parameters"]["FunctionName"])
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    walk(state[key]["States"])

    walk(definition["States"])
    return found
