"""An execution that ended badly, as the report topic tells it: the event, the markers, the message.

Step Functions sends a "Step Functions Execution Status Change" event to EventBridge when a Standard
workflow's execution changes status (Step Functions Developer Guide, "Automating Step Functions
event delivery with EventBridge"); the stack's rule passes the backup and restore state machines'
FAILED, TIMED_OUT and ABORTED ones to NotifyExecutionEnded. Most failures were already reported by
the execution's own Catch path (NotifyFailure, or NotifyResult before SomeBackupsFailed;
NotifyRestoreFailed), which leaves a ``sent/`` marker in the backup bucket; such an execution is
not reported twice. A timeout or a stop runs no Catch, so it is always reported.

Pure: no AWS calls (those are in :mod:`hippolyte.adapters.ended_executions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hippolyte.errors import InvalidExecutionEventError
from hippolyte.models import PublishedReport, first_error
from hippolyte.report import SUBJECT_LIMIT

EVENT_SOURCE = "aws.states"
EVENT_DETAIL_TYPE = "Step Functions Execution Status Change"
# The ends the stack's rule passes on: every end but SUCCEEDED (ExecutionStatus in the Step
# Functions API Reference, DescribeExecution).
ENDED_BADLY = ("FAILED", "TIMED_OUT", "ABORTED")
# The error of the backup's SomeBackupsFailed state (statemachine/backup.asl.json): the night's
# report, listing the failed tables, went out before it.
TABLES_FAILED = "TablesFailed"

MachineKind = Literal["backup", "restore"]
# Console hosts by partition (the AWS General Reference's console endpoints).
_CONSOLE_HOSTS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn"}


class ExecutionStatusChange(BaseModel):
    """The ``detail`` of a "Step Functions Execution Status Change" event (the fields used here)."""

    # EventBridge events carry more fields than these (input, output, dates, and newer ones AWS
    # may add): they are ignored, not refused.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    execution_arn: str = Field(alias="executionArn", min_length=1)
    state_machine_arn: str = Field(alias="stateMachineArn", min_length=1)
    name: str = Field(min_length=1)
    status: Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]


class ExecutionStatusEvent(BaseModel):
    """The EventBridge envelope of an execution status change."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: Literal["aws.states"]
    detail_type: Literal["Step Functions Execution Status Change"] = Field(alias="detail-type")
    detail: ExecutionStatusChange


def parse_event(event: Any) -> ExecutionStatusChange:
    """The status change an EventBridge event carries; raises :class:`InvalidExecutionEventError`.

    >>> parse_event({"source": "aws.states", "detail-type": "Step Functions Execution Status Change",
    ...              "detail": {"executionArn": "arn:aws:states:eu-west-1:123456789012:execution:m:n",
    ...                         "stateMachineArn": "arn:aws:states:eu-west-1:123456789012:stateMachine:m",
    ...                         "name": "n", "status": "ABORTED"}}).status
    'ABORTED'
    """
    try:
        return ExecutionStatusEvent.model_validate(event).detail
    except ValidationError as error:
        field, message = first_error(error, "event")
        raise InvalidExecutionEventError(f"not an execution status change: {field}: {message}") from None


@dataclass(frozen=True)
class EndedExecution:
    """What DescribeExecution says of an execution that ended (or what the event said, when it
    could not be described: then ``unavailable`` says why)."""

    arn: str
    name: str
    state_machine_arn: str
    status: str
    error: str | None = None
    cause: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    unavailable: str | None = None


class ExecutionAlert(PublishedReport):
    """What NotifyExecutionEnded did about one execution: sent a message, or found one sent."""

    execution_arn: str
    status: str
    error: str | None = None
    # The Catch path's marker that showed the execution was reported already (nothing was sent).
    already_reported_by: str | None = None


def machine_kind(state_machine_arn: str, stage: str) -> MachineKind | None:
    """Which of the stack's state machines an ARN names (template.yaml names them by stage).

    >>> machine_kind("arn:aws:states:eu-west-1:123456789012:stateMachine:hippolyte-prod-restore", "prod")
    'restore'
    >>> machine_kind("arn:aws:states:eu-west-1:123456789012:stateMachine:other", "prod") is None
    True
    """
    name = state_machine_arn.rsplit(":", 1)[-1]
    if name == f"hippolyte-{stage}-backup":
        return "backup"
    if name == f"hippolyte-{stage}-restore":
        return "restore"
    return None


def run_prefix(kind: MachineKind | None, execution_name: str) -> str:
    """The key prefix of the execution's documents in the backup bucket.

    A backup run keeps them under ``runs/<execution>/`` (models.RunRef), a restore under
    ``runs/restore-<execution>/`` (workflow/restore/notify.py); another machine's execution gets
    the restore's form under its own name, so it can never take a backup run's prefix.

    >>> run_prefix("backup", "nightly-1"), run_prefix("restore", "r1")
    ('runs/nightly-1/', 'runs/restore-r1/')
    """
    return f"runs/{execution_name}/" if kind == "backup" else f"runs/restore-{execution_name}/"


