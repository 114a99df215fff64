"""DiscoverTables: validate the input and configuration, list the account's tables, apply the filters.

It works in pages, as many invocations as the tables need (see hippolyte.discovery_pages).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from hippolyte.adapters.executions import execution_status_reader
from hippolyte.adapters.rate_limit import RateLimiter
from hippolyte.adapters.run_store import load_stored, save_document
from hippolyte.adapters.tables import enable_point_in_time_recovery, list_table_names, read_table
from hippolyte.discovery import DiscoveryRules, missing_tables, split_selected
from hippolyte.discovery_pages import (
    TABLES_BURST,
    TABLES_PER_SECOND,
    TABLES_PER_STEP,
    DescribedTable,
    DiscoveryState,
    DiscoveryUnfinished,
    step_seconds,
)
from hippolyte.engine_costs import choose_engine
from hippolyte.errors import (
    ExecutionStatusUnknownError,
    InvalidExecutionInputError,
    RunAlreadyRunningError,
    RunDocumentMissingError,
    UnknownTableError,
)
from hippolyte.history_budget import BACKUP_TIMEOUT_SECONDS
from hippolyte.models import (
    DEFAULT_MAX_EXTRA_RCU,
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
# The run's document holding discovery's pages (see hippolyte.discovery_pages).
DISCOVERY_DOCUMENT = "discovery"
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


def _choose_engine(rt: Runtime, snapshot: TableSnapshot) -> TableSnapshot:
    """The auto engine's choice for one table (:func:`hippolyte.engine_costs.choose_engine`),
    priced with the stack's planner settings and MaxExtraRcu's budget (the default account's when
    it is empty: the account's limits are read later, by PlanBatches)."""
    settings = rt.settings
    budget = settings.max_extra_rcu if settings.max_extra_rcu is not None else DEFAULT_MAX_EXTRA_RCU
    return choose_engine(snapshot, settings.planner_settings(budget), settings.enable_pitr)


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
    for held in ledger.take_leases(names, run.run_id, run.execution_id, until):
        name, lease = held.table_name, held
        if held.holder_run_id != run.run_id and _has_ended(status_of, held.holder_execution_id):
            # Its holder was stopped, timed out or crashed before giving it back.
            lease = ledger.take_over_lease(name, held.holder_run_id, run.run_id, run.execution_id, until)
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
        ledger.release_leases(mine, run.run_id)
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
) -> RunContext | DiscoveryUnfinished:
    """One page of discovery: the run's context once its inventory is written, else what is left.

    The first page validates the input and lists the tables; each page then describes, and later
    leases, the tables it has time for, and stores its work in the run's ``discovery`` document
    before it returns. A page invoked again (the state machine's loop, or a retry of a page whose
    answer was lost) carries on from that document, redoing nothing a page saved.
    """
    run = RunRef(
        run_id=execution_name, execution_id=execution_id, bucket=rt.settings.backup_bucket, started_at=started_at
    )
    s3 = rt.client("s3")
    state = load_stored(s3, run.bucket, run.key(DISCOVERY_DOCUMENT), DiscoveryState)
    if state is None:
        if isinstance(raw_input, dict) and "tables_left" in raw_input:
            raise RunDocumentMissingError(f"s3://{run.bucket}/{run.key(DISCOVERY_DOCUMENT)} does not exist")
        state = _first_page(rt, raw_input)
    if not state.done:
        described = _describe_page(rt, state)
        if not state.to_describe:
            _lease_page(rt, run, state, forced_step=not described)
        if state.tables_left():
            save_document(s3, run, DISCOVERY_DOCUMENT, state)
            return DiscoveryUnfinished(run=run, poll_seconds=state.poll_seconds, tables_left=state.tables_left())
        _write_inventory(rt, run, state)
        state.done = True
        save_document(s3, run, DISCOVERY_DOCUMENT, state)
    return RunContext(run=run, poll_seconds=state.poll_seconds)


def _first_page(rt: Runtime, raw_input: Any) -> DiscoveryState:
    """Validate the execution input and name the tables to describe (ListTables, 100 a page)."""
    request = parse_execution_input(raw_input)
    named = request.tables
    names = list(named) if named is not None else list(list_table_names(rt.client("dynamodb")))
    return DiscoveryState(whole_account=request.tables is None, poll_seconds=request.poll_seconds, to_describe=names)


