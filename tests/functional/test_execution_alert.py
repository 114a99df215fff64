"""NotifyExecutionEnded under moto: every execution that ends FAILED, TIMED_OUT or ABORTED is told to
the report topic once, unless the execution's own Catch path already told it.

Executions are created in moto and then ended as Step Functions would end them (status, error,
cause, stop date): moto's interpreter does not time executions out, and its StopExecution records no
error. The Catch path's markers are written by the real NotifyFailure, NotifyResult and
NotifyRestoreFailed handlers, so a marker's key drifting from what this function looks for fails here.
Messages are read back through an SQS queue subscribed to the topic, as an email subscriber would
receive them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from hippolyte.adapters import clients
from hippolyte.errors import InvalidExecutionEventError
from hippolyte.handlers import notify_execution_ended, notify_failure, notify_restore_failed, notify_result
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.stepfunctions.models import stepfunctions_backends

from tests.functional.test_handlers import BUCKET, REGION, RUNTIME_ENVIRONMENT, TEMPLATE_ENVIRONMENT, TOPIC, context

BACKUP_MACHINE = "hippolyte-dev-backup"
RESTORE_MACHINE = "hippolyte-dev-restore"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/hippolyte-dev-states"
DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@dataclass
class Account:
    """moto with the stack's bucket and topic, a mailbox subscribed to the topic, and the two machines."""

    s3: Any
    sfn: Any
    sqs: Any
    queue_url: str
    machines: dict[str, str]

    def ended_execution(
        self, machine: str, name: str, status: str, error: str | None = None, cause: str | None = None
    ) -> str:
        """Start an execution, then end it as Step Functions would; returns its ARN."""
        arn: str = self.sfn.start_execution(stateMachineArn=self.machines[machine], name=name, input="{}")[
            "executionArn"
        ]
        execution = stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION].describe_execution(arn)
        execution.status, execution.error, execution.cause = status, error, cause
        execution.stop_date = datetime(2026, 11, 29, 7, 30, tzinfo=UTC)
        return arn

    def messages(self) -> list[dict[str, Any]]:
        """Every message the topic delivered so far (Subject, Message)."""
        found: list[dict[str, Any]] = []
        while True:
            received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            if not received.get("Messages"):
                return found
            for message in received["Messages"]:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    for key, value in {**TEMPLATE_ENVIRONMENT, **RUNTIME_ENVIRONMENT}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        clients.reset()
        session = boto3.session.Session(region_name=REGION)
        s3: Any = session.client("s3")
        sns: Any = session.client("sns")
        sqs: Any = session.client("sqs")
        sfn: Any = session.client("stepfunctions")
        s3.create_bucket(Bucket=BUCKET)
        assert sns.create_topic(Name="hippolyte-dev-reports")["TopicArn"] == TOPIC
        queue_url = sqs.create_queue(QueueName="mailbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn)
        machines = {
            name: sfn.create_state_machine(name=name, definition=DEFINITION, roleArn=ROLE)["stateMachineArn"]
            for name in (BACKUP_MACHINE, RESTORE_MACHINE)
        }
        yield Account(s3=s3, sfn=sfn, sqs=sqs, queue_url=queue_url, machines=machines)
    clients.reset()


def status_event(account: Account, machine: str, arn: str, status: str) -> dict[str, Any]:
    """The EventBridge event Step Functions sends when the execution ends (Step Functions Developer
    Guide, "Automating Step Functions event delivery with EventBridge")."""
    return {
        "version": "0",
        "id": "315c1398-40ff-a850-213b-158f73e60175",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": DEFAULT_ACCOUNT_ID,
        "time": "2026-11-29T07:30:00Z",
        "region": REGION,
        "resources": [arn],
        "detail": {
            "executionArn": arn,
            "stateMachineArn": account.machines[machine],
            "name": arn.rsplit(":", 1)[1],
            "status": status,
            "startDate": 1795911000000,
            "stopDate": 1795937400000,
            "input": "{}",
            "output": None,
        },
    }


def notify(event: dict[str, Any]) -> dict[str, Any]:
    """Invoke NotifyExecutionEnded as EventBridge would."""
    return notify_execution_ended.lambda_handler(event, context("NotifyExecutionEnded"))


def test_a_failed_backup_no_catch_reported_gets_one_message_with_status_error_cause_and_console_link(
    account: Account,
) -> None:
    # GIVEN a backup execution that failed, and no report of its failure in the bucket
    arn = account.ended_execution(
        BACKUP_MACHINE, "nightly-1", "FAILED", error="Lambda.Unknown", cause="NotifyFailure timed out"
    )
    # WHEN its status change reaches the function
    result = notify(status_event(account, BACKUP_MACHINE, arn, "FAILED"))
    # THEN one message names the execution, its status, error, cause and console page
    (message,) = account.messages()
    assert message["Subject"] == "Hippolyte dev backup nightly-1: FAILED"
    body = message["Message"]
    assert "The backup execution nightly-1 ended FAILED." in body
    assert "error:   Lambda.Unknown" in body and "cause:   NotifyFailure timed out" in body
    assert f"https://{REGION}.console.aws.amazon.com/states/home?region={REGION}#/v2/executions/details/" in body
    assert quote(arn, safe="") in body
    # AND what was sent is kept next to the run's documents, so a repeated event finds it
    assert result["message_id"] and result["already_reported_by"] is None
    assert account.s3.head_object(Bucket=BUCKET, Key="runs/nightly-1/sent/execution-failed.json")


@pytest.mark.parametrize(
    ("status", "error", "cause"),
    [
        ("ABORTED", "StoppedByOperator", "stopped from the console"),
        ("TIMED_OUT", "States.Timeout", "The execution ran past its TimeoutSeconds."),
    ],
)
def test_a_stopped_or_timed_out_execution_gets_one_message(
    account: Account, status: str, error: str, cause: str
) -> None:
    # GIVEN a backup execution that ended with no Catch running (a stop, a timeout)
    arn = account.ended_execution(BACKUP_MACHINE, "nightly-2", status, error=error, cause=cause)
    # WHEN its status change reaches the function
    notify(status_event(account, BACKUP_MACHINE, arn, status))
    # THEN one message says how it ended
    (message,) = account.messages()
    assert message["Subject"] == f"Hippolyte dev backup nightly-2: {status}"
    assert f"status:  {status}" in message["Message"] and f"error:   {error}" in message["Message"]
    assert "reconcile" in message["Message"]


def test_a_failure_the_catch_path_reported_sends_nothing_more(account: Account) -> None:
    # GIVEN a backup run whose failure path ran: NotifyFailure sent the report and kept its marker
    name = "nightly-3"
    arn = account.ended_execution(BACKUP_MACHINE, name, "FAILED", error="RuntimeError", cause="CheckPipelines crashed")
    run = {"run_id": name, "execution_id": arn, "bucket": BUCKET, "started_at": "2026-11-29T00:10:00Z"}
    failure = {"state": {"run": run, "error": {"Error": "RuntimeError", "Cause": "CheckPipelines crashed"}}}
    notify_failure.lambda_handler({**failure, "execution_id": arn, "execution_name": name}, context("NotifyFailure"))
    assert len(account.messages()) == 1
    # WHEN the execution's FAILED status change reaches the function
    result = notify(status_event(account, BACKUP_MACHINE, arn, "FAILED"))
    # THEN no second message goes out, and the function says which marker showed the report
    assert account.messages() == []
    assert result["already_reported_by"] == f"s3://{BUCKET}/runs/{name}/sent/failure.json"


def test_a_night_that_failed_tables_after_its_report_sends_nothing_more(account: Account) -> None:
    # GIVEN a night whose report (listing failed tables) went out before SomeBackupsFailed failed it
    name = "nightly-4"
    arn = account.ended_execution(BACKUP_MACHINE, name, "FAILED", error="TablesFailed", cause="1 table failed")
    run = {"run_id": name, "execution_id": arn, "bucket": BUCKET, "started_at": "2026-11-29T00:10:00Z"}
    notify_result.lambda_handler({"run": run, "poll_seconds": 300, "status": "done"}, context("NotifyResult"))
    assert len(account.messages()) == 1
    # WHEN the FAILED status change reaches the function
    result = notify(status_event(account, BACKUP_MACHINE, arn, "FAILED"))
    # THEN nothing more is sent
    assert account.messages() == []
    assert result["already_reported_by"] == f"s3://{BUCKET}/runs/{name}/sent/result.json"


def test_a_night_whose_report_went_out_but_whose_failure_path_failed_is_reported(account: Account) -> None:
    # GIVEN a night whose NotifyResult sent its report, then failed for another reason than the
    # tables (so the report that went out does not tell this end), and no NotifyFailure marker
    name = "nightly-5"
    arn = account.ended_execution(BACKUP_MACHINE, name, "FAILED", error="Lambda.Unknown", cause="lost")
    run = {"run_id": name, "execution_id": arn, "bucket": BUCKET, "started_at": "2026-11-29T00:10:00Z"}
    notify_result.lambda_handler({"run": run, "poll_seconds": 300, "status": "done"}, context("NotifyResult"))
    account.messages()
    # WHEN the FAILED status change reaches the function
    notify(status_event(account, BACKUP_MACHINE, arn, "FAILED"))
    # THEN the end is reported
    assert [m["Subject"] for m in account.messages()] == [f"Hippolyte dev backup {name}: FAILED"]


def test_a_restore_failure_its_catch_reported_sends_nothing_more_but_a_stopped_restore_is_reported(
    account: Account,
) -> None:
    # GIVEN a failed restore whose NotifyRestoreFailed ran, and a restore stopped by a person
    failed = account.ended_execution(RESTORE_MACHINE, "restore-1", "FAILED", error="RestoreImportFailedError")
    restore_failure = {
        "state": {"table": "orders", "target": "orders-copy", "error": {"Error": "RestoreImportFailedError"}},
        "execution_id": failed,
        "execution_name": "restore-1",
    }
    notify_restore_failed.lambda_handler(restore_failure, context("RestoreNotifyFailure"))
    assert len(account.messages()) == 1
    stopped = account.ended_execution(RESTORE_MACHINE, "restore-2", "ABORTED")
    # WHEN both status changes reach the function
    first = notify(status_event(account, RESTORE_MACHINE, failed, "FAILED"))
    notify(status_event(account, RESTORE_MACHINE, stopped, "ABORTED"))
    # THEN only the stopped restore is reported, with what it may have left behind
    assert first["already_reported_by"] == f"s3://{BUCKET}/runs/restore-restore-1/sent/failed.json"
    (message,) = account.messages()
    assert message["Subject"] == "Hippolyte dev restore restore-2: ABORTED"
    assert "The target table may exist" in message["Message"]
    assert "error:   (none given)" in message["Message"]


def test_the_same_event_twice_sends_one_message(account: Account) -> None:
    # GIVEN a stopped execution whose event EventBridge delivers twice (it delivers at least once)
    arn = account.ended_execution(BACKUP_MACHINE, "nightly-6", "ABORTED", error="StoppedByOperator")
    event = status_event(account, BACKUP_MACHINE, arn, "ABORTED")
    # WHEN both deliveries reach the function
    first, second = notify(event), notify(event)
    # THEN one message went out, and the second delivery returned what the first sent
    assert len(account.messages()) == 1
    assert second["message_id"] == first["message_id"]


def test_an_execution_step_functions_cannot_describe_is_still_reported_from_the_event(account: Account) -> None:
    # GIVEN the event of an execution DescribeExecution does not know (its history expired, say)
    arn = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:execution:{BACKUP_MACHINE}:long-gone"
    # WHEN it reaches the function
    notify(status_event(account, BACKUP_MACHINE, arn, "TIMED_OUT"))
    # THEN the end is reported with what the event says, and why there is no more
    (message,) = account.messages()
    assert message["Subject"] == "Hippolyte dev backup long-gone: TIMED_OUT"
    assert "could not be described (DescribeExecution of" in message["Message"]
    assert "ExecutionDoesNotExist" in message["Message"]


def test_an_event_that_is_not_an_execution_status_change_is_refused(account: Account) -> None:
    # GIVEN a scheduled event sent to the function by mistake
    event = {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}
    # WHEN it is handled, THEN it is refused with a named error and nothing is sent
    with pytest.raises(InvalidExecutionEventError, match="source"):
        notify(event)
    assert account.messages() == []
