"""What keeps a missed backup from going unnoticed, and a backup from being deleted, in template.yaml.

Alerts: the rule that reports executions ending FAILED, TIMED_OUT or ABORTED, the queues that keep
what could not be delivered, the alarms (all to the report topic), the freshness alarms, and a log
group with a retention for every function and state machine. Protection: versioning with noncurrent
expiry, object lock, the KMS options, and the bucket policy's deny to every role of the stack,
checked by evaluating the policy itself. The checks marked so also read the transformed template (SAM's
transform applied, as CloudFormation deploys it), so that the roles and permissions SAM generates
are checked too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from hippolyte_local.template import CfnTag, Resolver, load_template

from tests.static.asl_graph import ROOT

ACCOUNT = "123456789012"
BUCKET = "hippolyte-test-backupbucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
# The retention values CloudWatch Logs accepts (CloudWatch Logs API Reference, PutRetentionPolicy).
LOG_RETENTION_VALUES = {
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
}  # fmt: skip
# What the deny keeps every role of the stack from doing to the backup bucket.
PROTECTED_ACTIONS = {
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
}
# Event sources that make SAM create a role: <Resource><Event>Role. A function's EventBridgeRule
# target is allowed by the function's resource policy instead (SAM: an AWS::Lambda::Permission).
ROLE_EVENTS = {
    "AWS::Serverless::Function": {"ScheduleV2"},
    "AWS::Serverless::StateMachine": {"ScheduleV2", "EventBridgeRule", "Schedule", "CloudWatchEvent", "Api"},
}
ROLELESS_EVENTS = {"AWS::Serverless::Function": {"EventBridgeRule"}, "AWS::Serverless::StateMachine": set()}


@cache
def template() -> dict[str, Any]:
    """template.yaml, parsed with its short-form functions."""
    loaded: dict[str, Any] = load_template(ROOT / "template.yaml")
    return loaded


def resources(kind: str | None = None) -> dict[str, Any]:
    """The template's resources, of one type when ``kind`` is given."""
    found: dict[str, Any] = template()["Resources"]
    return {key: value for key, value in found.items() if kind is None or value["Type"] == kind}


def functions() -> dict[str, Any]:
    """The template's functions."""
    return resources("AWS::Serverless::Function")


def state_machines() -> dict[str, Any]:
    """The template's state machines."""
    return resources("AWS::Serverless::StateMachine")


def fn(value: Any, name: str) -> Any:
    """The argument of ``!<name>`` when ``value`` is that function, else None (``fn(x, "Ref")``)."""
    return value.value if isinstance(value, CfnTag) and value.name == name else None


def alarms() -> dict[str, dict[str, Any]]:
    """The alarms' properties, by logical id."""
    return {key: value["Properties"] for key, value in resources("AWS::CloudWatch::Alarm").items()}


def alarms_on(namespace: str, metric: str, dimension: str, target: str) -> list[dict[str, Any]]:
    """The alarms on one metric whose one dimension names ``target`` (a ``!Ref`` or ``!GetAtt`` argument)."""
    found = []
    for alarm in alarms().values():
        dimensions = alarm.get("Dimensions", [])
        if (alarm.get("Namespace"), alarm.get("MetricName")) != (namespace, metric) or len(dimensions) != 1:
            continue
        value = dimensions[0]["Value"]
        if dimensions[0]["Name"] == dimension and target in (fn(value, "Ref"), fn(value, "GetAtt")):
            found.append(alarm)
    return found


def assert_alarms_on_any_value_above_zero(alarm: dict[str, Any]) -> None:
    """The alarm fires on the first datapoint above zero, and tells the report topic."""
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0, alarm
    assert alarm["EvaluationPeriods"] == 1 and alarm["TreatMissingData"] == "notBreaching", alarm
    assert [fn(action, "Ref") for action in alarm["AlarmActions"]] == ["ReportTopic"], alarm


def queue_of(arn: Any) -> str:
    """The queue a ``!GetAtt <Queue>.Arn`` names (and that it is one of the stack's queues)."""
    attribute = fn(arn, "GetAtt")
    assert isinstance(attribute, str) and attribute.endswith(".Arn"), arn
    queue = attribute.removesuffix(".Arn")
    assert resources()[queue]["Type"] == "AWS::SQS::Queue", queue
    return queue


