"""How fresh each table's newest verified backup is, and which tables have none fresh enough.

Pure: the tables that should be backed up (what discovery's rules select), the time of each one's
newest *verified* backup, and ``now`` from the caller's clock go in; a sorted answer comes out.
``hippolyte freshness`` prints it; the same answer can give a TablesWithoutFreshBackup metric.

A table is *stale* when it has no verified backup, or when its newest one is older than the limit
(a backup exactly as old as the limit is still fresh). Stale tables come first, those without any
verified backup before those whose backup is old, oldest first, so the worst is on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, computed_field

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
