"""ReconcileCapacity (hourly): bring every table a run left raised back to its ledger original.

Picks up what a run could not finish: restores DynamoDB refused (the daily decrease limit, a
table still UPDATING, throttling), and everything a run left behind when it died, timed out or
was stopped by a person (no Catch runs then). A dead run's pipelines are stopped first, because
their exports were told to read a share of the boosted capacity.

A pass stops before Lambda's timeout would cut it off; the tables it did not reach are named in
its report and taken by the next hour's pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field

from hippolyte.adapters.aws_errors import AwsCallError, error_code
from hippolyte.adapters.executions import execution_status_reader
from hippolyte.adapters.ledger import CapacityLedger, LedgerEntry
from hippolyte.adapters.notification import publish_report
from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.errors import HippolyteError
from hippolyte.models import CapacityNote, RunProgress, RunRef
from hippolyte.report import section
from hippolyte.runtime import Runtime
from hippolyte.workflow.backup_freshness import current_freshness
from hippolyte.workflow.running_batches import stop_running_batches
from hippolyte.workflow.table_capacity import restore_table
from hippolyte.workflow.time_left import has_time_for_tables


class ReconcileReport(BaseModel):
    """What one reconcile pass did."""

    restored: list[str] = Field(default_factory=list)
    gone: list[CapacityNote] = Field(default_factory=list)
    pending: list[CapacityNote] = Field(default_factory=list)
    left_to_running_runs: list[str] = Field(default_factory=list)
    stopped_runs: list[str] = Field(default_factory=list)
    # Runs (or tables) left for the next pass because an AWS call failed, with the reason.
    skipped: list[CapacityNote] = Field(default_factory=list)
    # Tables the pass had no time left for before Lambda's timeout: the next hour's pass takes them.
    left_for_next_hour: list[str] = Field(default_factory=list)
    # The TablesWithoutFreshBackup metric, from the record the last runs left; None before any run
    # has reported (then there is nothing to count, and the alarm's missing data speaks).
    without_fresh_backup: int | None = None
    message_id: str | None = None


def _stop_dead_run(rt: Runtime, run_id: str, execution_id: str, started_at: datetime) -> bool:
    run = RunRef(run_id=run_id, execution_id=execution_id, bucket=rt.settings.backup_bucket, started_at=started_at)
    s3 = rt.client("s3")
    if not document_exists(s3, run, "progress"):
        return False
    # The started_at above is only used for paths; the stored progress knows the pipelines.
    progress = load_document(s3, run, "progress", RunProgress)
    if not any(state.status in ("boosting", "starting", "running", "pending") for state in progress.batches.values()):
        return False
    stop_running_batches(rt, run, progress, "the run ended without finishing (stopped, timed out or crashed)")
    save_document(s3, run, "progress", progress)
    return True


def reconcile_capacity(rt: Runtime) -> ReconcileReport:
    """One pass over the ledger's open records; notifies when it changed or found anything."""
    ledger = rt.ledger()
    status_of = execution_status_reader(rt.client("stepfunctions"))
    now = rt.clock()
    report = ReconcileReport()
    for entry in sorted(ledger.open_entries(), key=lambda e: (e.table_name, e.run_id)):
        # Restoring a table can wait for ACTIVE twice (its change, then an auto-scaled table's move).
        if not has_time_for_tables(rt, 2):
            report.left_for_next_hour.append(entry.table_name)
            continue
        try:
            _reconcile_entry(rt, ledger, entry, status_of(entry.execution_id), now, report)
        except (AwsCallError, HippolyteError) as error:
            # One run's trouble never blocks the others: it is reported and tried next hour.
            report.skipped.append(
                CapacityNote(
                    name=entry.table_name,
                    reason=f"run {entry.run_id} left for the next pass: {error_code(error)}: {error}",
                )
            )
    _release_leases_of_ended_runs(ledger, status_of, report)
    freshness = current_freshness(rt)
    report.without_fresh_backup = len(freshness.stale) if freshness is not None else None
    if (
        report.restored
        or report.pending
        or report.gone
        or report.stopped_runs
        or report.skipped
        or report.left_for_next_hour
    ):
        report.message_id = publish_report(rt.client("sns"), rt.settings.topic_arn, *render_reconcile(rt, report))
    return report


def _release_leases_of_ended_runs(
    ledger: CapacityLedger, status_of: Callable[[str], str], report: ReconcileReport
) -> None:
    """Give back the run leases of runs that ended without doing so (stopped, timed out, crashed)."""
    for lease in ledger.leases():
        try:
            ended = status_of(lease.holder_execution_id) != "RUNNING"
        except HippolyteError as error:
            if lease.table_name not in {note.name for note in report.skipped}:
                report.skipped.append(CapacityNote(name=lease.table_name, reason=f"lease kept for now: {error}"))
            continue
        if ended:
            ledger.release_lease(lease.table_name, lease.holder_run_id)


def _reconcile_entry(
    rt: Runtime, ledger: CapacityLedger, entry: LedgerEntry, status: str, now: datetime, report: ReconcileReport
) -> None:
    """Restore one open ledger record, unless its run still runs or DynamoDB asks to wait."""
    running = status == "RUNNING"
    if running and entry.status != "pending":
        report.left_to_running_runs.append(entry.table_name)
        return
    if entry.status == "pending" and entry.retry_after is not None and entry.retry_after > now:
        report.pending.append(CapacityNote(name=entry.table_name, reason=entry.reason, retry_after=entry.retry_after))
        return
    if (
        not running
        and entry.run_id not in report.stopped_runs
        and _stop_dead_run(rt, entry.run_id, entry.execution_id, entry.updated_at)
    ):
        report.stopped_runs.append(entry.run_id)
    result = restore_table(rt, ledger, entry, now)
    if result.kind == "restored":
        report.restored.append(entry.table_name)
    elif result.kind == "gone":
        report.gone.append(CapacityNote(name=entry.table_name, reason=result.reason))
    else:
        report.pending.append(CapacityNote(name=entry.table_name, reason=result.reason, retry_after=result.retry_after))


def render_reconcile(rt: Runtime, report: ReconcileReport) -> tuple[str, str]:
    """Subject and body of the reconcile notification."""
    subject = (
        f"Hippolyte {rt.settings.stage} {rt.region}: reconcile restored {len(report.restored)}, "
        f"{len(report.pending)} pending"
    )
    lines = section("Restored to original capacity", (f"  {name}" for name in report.restored))
    lines += section(
        "Still pending",
        (
            f"  {note.name}: {note.reason}"
            + (f"; next try after {note.retry_after.isoformat()}" if note.retry_after else "")
            for note in report.pending
        ),
    )
    if report.gone:
        lines += section(
            "No longer restorable (recorded, not touched)", (f"  {n.name}: {n.reason}" for n in report.gone)
        )
    if report.skipped:
        lines += section(
            "Left for the next pass (an AWS call failed)", (f"  {n.name}: {n.reason}" for n in report.skipped)
        )
    if report.left_for_next_hour:
        lines += section(
            "Left for the next hour (this pass ran out of time)",
            (f"  {name}" for name in report.left_for_next_hour),
        )
    if report.stopped_runs:
        lines += section(
            "Runs that ended without finishing (their pipelines were stopped)",
            (f"  {run}" for run in report.stopped_runs),
        )
    return subject[:99], "\n".join(lines)