def assert_queue_alarms(queue: str) -> None:
    """Any message in the queue alarms the report topic within five minutes."""
    (alarm,) = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"{queue}.QueueName")
    assert alarm["Statistic"] == "Maximum" and alarm["Period"] == 300, alarm
    assert_alarms_on_any_value_above_zero(alarm)


# --------------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------------


def test_the_rule_sends_both_machines_failed_timed_out_and_aborted_executions_to_the_notifier() -> None:
    # GIVEN the function the rule targets
    function = functions()["NotifyExecutionEndedFunction"]["Properties"]
    assert function["Handler"].startswith("hippolyte.handlers.")
    (event,) = function["Events"].values()
    assert event["Type"] == "EventBridgeRule"
    rule = event["Properties"]
    # THEN its pattern is every execution status change of the stack's state machines that is an end
    # other than success
    pattern = rule["Pattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert set(pattern["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert {fn(arn, "Ref") for arn in pattern["detail"]["stateMachineArn"]} == set(state_machines())
    # AND an event EventBridge cannot deliver is retried, then kept in a queue that alarms
    assert rule["RetryPolicy"]["MaximumRetryAttempts"] > 0 and rule["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    queue = queue_of(rule["DeadLetterConfig"]["Arn"])
    assert_queue_alarms(queue)
    # AND the queue lets EventBridge send for this rule only
    (policy,) = (
        r["Properties"]
        for r in resources("AWS::SQS::QueuePolicy").values()
        if [fn(q, "Ref") for q in r["Properties"]["Queues"]] == [queue]
    )
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    rule_name = fn(rule["RuleName"], "Sub")
    assert fn(statement["Condition"]["ArnEquals"]["aws:SourceArn"], "Sub").endswith(f":rule/{rule_name}")


def test_every_asynchronously_invoked_function_has_an_on_failure_queue_and_alarms() -> None:
    # GIVEN the functions something invokes asynchronously (a schedule, an EventBridge rule)
    asynchronous = {name: f["Properties"] for name, f in functions().items() if f["Properties"].get("Events")}
    assert {"ReconcileCapacityFunction", "NotifyExecutionEndedFunction"} <= set(asynchronous)
    for name, function in asynchronous.items():
        # THEN a failed invocation goes, after its retries, to a queue whose messages alarm
        config = function["EventInvokeConfig"]
        assert 0 <= config["MaximumRetryAttempts"] <= 2 and config["MaximumEventAgeInSeconds"] <= 6 * 3600, name
        on_failure = config["DestinationConfig"]["OnFailure"]
        assert on_failure["Type"] == "SQS", name
        assert_queue_alarms(queue_of(on_failure["Destination"]))
        # AND any error of the function alarms the report topic
        (errors,) = alarms_on("AWS/Lambda", "Errors", "FunctionName", name)
        assert errors["Statistic"] == "Sum", name
        assert_alarms_on_any_value_above_zero(errors)


def test_every_schedule_retries_then_keeps_what_it_could_not_deliver_in_a_queue_that_alarms() -> None:
    # GIVEN every schedule of the stack (the nightly backup's, reconcile's)
    schedules = [
        (name, event_name, event["Properties"])
        for name, resource in {**functions(), **state_machines()}.items()
        for event_name, event in resource["Properties"].get("Events", {}).items()
        if event["Type"] == "ScheduleV2"
    ]
    assert {(name, event) for name, event, _ in schedules} == {
        ("ReconcileCapacityFunction", "Hourly"),
        ("BackupStateMachine", "Nightly"),
    }
    for name, event_name, schedule in schedules:
        # THEN it retries, then sends the invocation it could not make to a queue that alarms
        assert schedule["RetryPolicy"]["MaximumRetryAttempts"] > 0, (name, event_name)
        assert_queue_alarms(queue_of(schedule["DeadLetterConfig"]["Arn"]))


def test_every_alarm_tells_the_report_topic_and_may_use_its_key() -> None:
    # GIVEN every alarm of the stack
    assert len(alarms()) >= 7
    key_policy = resources()["ReportTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = (s for s in key_policy if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"})
    allowed = fn(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"], "Sub").rsplit(":alarm:", 1)[1]
    for name, alarm in alarms().items():
        # THEN it notifies the report topic
        assert [fn(action, "Ref") for action in alarm["AlarmActions"]] == ["ReportTopic"], name
        # AND its name is one the topic's key lets CloudWatch publish for (an AWS managed key never
        # would: SNS Developer Guide, "Enable compatibility between event sources from AWS services
        # and encrypted topics")
        assert re.fullmatch(allowed.replace("*", ".*").replace("$", r"\$"), fn(alarm["AlarmName"], "Sub")), name
        assert alarm["AlarmDescription"], name
    assert fn(resources()["ReportTopic"]["Properties"]["KmsMasterKeyId"], "Ref") == "ReportTopicKey"
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_stale_or_missing_freshness_counts_alarm() -> None:
    # GIVEN the powertools metrics namespace and service every function publishes under
    environment = template()["Globals"]["Function"]["Environment"]["Variables"]
    namespace, service = environment["POWERTOOLS_METRICS_NAMESPACE"], environment["POWERTOOLS_SERVICE_NAME"]
    # AND the FreshnessHours parameter, passed to every function
    parameter = template()["Parameters"]["FreshnessHours"]
    assert parameter["Default"] == 26 and fn(environment["FRESHNESS_HOURS"], "Ref") == "FreshnessHours"
    on_count = [
        a
        for a in alarms().values()
        if (a.get("Namespace"), a.get("MetricName")) == (namespace, "TablesWithoutFreshBackup")
        and a["Dimensions"] == [{"Name": "service", "Value": service}]
    ]
    # THEN a count above zero alarms at once
    (stale,) = (a for a in on_count if a["ComparisonOperator"] == "GreaterThanThreshold")
    assert stale["Statistic"] == "Maximum"
    assert_alarms_on_any_value_above_zero(stale)
    # AND no count at all for FreshnessHours alarms too: missing hours breach, and every one of the
    # FreshnessHours one-hour periods must be missing
    (silent,) = (a for a in on_count if a["TreatMissingData"] == "breaching")
    assert (silent["Statistic"], silent["ComparisonOperator"], silent["Threshold"]) == (
        "SampleCount",
        "LessThanThreshold",
        1,
    )
    assert silent["Period"] == 3600
    assert fn(silent["EvaluationPeriods"], "Ref") == fn(silent["DatapointsToAlarm"], "Ref") == "FreshnessHours"
    # (CloudWatch: Period x EvaluationPeriods at most seven days for periods of an hour or more)
    assert silent["Period"] * parameter["MaxValue"] <= 7 * 24 * 3600
    assert [fn(action, "Ref") for action in silent["AlarmActions"]] == ["ReportTopic"]


def test_every_function_and_state_machine_logs_to_its_own_group_kept_log_retention_days() -> None:
    # GIVEN the LogRetentionDays parameter
    parameter = template()["Parameters"]["LogRetentionDays"]
    assert set(parameter["AllowedValues"]) == LOG_RETENTION_VALUES and parameter["Default"] in LOG_RETENTION_VALUES
    groups = resources("AWS::Logs::LogGroup")
    used: list[str] = []
    for name, function in functions().items():
        # THEN each function logs to a group of the stack
        group = fn(function["Properties"]["LoggingConfig"]["LogGroup"], "Ref")
        assert group in groups, name
        assert fn(groups[group]["Properties"]["LogGroupName"], "Sub").startswith("/aws/lambda/"), name
        used.append(group)
    for name, machine in state_machines().items():
        # AND each state machine logs its errors, without execution data, to a group of the stack
        logging = machine["Properties"]["Logging"]
        assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False, name
        (destination,) = logging["Destinations"]
        group = fn(destination["CloudWatchLogsLogGroup"]["LogGroupArn"], "GetAtt").removesuffix(".Arn")
        assert group in groups and fn(groups[group]["Properties"]["LogGroupName"], "Sub").startswith(
            "/aws/vendedlogs/states/"
        ), name
        used.append(group)
        # AND its role may deliver logs (Step Functions Developer Guide, "IAM policies for logging
        # to CloudWatch Logs")
        actions = {
            action
            for entry in machine["Properties"]["Policies"]
            for statement in entry.get("Statement", [])
            for action in statement["Action"]
        }
        assert {"logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeLogGroups"} <= actions, name
    # AND every group is one function's or one state machine's, kept LogRetentionDays
    assert sorted(used) == sorted(groups)
    for name, group in groups.items():
        assert fn(group["Properties"]["RetentionInDays"], "Ref") == "LogRetentionDays", name


# --------------------------------------------------------------------------------------------
# Protection
# --------------------------------------------------------------------------------------------


def test_the_bucket_keeps_versions_and_expires_noncurrent_ones_after_retention_days() -> None:
    bucket = resources()["BackupBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (expiry,) = (rule for rule in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in rule)
    assert fn(expiry["ExpirationInDays"], "Ref") == "RetentionDays"
    assert fn(expiry["NoncurrentVersionExpiration"]["NoncurrentDays"], "Ref") == "RetentionDays"
    assert expiry["Status"] == "Enabled"


def test_object_lock_keeps_every_object_retention_days_in_governance_mode_when_asked() -> None:
    parameters = template()["Parameters"]
    assert parameters["ObjectLock"]["Default"] == "false"
    compared, value = fn(template()["Conditions"]["ObjectLockOn"], "Equals")
    assert fn(compared, "Ref") == "ObjectLock" and value == "true"
    bucket = resources()["BackupBucket"]["Properties"]
    condition, enabled, _ = fn(bucket["ObjectLockEnabled"], "If")
    assert condition == "ObjectLockOn" and enabled is True
    condition, configuration, _ = fn(bucket["ObjectLockConfiguration"], "If")
    assert condition == "ObjectLockOn"
    retention = configuration["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "GOVERNANCE" and fn(retention["Days"], "Ref") == "RetentionDays"


def test_a_kms_key_encrypts_the_bucket_and_the_ledger_and_every_function_may_use_it() -> None:
    assert template()["Parameters"]["KmsKeyArn"]["Default"] == ""
    bucket = resources()["BackupBucket"]["Properties"]
    (default,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    encryption = default["ServerSideEncryptionByDefault"]
    assert fn(encryption["SSEAlgorithm"], "If") == ["HasKmsKey", "aws:kms", "AES256"]
    assert fn(fn(encryption["KMSMasterKeyID"], "If")[1], "Ref") == "KmsKeyArn"
    ledger = resources()["CapacityLedger"]["Properties"]["SSESpecification"]
    assert fn(ledger["SSEType"], "If")[:2] == ["HasKmsKey", "KMS"]
    assert fn(fn(ledger["KMSMasterKeyId"], "If")[1], "Ref") == "KmsKeyArn"
    (policy,) = resources("AWS::IAM::Policy").values()
    assert policy["Condition"] == "HasKmsKey"
    assert sorted(fn(role, "Ref") for role in policy["Properties"]["Roles"]) == sorted(
        [*(f"{f}Role" for f in functions()), *EXPORT_WRITER_ROLES]
    )
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert {"kms:Decrypt", "kms:GenerateDataKey"} <= set(statement["Action"])
    assert fn(statement["Resource"], "Ref") == "KmsKeyArn"


def test_no_function_is_granted_deletes_in_the_bucket() -> None:
    # SAM's S3CrudPolicy and S3WritePolicy grant s3:DeleteObject / s3:PutLifecycleConfiguration
    # (samtranslator's policy_templates.json); no function takes them
    for name, function in functions().items():
        for entry in function["Properties"].get("Policies", []):
            assert not {"S3CrudPolicy", "S3WritePolicy", "S3FullAccessPolicy"} & set(entry), name
            for statement in entry.get("Statement", []):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not [a for a in actions if a.startswith("s3:Delete") or a in PROTECTED_ACTIONS], name


# --------------------------------------------------------------------------------------------
# The deny, evaluated
# --------------------------------------------------------------------------------------------


# The emr engine's instance role writes the exports, and Hadoop's output committer deletes the
# _temporary objects it wrote: it is the one role of the stack the deny leaves out (template.yaml,
# BackupBucketPolicy), and s3:DeleteObject the one protected action it is granted.
EXPORT_WRITER_ROLES = {"EmrInstanceRole"}


def roles_sam_creates() -> set[str]:
    """Every IAM role the stack makes, by SAM's naming: <Resource>Role, <Resource><Event>Role."""
    roles = set(resources("AWS::IAM::Role"))
    for name, resource in {**functions(), **state_machines()}.items():
        kind, properties = resource["Type"], resource["Properties"]
        if "Role" not in properties:
            roles.add(f"{name}Role")
        for event_name, event in properties.get("Events", {}).items():
            if event["Type"] in ROLE_EVENTS[kind] and "RoleArn" not in event["Properties"]:
                roles.add(f"{name}{event_name}Role")
            else:
                assert event["Type"] in ROLELESS_EVENTS[kind], f"{name}.{event_name}: does SAM make it a role?"
    return roles


def deny_statement() -> dict[str, Any]:
    """The bucket policy's deny to the stack's roles (unresolved)."""
    statements = resources()["BackupBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = (s for s in statements if s["Effect"] == "Deny" and "aws:PrincipalArn" in str(s.get("Condition")))
    return deny


def denied_roles() -> set[str]:
    """The roles the deny names."""
    names = deny_statement()["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    return {fn(name, "GetAtt").removesuffix(".Arn") for name in names}


def role_arn(role: str) -> str:
    """The ARN CloudFormation would give a role (stack name, logical id, a random suffix)."""
    return f"arn:aws:iam::{ACCOUNT}:role/hippolyte-test-{role[:30]}-1A2B3C4D5E6F"


@dataclass(frozen=True)
class Request:
    """A request to S3 as the bucket policy sees it."""

    action: str
    resource: str
    # The calling role's ARN; None for S3's own lifecycle actions, which no principal makes.
    principal_arn: str | None
    secure_transport: bool = True


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=0 if case else re.IGNORECASE) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict[str, Any], request: Request) -> bool:
    """IAM's condition evaluation for the operators the policy uses; a key the request lacks makes
    its condition false (IAM User Guide, "IAM JSON policy elements: Condition operators")."""
    context = {
        "aws:PrincipalArn": request.principal_arn,
        "aws:SecureTransport": str(request.secure_transport).lower(),
    }
    for operator, tests in condition.items():
        for key, expected in tests.items():
            actual = context.get(key)
            if actual is None:
                return False
            if operator in ("ArnEquals", "ArnLike"):
                holds = any(_glob(str(pattern), actual) for pattern in _as_list(expected))
            elif operator == "Bool":
                holds = actual == str(expected).lower()
            else:
                raise AssertionError(f"the test's evaluator does not know {operator}: add it")
            if not holds:
                return False
    return True


def denied(policy: dict[str, Any], request: Request) -> bool:
    """Whether an explicit Deny of the bucket policy applies to the request."""
    for statement in policy["Statement"]:
        assert statement["Principal"] == "*" and "NotAction" not in statement and "NotResource" not in statement
        if statement["Effect"] != "Deny":
            continue
        if not any(_glob(action, request.action, case=False) for action in _as_list(statement["Action"])):
            continue
        if not any(_glob(resource, request.resource) for resource in _as_list(statement["Resource"])):
            continue
        if _condition_holds(statement.get("Condition", {}), request):
            return True
    return False


@pytest.fixture(scope="module")
def bucket_policy() -> dict[str, Any]:
    """The bucket policy, resolved for a deployed stack."""
    attributes = {f"{role}.Arn": role_arn(role) for role in denied_roles()} | {"BackupBucket.Arn": BUCKET_ARN}
    pseudo = {"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT}
    resolver = Resolver({}, {"BackupBucket": BUCKET}, attributes, pseudo)
    policy: dict[str, Any] = resolver.resolve(resources()["BackupBucketPolicy"]["Properties"]["PolicyDocument"])
    return policy


def test_the_deny_names_every_role_the_stack_creates() -> None:
    # GIVEN every role SAM makes for the template's functions, state machines and schedules
    roles = roles_sam_creates()
    assert "NotifyExecutionEndedFunctionRole" in roles and "BackupStateMachineNightlyRole" in roles
    # THEN the deny names each one but the export writer's, and nothing else
    assert roles >= EXPORT_WRITER_ROLES
    assert denied_roles() == roles - EXPORT_WRITER_ROLES


def test_the_deny_names_every_role_of_the_transformed_template(transformed_template: dict[str, Any]) -> None:
    # GIVEN the roles of the template CloudFormation deploys
    roles = {name for name, r in transformed_template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    # THEN the deny names each one but the export writer's, and nothing else
    assert denied_roles() == roles - EXPORT_WRITER_ROLES


def test_no_role_of_the_transformed_template_is_allowed_to_delete_backups(transformed_template: dict[str, Any]) -> None:
    # GIVEN every statement of every role, SAM's policy templates expanded by SAM itself
    allowed = {
        (name, action)
        for name, role in transformed_template["Resources"].items()
        if role["Type"] == "AWS::IAM::Role"
        for policy in role["Properties"].get("Policies", [])
        for statement in _as_list(policy["PolicyDocument"]["Statement"])
        if statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"])
    }
    # THEN none allows an action the bucket policy denies them (the deny is the second lock, not the only one)
    assert {
        (name, action)
        for name, action in allowed
        if any(_glob(action, protected, case=False) for protected in PROTECTED_ACTIONS)
    } == {(role, "s3:DeleteObject") for role in EXPORT_WRITER_ROLES}


@pytest.mark.parametrize("action", sorted(PROTECTED_ACTIONS))
def test_the_bucket_policy_denies_every_role_of_the_stack_the_protected_actions(
    bucket_policy: dict[str, Any], action: str
) -> None:
    # GIVEN each role of the stack, and a backup's object (or the bucket, for bucket actions)
    resource = f"{BUCKET_ARN}/orders/2026-11-28-00-10-05/part-00000" if "Object" in action else BUCKET_ARN
    for role in roles_sam_creates() - EXPORT_WRITER_ROLES:
        # THEN the action is denied to it
        assert denied(bucket_policy, Request(action, resource, role_arn(role))), (role, action)


def test_a_function_role_may_not_delete_a_backup_or_the_runs_documents(bucket_policy: dict[str, Any]) -> None:
    # GIVEN CheckPipelines' role
    check = role_arn("CheckPipelinesFunctionRole")
    # THEN deleting a backup's file, one of its versions, or a run's document is denied
    assert denied(bucket_policy, Request("s3:DeleteObject", f"{BUCKET_ARN}/orders/2026-11-28-00-10-05/manifest", check))
    assert denied(bucket_policy, Request("s3:DeleteObjectVersion", f"{BUCKET_ARN}/orders/x/_SUCCESS", check))
    assert denied(bucket_policy, Request("s3:DeleteObject", f"{BUCKET_ARN}/runs/nightly/progress.json", check))
    # AND writing and reading, what the functions do, are not
    assert not denied(bucket_policy, Request("s3:PutObject", f"{BUCKET_ARN}/runs/nightly/progress.json", check))
    assert not denied(bucket_policy, Request("s3:GetObject", f"{BUCKET_ARN}/orders/x/manifest", check))


def test_the_lifecycle_and_the_deployer_are_not_affected(bucket_policy: dict[str, Any]) -> None:
    key = f"{BUCKET_ARN}/orders/2026-10-01-00-10-05/part-00000"
    # GIVEN S3's lifecycle expiring an old version (no principal makes that request)
    # THEN the deny does not apply to it
    assert not denied(bucket_policy, Request("s3:DeleteObjectVersion", key, None))
    # AND whoever deploys the stack (no role of the stack) may still change the rules
    deployer = f"arn:aws:iam::{ACCOUNT}:role/Admin"
    assert not denied(bucket_policy, Request("s3:PutLifecycleConfiguration", BUCKET_ARN, deployer))
    assert not denied(bucket_policy, Request("s3:PutBucketPolicy", BUCKET_ARN, deployer))
    # AND a request without TLS is still denied to everyone
    assert denied(bucket_policy, Request("s3:GetObject", key, deployer, secure_transport=False))
