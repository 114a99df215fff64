"""Discovery in pages: what DiscoverTables keeps between its invocations, and how much fits in one.

At 10,000 tables, describing each one (DescribeTable, ListTagsOfResource) at a safe share of
ListTagsOfResource's account rate of 10 a second takes about 2,500 s, far past Lambda's 900 s
limit. So DiscoverTables works in pages: each invocation describes, then leases, the tables it has
time for, stores what it found in the run's ``discovery`` document and returns
:class:`DiscoveryUnfinished`; the state machine invokes it again until it returns the run's
context. Pure: no AWS calls.
"""

from __future__ import annotations

from pydantic import Field

from hippolyte.call_rate import seconds_for
from hippolyte.models import Model, RunRef, SkippedTable, TableSnapshot

# The account allows ListTagsOfResource 10 times a second (DynamoDB API reference, per operation;
# "Service, account, and table quotas"); reading a table takes one call per page of its tags (one
# for nearly every table), and each page is paced. DescribeTable's share of
# about 2,500/s is no limit here, and DescribeContinuousBackups (10/s too) is called only for the
# tables the export engine backs up or the auto engine chooses for, paced on its own at the same
# rate (the two are metered apart). We take 4 calls a second: the 10/s is the whole account's,
# and at 4 the account's other tools keep more than half of it (a measured night of 10,000 tables
# keeps 2.5x headroom: bench/results/scale.md). Every reader of tables' tags in a night (discovery,
# the backup manifests) keeps to this rate.
TABLES_PER_SECOND = 4.0
TABLES_BURST = 4.0
# Tables one step of the loop describes (or leases) before the invocation checks its time again.
TABLES_PER_STEP = 40
# An invocation starts a step only with twice the step's time at the rate in hand: a step's own
# calls (the lease, turning PITR on) and slow answers take time beyond the rate's.
STEP_SAFETY = 2.0


def step_seconds(tables: int = TABLES_PER_STEP) -> float:
    """The time an invocation keeps in hand to start one step of ``tables`` tables.

    >>> step_seconds(40)
    20.0
    """
    return seconds_for(tables, TABLES_PER_SECOND) * STEP_SAFETY


class DescribedTable(Model):
    """One table as a page described it: its snapshot and tags, or None when it is gone."""

    name: str
    snapshot: TableSnapshot | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class DiscoveryState(Model):
    """The run's ``discovery`` document: what the pages so far found, and what is left.

    Tables move from ``to_describe`` to ``described``; once none is left, the chosen ones are put
    in ``to_lease`` (the filters and the unknown-table check run once, on the whole list), and move
    from there to ``tables`` (leased, ready) or ``skipped``. ``done`` once the inventory is written.
    """

    whole_account: bool
    poll_seconds: int
    to_describe: list[str] = Field(default_factory=list)
    described: list[DescribedTable] = Field(default_factory=list)
    to_lease: list[str] | None = None
    tables: list[TableSnapshot] = Field(default_factory=list)
    skipped: list[SkippedTable] = Field(default_factory=list)
    done: bool = False

    def tables_left(self) -> int:
        """How many tables still wait to be described or leased.

        >>> DiscoveryState(whole_account=True, poll_seconds=60, to_describe=["a"], to_lease=["b"]).tables_left()
        2
        """
        return len(self.to_describe) + len(self.to_lease or [])


class DiscoveryUnfinished(Model):
    """What DiscoverTables returns while tables are left: the state machine invokes it again."""

    run: RunRef
    poll_seconds: int
    # Its presence is what the state machine's Choice reads; the count is for people reading the history.
    tables_left: int