def catch_markers(kind: MachineKind | None, execution: EndedExecution) -> list[str]:
    """Keys whose presence shows the execution's Catch path already reported how it ended.

    A FAILED backup was reported by NotifyFailure (``sent/failure``) or, when the night ended
    SomeBackupsFailed (error ``TablesFailed``), by NotifyResult (``sent/result``); a FAILED restore
    by NotifyRestoreFailed (``sent/failed``). A timeout or a stop runs no Catch: nothing counts.

    >>> failed = EndedExecution("arn", "n1", "sm", "FAILED", error="TablesFailed")
    >>> catch_markers("backup", failed)
    ['runs/n1/sent/failure.json', 'runs/n1/sent/result.json']
    >>> catch_markers("backup", EndedExecution("arn", "n1", "sm", "TIMED_OUT"))
    []
    """
    if execution.status != "FAILED" or kind is None:
        return []
    prefix = run_prefix(kind, execution.name)
    if kind == "restore":
        return [f"{prefix}sent/failed.json"]
    markers = [f"{prefix}sent/failure.json"]
    if execution.error == TABLES_FAILED:
        markers.append(f"{prefix}sent/result.json")
    return markers


def alert_marker(kind: MachineKind | None, execution: EndedExecution) -> str:
    """Where NotifyExecutionEnded keeps the alert it sent, so a repeated event sends nothing twice.

    >>> alert_marker("backup", EndedExecution("arn", "n1", "sm", "ABORTED"))
    'runs/n1/sent/execution-aborted.json'
    """
    return f"{run_prefix(kind, execution.name)}sent/execution-{execution.status.lower().replace('_', '-')}.json"


def console_url(execution_arn: str) -> str:
    """The Step Functions console's page of an execution.

    >>> console_url("arn:aws:states:eu-west-1:123456789012:execution:hippolyte-prod-backup:nightly")
    'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn%3Aaws%3Astates%3Aeu-west-1%3A123456789012%3Aexecution%3Ahippolyte-prod-backup%3Anightly'
    """
    parts = execution_arn.split(":")
    partition, region = (parts[1], parts[3]) if len(parts) > 3 else ("aws", "us-east-1")
    if partition == "aws-us-gov":
        host = "console.amazonaws-us-gov.com"
    else:
        host = f"{region}.{_CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS['aws'])}"
    return f"https://{host}/states/home?region={region}#/v2/executions/details/{quote(execution_arn, safe='')}"


def _what_now(kind: MachineKind | None, status: str) -> str:
    if kind == "backup":
        return (
            "No Catch ran after this end, so the night's report was not sent. The hourly reconcile "
            "stops the run's pipelines and puts back any capacity it raised, and says so; the tables "
            "of this run have no new backup: re-run them (README, Re-running one table)."
            if status != "FAILED"
            else "The failure path did not report this end (it failed too): capacity may be left "
            "raised until the hourly reconcile puts it back. Re-run the night's tables."
        )
    if kind == "restore":
        return (
            "The target table may exist and hold part of the backup, and its capacity may still be "
            "raised for the import: check it, delete it before restoring into that name again."
        )
    return "Read the execution's history in the console."


def render_alert(stage: str, kind: MachineKind | None, execution: EndedExecution) -> tuple[str, str]:
    """The SNS subject and body that report an execution's end.

    >>> subject, body = render_alert("prod", "backup", EndedExecution(
    ...     "arn:aws:states:eu-west-1:123456789012:execution:hippolyte-prod-backup:n1", "n1",
    ...     "arn:aws:states:eu-west-1:123456789012:stateMachine:hippolyte-prod-backup", "TIMED_OUT",
    ...     error="States.Timeout", cause="The execution timed out."))
    >>> subject
    'Hippolyte prod backup n1: TIMED_OUT'
    >>> "error:   States.Timeout" in body and "console: https://" in body
    True
    """
    what = kind or "execution"
    # SNS subjects are ASCII, on one line, under 100 characters (SNS Publish API reference).
    subject = f"Hippolyte {stage} {what} {execution.name}: {execution.status}"
    subject = subject.encode("ascii", "replace").decode().replace("\n", " ")[: SUBJECT_LIMIT - 1]
    lines = [
        f"The {what} execution {execution.name} ended {execution.status}.",
        f"  state machine: {execution.state_machine_arn.rsplit(':', 1)[-1]}",
        f"  status:  {execution.status}",
        f"  error:   {execution.error or '(none given)'}",
        f"  cause:   {execution.cause or '(none given)'}",
    ]
    if execution.started_at is not None:
        lines.append(f"  started: {execution.started_at.isoformat()}")
    if execution.stopped_at is not None:
        lines.append(f"  stopped: {execution.stopped_at.isoformat()}")
    lines.append(f"  console: {console_url(execution.arn)}")
    if execution.unavailable:
        lines.append(
            f"  note: the execution could not be described ({execution.unavailable}); this is the event's word"
        )
    lines += ["", _what_now(kind, execution.status)]
    return subject, "\n".join(lines) + "\n"