def _describe_page(rt: Runtime, state: DiscoveryState) -> bool:
    """Describe tables, a step at a time, while the invocation has time for another step.

    Returns whether it described any (the page's first step goes ahead whatever the time).
    """
    if not state.to_describe:
        return False
    dynamodb = rt.client("dynamodb")
    limiter = RateLimiter(TABLES_PER_SECOND, TABLES_BURST, rt.clock, rt.sleep)
    pitr_limiter = RateLimiter(TABLES_PER_SECOND, TABLES_BURST, rt.clock, rt.sleep)

    def read(name: str) -> tuple[TableSnapshot, dict[str, str]] | None:
        # The metered calls are paced themselves: answers to DescribeTable that come back at
        # different speeds would otherwise bunch the calls that follow them.
        return read_table(dynamodb, name, rt.settings.engine, pace_tags=limiter.acquire, pace_pitr=pitr_limiter.acquire)

    with ThreadPoolExecutor(max_workers=DESCRIBE_WORKERS) as pool:
        # The first step goes ahead whatever the time: every page moves the loop on, so a timeout
        # set too short ends in Lambda's timeout error rather than a loop that never ends.
        first = True
        while state.to_describe and (first or rt.has_time_for(step_seconds())):
            first = False
            step = state.to_describe[:TABLES_PER_STEP]
            for name, found in zip(step, pool.map(read, step), strict=True):
                state.described.append(
                    DescribedTable(name=name, snapshot=found[0] if found else None, tags=found[1] if found else {})
                )
            del state.to_describe[: len(step)]
    return True


def _choose(rt: Runtime, state: DiscoveryState) -> None:
    """Once every table is described: apply the filters (or check the named tables exist)."""
    found = {table.name: table for table in state.described if table.snapshot is not None}
    if not state.whole_account:
        names = [table.name for table in state.described]
        missing = missing_tables(names, found)
        if missing:
            raise UnknownTableError(f"execution input tables: no such table: {', '.join(missing)}")
        state.to_lease = names
        return
    tags = {name: table.tags for name, table in found.items()}
    rules = DiscoveryRules(
        exclude_patterns=tuple(rt.settings.exclude_patterns), always_backup=frozenset(rt.settings.always_backup)
    )
    selected, skipped = split_selected(tags, tags, rules)
    state.skipped += skipped
    state.skipped += [
        SkippedTable(name=table.name, reason="deleted before it could be described")
        for table in state.described
        if table.snapshot is None
    ]
    state.to_lease = selected


def _lease_page(rt: Runtime, run: RunRef, state: DiscoveryState, forced_step: bool) -> None:
    """Lease the chosen tables (and turn PITR on where needed), a step at a time.

    ``forced_step``: the page has done no step yet, so its first goes ahead whatever the time. A
    manual re-run leases all its tables at once: it is all or nothing (see :func:`_take_leases`),
    and a list a person typed is short.
    """
    if state.to_lease is None:
        _choose(rt, state)
    snapshots = {table.name: table.snapshot for table in state.described if table.snapshot is not None}
    while state.to_lease and (forced_step or not state.whole_account or rt.has_time_for(step_seconds())):
        forced_step = False
        step = state.to_lease if not state.whole_account else state.to_lease[:TABLES_PER_STEP]
        mine, leased_elsewhere = _take_leases(rt, run, step, manual=not state.whole_account)
        state.skipped += leased_elsewhere
        for name in mine:
            snapshot = _choose_engine(rt, snapshots[name])
            reason = _require_pitr(rt, snapshot)
            if reason:
                state.skipped.append(SkippedTable(name=name, reason=reason, expected=True))
            else:
                state.tables.append(
                    snapshot.model_copy(update={"pitr_enabled": snapshot.pitr_enabled or snapshot.engine == "export"})
                )
        del state.to_lease[: len(step)]


def _write_inventory(rt: Runtime, run: RunRef, state: DiscoveryState) -> None:
    """Write the run's inventory and its first progress document."""
    s3 = rt.client("s3")
    inventory = Inventory(
        tables=state.tables, skipped=sorted(state.skipped, key=lambda s: s.name), whole_account=state.whole_account
    )
    save_document(s3, run, "inventory", inventory)
    deadline = run.started_at + timedelta(seconds=rt.settings.window_seconds) + DEADLINE_GRACE
    save_document(s3, run, "progress", RunProgress(deadline=deadline))
