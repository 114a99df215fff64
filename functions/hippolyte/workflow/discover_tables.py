"""DiscoverTables: validate the input and configuration, list the account's tables, apply the filters."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hippolyte.adapters.executions import execution_status_reader
from hippolyte.adapters.run_store import save_document
from hippolyte.adapters.tables import enable_point_in_time_recovery, list_table_names, read_table
from hippolyte.discovery import DiscoveryRules, missing_tables, split_selected
from hippolyte.errors import (
    ExecutionStatusUnknownError,
    InvalidExecutionInputError,
    RunAlreadyRunningError,
    UnknownTableError,
)
from hippolyte.history_budget import BACKUP_TIMEOUT_SECONDS
from hippolyte.models import (
    ExecutionInput,
    Inventory,
    RunContext,
    RunProgress,
    RunRef,
    SkippedTable,
    TableSnapshot,
    first_error,
)
from hippolyte.runtime import Runtime

DESCRIBE_WORKERS = 8
# The deadline after which nothing new starts and running pipelines are stopped: the window plus
# one hour for the last exports to finish. The EMR clusters terminate themselves soon after.
DEADLINE_GRACE = timedelta(hours=1)


def parse_execution_input(raw: Any) -> ExecutionInput:
    """Validate the execution input; the error names the field at fault."""
    try:
        return ExecutionInput.model_validate(raw if raw is not None else {})
    except ValidationError as error:
        field, message = first_error(error)
        raise InvalidExecutionInputError(f"execution input {field}: {message}") from None


def _read_all(rt: Runtime, names: list[str]) -> list[tuple[str, tuple[TableSnapshot, dict[str, str]] | None]]:
    dynamodb = rt.client("dynamodb")
    with ThreadPoolExecutor(max_workers=DESCRIBE_WORKERS) as pool:
        found = pool.map(lambda name: read_table(dynamodb, name, rt.settings.engine), names)
        return list(zip(names, found, strict=True))


def _require_pitr(rt: Runtime, snapshot: TableSnapshot) -> str | None:
    """For the export engine: turn PITR on where allowed; otherwise the reason to skip."""
    if snapshot.engine != "export" or snapshot.pitr_enabled:
        return None
    if not rt.settings.enable_pitr:
        return "the export engine needs point-in-time recovery, which is off (set EnablePitr to turn it on)"
    enable_point_in_time_recovery(rt.client("dynamodb"), snapshot.name)
    return None


def lease_until(started_at: datetime) -> datetime:
    """When a run's leases run out: its execution has surely ended by then (its timeout, plus an hour)."""
    return started_at + timedelta(seconds=BACKUP_TIMEOUT_SECONDS) + timedelta(hours=1)


def _take_leases(rt: Runtime, run: RunRef, names: list[str], manual: bool) -> tuple[list[str], list[SkippedTable]]:
    """Take each table's run lease; tables another live run holds are left out, with the reason.

    A manual re-run that names a table another run holds is refused instead (RunAlreadyRunningError),
    giving back what it took, so that it changes nothing.
    """
    ledger = rt.ledger()
    until = lease_until(run.started_at)
    status_of = execution_status_reader(rt.client("stepfunctions"))
    mine: list[str] = []
    others: list[SkippedTable] = []
    for name in names:
        lease = ledger.take_lease(name, run.run_id, run.execution_id, until)
        if lease.holder_run_id != run.run_id and _has_ended(status_of, lease.holder_execution_id):
            # Its holder was stopped, timed out or crashed before giving it back.
            lease = ledger.take_over_lease(name, lease.holder_run_id, run.run_id, run.execution_id, until)
        if lease.holder_run_id == run.run_id:
            mine.append(name)
        else:
            others.append(
                SkippedTable(
                    name=name,
                    expected=True,
                    reason=f"run {lease.holder_run_id} is backing it up now (its lease runs until "
                    f"{lease.until.isoformat()}); left out so that two runs never change its capacity",
                )
            )
    if manual and others:
        for name in mine:
            ledger.release_lease(name, run.run_id)
        raise RunAlreadyRunningError("execution input tables: " + "; ".join(f"{s.name}: {s.reason}" for s in others))
    return mine, others


def _has_ended(status_of: Callable[[str], str], execution_id: str) -> bool:
    """True when the execution surely no longer runs; an unreadable status counts as running."""
    try:
        return status_of(execution_id) != "RUNNING"
    except ExecutionStatusUnknownError:
        return False


def discover_tables(
    rt: Runtime, raw_input: Any, execution_id: str, execution_name: str, started_at: datetime
) -> RunContext:
    """Write the run's inventory to S3 and return the context the next states carry."""
    request = parse_execution_input(raw_input)
    run = RunRef(
        run_id=execution_name, execution_id=execution_id, bucket=rt.settings.backup_bucket, started_at=started_at
    )
    if request.tables is not None:
        described = _read_all(rt, list(request.tables))
        missing = missing_tables(request.tables, [name for name, found in described if found is not None])
        if missing:
            raise UnknownTableError(f"execution input tables: no such table: {', '.join(missing)}")
        selected, skipped = list(request.tables), list[SkippedTable]()
    else:
        names = list(list_table_names(rt.client("dynamodb")))
        described = _read_all(rt, names)
        tags = {name: found[1] for name, found in described if found is not None}
        rules = DiscoveryRules(
            exclude_patterns=tuple(rt.settings.exclude_patterns), always_backup=frozenset(rt.settings.always_backup)
        )
        selected, skipped = split_selected(tags, tags, rules)
        skipped += [
            SkippedTable(name=name, reason="deleted before it could be described")
            for name, found in described
            if found is None
        ]
    by_name = {name: found[0] for name, found in described if found is not None}
    selected, leased_elsewhere = _take_leases(rt, run, selected, manual=request.tables is not None)
    skipped += leased_elsewhere
    tables: list[TableSnapshot] = []
    for name in selected:
        reason = _require_pitr(rt, by_name[name])
        if reason:
            skipped.append(SkippedTable(name=name, reason=reason, expected=True))
        else:
            tables.append(by_name[name].model_copy(update={"pitr_enabled": by_name[name].engine == "export"}))
    s3 = rt.client("s3")
    inventory = Inventory(
        tables=tables, skipped=sorted(skipped, key=lambda s: s.name), whole_account=request.tables is None
    )
    save_document(s3, run, "inventory", inventory)
    progress = RunProgress(deadline=started_at + timedelta(seconds=rt.settings.window_seconds) + DEADLINE_GRACE)
    save_document(s3, run, "progress", progress)
    return RunContext(run=run, poll_seconds=request.poll_seconds)
