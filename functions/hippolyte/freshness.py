"""How fresh each table's newest verified backup is, and which tables have none fresh enough.

Pure: the tables that should be backed up (what discovery's rules select), the time of each one's
newest *verified* backup, and ``now`` from the caller's clock go in; a sorted answer comes out.
``hippolyte freshness`` prints it; NotifyResult, NotifyFailure and the hourly reconcile publish its
count as the TablesWithoutFreshBackup metric.

After each run, :func:`record_run` folds the run's outcomes into the :class:`FreshnessRecord` (each
expected table and the time of its newest verified backup), which the bucket keeps between runs:
the hourly reconcile reads it, so a night that never ran still makes every table stale.

A table is *stale* when it has no verified backup, or when its newest one is older than the limit
(a backup exactly as old as the limit is still fresh). Stale tables come first, those without any
verified backup before those whose backup is old, oldest first, so the worst is on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, computed_field

from hippolyte.models import Inventory, TableOutcome
from hippolyte.restore_plan import timestamp_of

# Nightly backups, plus two hours of slack for a night that started late or ran long: a table
# older than this missed a night.
DEFAULT_MAX_AGE_HOURS = 26.0


class TableFreshness(BaseModel):
    """One table: when its newest verified backup was made, how old it is, whether that is too old."""

    model_config = ConfigDict(frozen=True)

    table: str
    newest_backup: datetime | None
    # None when the table has no verified backup.
    age_seconds: float | None
    stale: bool


class Freshness(BaseModel):
    """Every table that should be backed up, stale ones first."""

    model_config = ConfigDict(frozen=True)

    now: datetime
    max_age_hours: float
    tables: list[TableFreshness]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stale(self) -> list[str]:
        """The tables without a verified backup younger than the limit, worst first."""
        return [entry.table for entry in self.tables if entry.stale]


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment


def assess_freshness(
    tables: Iterable[str],
    newest_backups: Mapping[str, datetime | None],
    now: datetime,
    max_age_hours: float = DEFAULT_MAX_AGE_HOURS,
) -> Freshness:
    """Each table's newest verified backup against ``now``; tables missing from ``newest_backups`` have none.

    >>> from datetime import UTC
    >>> now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    >>> result = assess_freshness(
    ...     ["orders", "carts", "prices"],
    ...     {"orders": datetime(2026, 11, 28, 0, 10, tzinfo=UTC), "carts": datetime(2026, 11, 26, 0, 10, tzinfo=UTC)},
    ...     now,
    ... )
    >>> result.stale
    ['prices', 'carts']
    >>> [(entry.table, entry.age_seconds) for entry in result.tables]
    [('prices', None), ('carts', 201000.0), ('orders', 28200.0)]
    """
    if max_age_hours <= 0:
        raise ValueError(f"the age limit must be positive, got {max_age_hours} hours")
    now = _aware(now, "now")
    limit = timedelta(hours=max_age_hours)
    entries: list[TableFreshness] = []
    for table in set(tables):
        newest = newest_backups.get(table)
        if newest is None:
            entries.append(TableFreshness(table=table, newest_backup=None, age_seconds=None, stale=True))
            continue
        # A backup stamped after now (another machine's clock) is as fresh as can be, not stale.
        age = now - _aware(newest, f"the newest backup of {table}")
        entries.append(
            TableFreshness(table=table, newest_backup=newest, age_seconds=age.total_seconds(), stale=age > limit)
        )
    entries.sort(
        key=lambda entry: (
            not entry.stale,
            entry.age_seconds is not None,
            -(entry.age_seconds or 0.0),
            entry.table,
        )
    )
    return Freshness(now=now, max_age_hours=max_age_hours, tables=entries)


class FreshnessRecord(BaseModel):
    """Every table that should be backed up, with the time of its newest verified backup (None: none known)."""

    # A newer version may add fields: an older reader ignores them.
    model_config = ConfigDict(extra="ignore")

    written_at: datetime
    newest_backups: dict[str, datetime | None] = Field(default_factory=dict)


def expected_tables(inventory: Inventory) -> list[str]:
    """The tables of a run that should have a fresh backup: those it backs up, and those left out for the night.

    Tables the rules exclude (a pattern, an opt-out tag) or that are gone do not count.
    """
    return sorted({table.name for table in inventory.tables} | {s.name for s in inventory.skipped if s.expected})


def backup_time(outcome: TableOutcome) -> datetime | None:
    """When a backed-up table's backup was made: its directory's name (``<table>/<YYYY-MM-DD-HH-MM-SS>/``).

    >>> backup_time(TableOutcome(name="t", status="backed_up", s3_path="s3://b/t/2026-11-28-00-10-05/")).isoformat()
    '2026-11-28T00:10:05+00:00'
    >>> backup_time(TableOutcome(name="t", status="failed")) is None
    True
    """
    if outcome.status != "backed_up" or not outcome.s3_path:
        return None
    return timestamp_of(outcome.s3_path.rstrip("/").rsplit("/", 1)[-1])


def record_run(
    previous: FreshnessRecord | None,
    inventory: Inventory,
    outcomes: Iterable[TableOutcome],
    now: datetime,
    *,
    whole_account: bool,
    found: Mapping[str, datetime | None] | None = None,
) -> FreshnessRecord:
    """The record after one run.

    A run over the whole account decides which tables are expected (a table dropped from the
    account, or excluded since, stops counting); a re-run of named tables only updates those. A
    table backed up by the run takes its backup's time; any other keeps what the record knew, or
    what ``found`` says (the newest verified backup read from the bucket, for a table the record
    does not know yet). A time never moves backwards.
    """
    known = dict(previous.newest_backups) if previous is not None else {}
    expected = expected_tables(inventory)
    tables = set(expected) if whole_account else set(known) | set(expected)
    made = {outcome.name: time for outcome in outcomes if (time := backup_time(outcome)) is not None}
    newest: dict[str, datetime | None] = {}
    for table in sorted(tables):
        candidates = [t for t in (known.get(table), (found or {}).get(table), made.get(table)) if t is not None]
        newest[table] = max(candidates) if candidates else None
    return FreshnessRecord(written_at=_aware(now, "now"), newest_backups=newest)


def assess_record(record: FreshnessRecord, now: datetime, max_age_hours: float = DEFAULT_MAX_AGE_HOURS) -> Freshness:
    """The record's tables against ``now``: how fresh each one's newest verified backup is."""
    return assess_freshness(record.newest_backups, record.newest_backups, now, max_age_hours)
