"""The run's report, which NotifyResult and NotifyFailure send: one SNS message per run, listing every table.

A report that was published is stored as the run's ``sent/result`` (or ``sent/failure``)
document; a retried notify (Step Functions re-runs it when the Lambda fails after publishing)
finds it and returns it instead of sending the same message twice (publish_report_once).
"""

from __future__ import annotations

from hippolyte.adapters.notification import publish_report_once
from hippolyte.adapters.run_store import document_exists, load_document, save_report_text
from hippolyte.models import Inventory, RunProgress, RunRef, RunReport, StateError
from hippolyte.report import final_outcomes, render_report
from hippolyte.runtime import Runtime, account_of
from hippolyte.workflow.backup_freshness import update_freshness


def notify_run(
    rt: Runtime, run: RunRef | None, execution_id: str, execution_name: str, error: StateError | None = None
) -> RunReport:
    """Build the report from the run's documents, store it next to them and publish it (once)."""
    s3 = rt.client("s3")
    inventory = (
        load_document(s3, run, "inventory", Inventory) if run and document_exists(s3, run, "inventory") else None
    )
    progress = (
        load_document(s3, run, "progress", RunProgress)
        if run and document_exists(s3, run, "progress")
        else RunProgress()
    )
    outcomes = final_outcomes(inventory, progress)
    freshness = update_freshness(rt, inventory, outcomes) if run is not None and inventory is not None else None
    report, body = render_report(
        account=account_of(execution_id),
        region=rt.region,
        stage=rt.settings.stage,
        run_id=execution_name,
        outcomes=outcomes,
        capacity_pending=progress.capacity_pending,
        notes=progress.notes,
        error=f"{error.error}: {error.cause}" if error else None,
        freshness=freshness,
    )
    if run is not None:  # a run rejected at its first state leaves nothing in the account
        save_report_text(s3, run, body)
    sent_at = (run.bucket, run.key(f"sent/{'failure' if error else 'result'}")) if run is not None else None
    report = publish_report_once(
        rt.client("sns"), s3, rt.settings.topic_arn, report.model_copy(update={"error": error}), body, sent_at
    )
    # The night is over for its tables: the next run (or a manual re-run) may take them.
    if run is not None and inventory is not None:
        rt.ledger().release_leases([table.name for table in inventory.tables], run.run_id)
    return report
