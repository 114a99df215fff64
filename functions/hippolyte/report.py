"""The night's report: one message listing every table, and the run's outcome.

Pure. Every table the run discovered appears exactly once: backed up (S3 path, items, bytes),
failed (reason) or skipped (reason). A table that somehow has no outcome is reported failed with
that fact as its reason, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from hippolyte.freshness import Freshness, TableFreshness
from hippolyte.models import CapacityNote, Inventory, RunProgress, RunReport, TableOutcome

SUBJECT_LIMIT = 100  # SNS: subjects must be under 100 characters


def final_outcomes(inventory: Inventory | None, progress: RunProgress) -> list[TableOutcome]:
    """Every table's outcome, sorted by name: tables without one are failed, with the reason.
    Each names its engine's reason, from the inventory."""
    outcomes = dict(progress.outcomes)
    if inventory is not None:
        reasons = {table.name: table.engine_reason for table in inventory.tables}
        outcomes = {
            name: outcome.model_copy(update={"engine_reason": reasons.get(name, "")})
            if outcome.status != "skipped"
            else outcome
            for name, outcome in outcomes.items()
        }
        for skipped in inventory.skipped:
            outcomes.setdefault(skipped.name, TableOutcome(name=skipped.name, status="skipped", reason=skipped.reason))
        for table in inventory.tables:
            outcomes.setdefault(
                table.name,
                TableOutcome(
                    name=table.name,
                    status="failed",
                    reason="the run ended before this table's backup",
                    engine=table.engine,
                ),
            )
    return sorted(outcomes.values(), key=lambda outcome: outcome.name)


def _size(num_bytes: int | None) -> str:
    """Human-readable bytes.

    >>> _size(1536)
    '1.5 KiB'
    """
    if num_bytes is None:
        return "?"
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover


def section(title: str, lines: Iterable[str]) -> list[str]:
    """A titled list with its count, or 'none'.

    >>> section("Failed", [])
    ['Failed (0)', '  none', '']
    """
    body = list(lines)
    return [f"{title} ({len(body)})", *(body or ["  none"]), ""]


def render_report(
    *,
    account: str,
    region: str,
    stage: str,
    run_id: str,
    outcomes: list[TableOutcome],
    capacity_pending: dict[str, CapacityNote],
    notes: list[str],
    error: str | None = None,
    freshness: Freshness | None = None,
) -> tuple[RunReport, str]:
    """The report's summary and the email body."""
    backed_up = [o for o in outcomes if o.status == "backed_up"]
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    succeeded = not failed and error is None
    outcome = "SUCCEEDED" if succeeded else "FAILED"
    subject = (f"Hippolyte {stage} {account} {region}: backup {outcome}, {len(backed_up)} ok, {len(failed)} failed")[
        : SUBJECT_LIMIT - 1
    ]
    lines = [f"Run {run_id} in account {account}, region {region}, stage {stage}: {outcome}", ""]
    if error:
        lines += ["The run itself failed:", f"  {error}", ""]
    lines += section("Failed", (f"  {o.name}: {o.reason}" for o in failed))
    stale = [entry for entry in freshness.tables if entry.stale] if freshness is not None else []
    if freshness is not None:
        lines += section(
            f"Without a verified backup from the last {freshness.max_age_hours:g} hours",
            (f"  {entry.table}: {_age(entry)}" for entry in stale),
        )
    lines += section(
        "Capacity not back to its original yet",
        (
            f"  {note.name}: {note.reason}"
            + (f"; reconcile retries after {note.retry_after.isoformat()}" if note.retry_after else "")
            for note in sorted(capacity_pending.values(), key=lambda n: n.name)
        ),
    )
    lines += section(
        "Backed up",
        (
            f"  {o.name}: {o.s3_path} ({o.engine}{'; ' + o.engine_reason if o.engine_reason else ''}; "
            f"{o.items if o.items is not None else '?'} items, {_size(o.bytes)})"
            for o in backed_up
        ),
    )
    lines += section("Skipped", (f"  {o.name}: {o.reason}" for o in skipped))
    if notes:
        lines += section("Notes", (f"  {note}" for note in notes))
    report = RunReport(
        subject=subject,
        outcome=outcome,
        backed_up=len(backed_up),
        failed=len(failed),
        skipped=len(skipped),
        capacity_pending=len(capacity_pending),
        without_fresh_backup=len(stale) if freshness is not None else None,
    )
    return report, "\n".join(lines)


def _age(entry: TableFreshness) -> str:
    """A stale table's newest verified backup, for people.

    >>> from datetime import UTC, datetime
    >>> _age(TableFreshness(table="t", newest_backup=None, age_seconds=None, stale=True))
    'no verified backup'
    >>> newest = datetime(2026, 11, 26, tzinfo=UTC)
    >>> _age(TableFreshness(table="t", newest_backup=newest, age_seconds=180000, stale=True))
    'newest verified backup 50 h old (2026-11-26T00:00:00+00:00)'
    """
    if entry.newest_backup is None or entry.age_seconds is None:
        return "no verified backup"
    return f"newest verified backup {entry.age_seconds / 3600:.0f} h old ({entry.newest_backup.isoformat()})"


def execution_console_url(region: str, execution_arn: str) -> str:
    """The Step Functions console's page of one execution: its graph, events and input.

    >>> execution_console_url("eu-west-1", "<execution ARN>")
    'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/<execution ARN>'
    """
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
