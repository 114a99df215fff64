"""NotifyExecutionEnded: report to the topic an execution that failed, timed out or was stopped.

Invoked by the stack's EventBridge rule (template.yaml, NotifyExecutionEndedFunction), not by a
state machine. An end the execution's own Catch path already reported (its ``sent/`` marker is in
the bucket) is not reported again; any other is, once: the alert is kept under the execution's
``sent/`` prefix, so that a repeated event (EventBridge delivers at least once, and Lambda retries
asynchronous invocations) finds it instead of sending a second message.
"""

from __future__ import annotations

from dataclasses import replace

from hippolyte.adapters.ended_executions import (
    ExecutionDetailsUnavailableError,
    as_described_by_event,
    describe_ended_execution,
    stored_object_exists,
)
from hippolyte.adapters.notification import publish_report_once
from hippolyte.execution_alert import (
    ExecutionAlert,
    ExecutionStatusChange,
    alert_marker,
    catch_markers,
    machine_kind,
    render_alert,
)
from hippolyte.runtime import Runtime


def notify_execution_ended(rt: Runtime, change: ExecutionStatusChange) -> ExecutionAlert:
    """Send one message about the execution's end unless it was reported already; returns what was done."""
    kind = machine_kind(change.state_machine_arn, rt.settings.stage)
    try:
        # The event's status is the end being reported: a redriven execution may run again by now.
        execution = replace(
            describe_ended_execution(rt.client("stepfunctions"), change.execution_arn), status=change.status
        )
    except ExecutionDetailsUnavailableError as error:
        # An alert without the error and cause is better than none: say what the event says.
        execution = as_described_by_event(change, str(error))
    s3, bucket = rt.client("s3"), rt.settings.backup_bucket
    for marker in catch_markers(kind, execution):
        if stored_object_exists(s3, bucket, marker):
            return ExecutionAlert(
                subject="",
                execution_arn=execution.arn,
                status=execution.status,
                error=execution.error,
                already_reported_by=f"s3://{bucket}/{marker}",
            )
    subject, body = render_alert(rt.settings.stage, kind, execution)
    alert = ExecutionAlert(subject=subject, execution_arn=execution.arn, status=execution.status, error=execution.error)
    return publish_report_once(
        rt.client("sns"), s3, rt.settings.topic_arn, alert, body, (bucket, alert_marker(kind, execution))
    )
