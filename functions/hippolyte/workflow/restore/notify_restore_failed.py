"""NotifyRestoreFailed: tell the report topic the restore failed, why, and what it left behind."""

from __future__ import annotations

from hippolyte.restore_models import RestoreFailure, RestoreReport
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.report import publish_once, report_subject


def notify_restore_failed(rt: Runtime, failure: RestoreFailure, notes: list[str]) -> RestoreReport:
    """Tell the topic the restore failed, why, and what it left behind."""
    context, raw, error = failure.context, failure.raw_request, failure.error
    table, target = raw.get("table"), raw.get("target")
    subject = report_subject(
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
    return publish_once(rt, failure.execution_name, report, "\n".join(lines) + "\n")
