"""NotifyRestored: tell the report topic the restore succeeded, with what went where."""

from __future__ import annotations

from hippolyte.restore_models import RestoreContext, RestoreReport
from hippolyte.runtime import Runtime
from hippolyte.workflow.restore.report import publish_once, report_subject


def notify_restored(rt: Runtime, context: RestoreContext) -> RestoreReport:
    """Tell the topic the restore succeeded, with what went where."""
    request = context.request
    subject = report_subject(rt, request.table, request.target, "SUCCEEDED")
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
    return publish_once(rt, context.execution_name, report, "\n".join(lines) + "\n")
