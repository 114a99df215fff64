"""Which tables a run backs up: the stack's filters applied to what the account holds.

Pure rules, no AWS calls. The order of precedence, strongest first:

1. A manual run's ``tables`` list backs up exactly those tables, whatever the filters say: a
   person asked for them by name.
2. ``ALWAYS_BACKUP`` names tables that are backed up even when an exclude pattern or a tag
   would skip them (the platform team's compliance list beats an application team's tag).
3. The table tag ``hippolyte:backup = false`` opts a table out.
4. ``EXCLUDE_PATTERNS`` are regular expressions matched against the whole name (anchored, as in
   the 2017 tool).

A table reporting size 0 is still backed up: DynamoDB refreshes TableSizeBytes only about every
six hours, so a table created today may hold data while reporting 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from hippolyte.models import SkippedTable
from hippolyte.table_description import BACKUP_TAG


class DiscoveryRules(BaseModel):
    """The stack's filters."""

    model_config = ConfigDict(frozen=True)

    exclude_patterns: tuple[str, ...] = ()
    always_backup: frozenset[str] = frozenset()

    def excluded_by(self, name: str) -> str | None:
        """The first exclude pattern matching the whole name, if any.

        >>> DiscoveryRules(exclude_patterns=("tmp-.*",)).excluded_by("tmp-1")
        'tmp-.*'
        >>> DiscoveryRules(exclude_patterns=("tmp",)).excluded_by("tmp-1") is None
        True
        """
        for pattern in self.exclude_patterns:
            if re.fullmatch(pattern, name):
                return pattern
        return None


def skip_reason(name: str, tags: Mapping[str, str], rules: DiscoveryRules) -> str | None:
    """Why a discovered table is not backed up tonight, or None when it is.

    >>> skip_reason("orders", {"hippolyte:backup": "false"}, DiscoveryRules())
    'opted out by tag hippolyte:backup=false'
    >>> skip_reason("orders", {"hippolyte:backup": "false"}, DiscoveryRules(always_backup={"orders"})) is None
    True
    """
    if name in rules.always_backup:
        return None
    if tags.get(BACKUP_TAG, "").strip().lower() == "false":
        return f"opted out by tag {BACKUP_TAG}=false"
    pattern = rules.excluded_by(name)
    if pattern is not None:
        return f"excluded by pattern {pattern!r}"
    return None


def missing_tables(requested: Sequence[str], existing: Iterable[str]) -> list[str]:
    """Requested names that are not tables of the account, in the order asked.

    >>> missing_tables(["a", "b"], ["b"])
    ['a']
    """
    present = set(existing)
    return [name for name in requested if name not in present]


def split_selected(
    names: Iterable[str], tags_by_name: Mapping[str, Mapping[str, str]], rules: DiscoveryRules
) -> tuple[list[str], list[SkippedTable]]:
    """Divide the discovered tables into those to back up and those skipped, with the reason."""
    selected: list[str] = []
    skipped: list[SkippedTable] = []
    for name in sorted(names):
        reason = skip_reason(name, tags_by_name.get(name, {}), rules)
        if reason is None:
            selected.append(name)
        else:
            skipped.append(SkippedTable(name=name, reason=reason))
    return selected, skipped
