"""NotifyRestored and NotifyRestoreFailed: one SNS message per restore, to the backup report's topic.

A published report is stored under the restore's ``runs/restore-<execution>/`` prefix; a retried
notify (Step Functions re-runs it when the Lambda fails after publishing) finds it and returns it
instead of sending the same message twice.
"""

from __future__ import annotations

from hippolyte.adapters.notification import publish_report_once
from hippolyte.report import SUBJECT_LIMIT
from hippolyte.restore_models import RestoreContext, RestoreFailure, RestoreReport
from hippolyte.runtime import Runtime


def _subject(rt: Runtime, table: str | None, target: str | None, outcome: str) -> str:
    # SNS subjects are ASCII, on one line, under 100 characters (SNS Publish API reference).
    subject = f"Hippolyte {rt.settings.stage} restore {table or '?'} -> {target or '?'}: {outcome}"
    return subject.encode("ascii", "replace").decode()[: SUBJECT_LIMIT - 1]


def _sent_key(execution_name: str, outcome: str) -> str:
    return f"runs/restore-{execution_name}/sent/{outcome.lower()}.json"


def _publish_once(rt: Runtime, execution_name: str, report: RestoreReport, body: str) -> RestoreReport:
    """Publish a restore's report unless an earlier attempt did; returns what was sent."""
    bucket = rt.settings.backup_bucket
    sent_at = (bucket, _sent_key(execution_name, report.outcome)) if bucket else None
    return publish_report_once(rt.client("sns"), rt.client("s3"), rt.settings.topic_arn, report, body, sent_at)


def notify_restored(rt: Runtime, context: RestoreContext) -> RestoreReport:
    """Tell the topic the restore succeeded, with what went where."""
    request = context.request
    subject = _subject(rt, request.table, request.target, "SUCCEEDED")
    backup, made = context.backup, context.backup.time.isoformat()
    into = "the existing, empty table" if context.target_exists else "a new table"
    lines = [
        f"Table {request.table} was restored into {request.target}.",
        f"  backup:   {backup.location} ({backup.engine}, made {made})",
        f"  items:    {context.items_restored} (the backup's manifest: {context.backup.items})",
        f"  into:     {into} {request.target}",
        f"  execution: {context.execution_id}",
        *(f"  note: {note}" for note in context.notes),
    ]
    report = RestoreReport(
        subject=subject,
        outcome="SUCCEEDED",
        table=request.table,
        target=request.target,
        backup=context.backup.location,
        items=context.items_restored,
    )
    return _publish_once(rt, context.execution_name, report, "\n".join(lines) + "\n")


def notify_restore_failed(rt: Runtime, failure: RestoreFailure, notes: list[str]) -> RestoreReport:
    """Tell the topic the restore failed, why, and what it left behind."""
    context, raw, error = failure.context, failure.raw_request, failure.error
    table, target = raw.get("table"), raw.get("target")
    subject = _subject(
        rt, table if isinstance(table, str) else None, target if isinstance(target, str) else None, "FAILED"
    )
    if context is None:
        left = "Nothing was created: the restore stopped before its first change."
    elif context.target_exists:
        left = f"The existing table {context.request.target} may hold some of the backup's items."
    else:
        left = (
            f"The table {context.request.target} may exist and hold part of the backup: delete it "
            "before restoring into that name again."
        )
    lines = [
        f"The restore of {table} into {target} failed.",
        f"  error:  {error.error}",
        f"  cause:  {error.cause}",
        f"  {left}",
        f"  execution: {failure.execution_id}",
        *(f"  note: {note}" for note in notes),
    ]
    report = RestoreReport(
        subject=subject,
        outcome="FAILED",
        table=table if isinstance(table, str) else None,
        target=target if isinstance(target, str) else None,
        backup=context.backup.location if context else None,
        error=error,
    )
    return _publish_once(rt, failure.execution_name, report, "\n".join(lines) + "\n")
