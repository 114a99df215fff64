"""Hippolyte's own planner (ocadotechnology/hippolyte, 2017), re-implemented to compare against.

Faithful to ``pipeline_scheduler.Scheduler.build_parameters`` and
``dynamodb_booster.DynamoDbBooster._boost_single_pipeline`` with ``utils.compute_required_throughput``:

- every table's duration is ``size / (RCU x 0.5 x bytes per RCU-second) + 60 s``; tables of size 0
  are skipped;
- tables are sorted by duration, ascending, and filled in that order (next-fit): a pipeline starts
  at the 600 s EMR bootstrap and closes at 32 tables, or when the next table would bring it to
  the limit (``>=``);
- a pipeline whose summed read time is over the limit less its bootstraps is boosted as a whole:
  each table gets ``RCU x (ratio + 1)`` with ``ratio = pipeline read time / 3300 s`` and
  ``percent = 1 - max(RCU / new RCU, 0.01)``, rounded to 2 decimals; the new RCU is capped at
  ``min(1000, TableMaxReadCapacityUnits)`` and the percent is not recomputed after the cap (so a
  table above 1,000 RCU is even lowered to 1,000);
- there is no pipeline limit, so every pipeline starts at once, and no budget of extra RCU.

What is not the 2017 code, so that both planners are measured by the same ruler:

- the rate (``bytes_per_rcu_second``) and the limit (the window) are the ones given to Hippolyte
  (2017 used 4,096 B/s and 12 h);
- 2017 divided by zero on on-demand tables (``ReadCapacityUnits`` 0): here they are estimated at
  the same assumed rate as Hippolyte's and never boosted;
- zero-size tables are reported as skipped, as 2017 logged them;
- boosts are costed as Hippolyte's are, held from the batch's start to the table's end (2017
  lowered them only at the next hourly monitor run after the whole pipeline finished, which
  would cost it more).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from hippolyte.models import (
    Batch,
    FlaggedTable,
    Plan,
    PlannedTable,
    PlannerSettings,
    SkippedTable,
    TableSnapshot,
)
from hippolyte.planning import estimate_cost, peak_extra_rcu

# ocadotechnology/hippolyte, hippolyte/utils.py
MAX_TABLES_PER_PIPELINE = 32
MAX_ALLOWED_PROVISIONED_READ_THROUGHPUT = 1000
MAX_DURATION_SINGLE_PIPELINE = 3300  # the boost's target, "less than 1h"
INITIAL_READ_THROUGHPUT_PERCENT = 0.5


def compute_required_throughput(
    estimated_duration: float,
    target_duration: float,
    read_capacity_units: int,
    read_throughput_percent: float,
) -> tuple[int, float]:
    """2017's ``utils.compute_required_throughput`` (``read_throughput_percent`` unused, as there).

    >>> compute_required_throughput(36000, 3300, 100, 0.5)
    (1191, 0.92)
    """
    ratio = estimated_duration / float(target_duration)
    new_read_capacity_units = read_capacity_units * (ratio + 1)
    new_read_throughput_percent = float(read_capacity_units) / new_read_capacity_units
    new_read_throughput_percent = 1 - max(new_read_throughput_percent, 0.01)
    return round(new_read_capacity_units), round(new_read_throughput_percent, 2)


def plan_2017(tables: Sequence[TableSnapshot], settings: PlannerSettings) -> Plan:
    """Plan the night as Hippolyte did in 2017, as a :class:`Plan` costed like Hippolyte's.

    >>> plan = plan_2017([TableSnapshot(name="big", read_capacity_units=100, size_bytes=10 * 2**30)],
    ...                  PlannerSettings(window_seconds=12 * 3600, bytes_per_rcu_second=4096))
    >>> t = plan.batches[0].tables[0]
    >>> application_keeps = round(t.read_capacity_units * (1 - t.read_throughput_percent))
    >>> t.read_capacity_units, t.read_throughput_percent, application_keeps
    (1000, 0.94, 60)
    """
    boot = settings.emr_bootstrap_seconds
    act = settings.activity_bootstrap_seconds
    limit = settings.window_seconds
    percent = INITIAL_READ_THROUGHPUT_PERCENT
    bps = settings.bytes_per_rcu_second
    table_cap = min(MAX_ALLOWED_PROVISIONED_READ_THROUGHPUT, settings.table_max_rcu)

    def rcu_of(table: TableSnapshot) -> int:
        return settings.on_demand_assumed_rcu if table.on_demand else table.read_capacity_units

    def read_seconds(table: TableSnapshot, rcu: float, pct: float) -> float:
        return table.size_bytes / (rcu * pct * bps)

    skipped = [SkippedTable(name=t.name, reason="appears to be empty") for t in tables if not t.size_bytes]
    # Python's sort is stable: equal durations keep the inventory's order, as in 2017.
    durations = sorted(
        ((t, read_seconds(t, rcu_of(t), percent) + act) for t in tables if t.size_bytes), key=lambda x: x[1]
    )
    groups: list[list[TableSnapshot]] = []
    current: list[TableSnapshot] = []
    total: float = boot
    for index, (table, duration) in enumerate(durations):
        total += duration
        current.append(table)
        more = index + 1 < len(durations)
        if more and (total + durations[index + 1][1] >= limit or len(current) >= MAX_TABLES_PER_PIPELINE):
            more = False
        if not more:
            groups.append(current)
            current, total = [], float(boot)

    batches = []
    for number, group in enumerate(groups, start=1):
        reads = [read_seconds(t, rcu_of(t), percent) for t in group]
        max_backup = limit - (boot + act * len(group))
        total_backup = sum(reads)
        boost = total_backup > max_backup
        planned = []
        offset = boot
        for table, read in zip(group, reads, strict=True):
            rcu, pct = rcu_of(table), percent
            if boost and not table.on_demand:
                target = read * MAX_DURATION_SINGLE_PIPELINE / total_backup
                rcu, pct = compute_required_throughput(read, target, table.read_capacity_units, percent)
                rcu = min(rcu, table_cap)
            seconds = act + math.ceil(read_seconds(table, rcu, pct))
            planned.append(
                PlannedTable(
                    name=table.name,
                    size_bytes=table.size_bytes,
                    on_demand=table.on_demand,
                    original_read_capacity_units=0 if table.on_demand else table.read_capacity_units,
                    read_capacity_units=rcu,
                    read_throughput_percent=pct,
                    start_offset_seconds=offset,
                    estimated_seconds=seconds,
                )
            )
            offset += seconds
        batches.append(Batch(id=f"b{number:04d}", start_seconds=0, estimated_seconds=offset, tables=planned))

    flagged = [
        FlaggedTable(name=t.name, reason="ends past the window")
        for b in batches
        for t in b.tables
        if t.start_offset_seconds + t.estimated_seconds > limit
    ]
    return Plan(
        batches=batches,
        window_seconds=limit,
        bytes_per_rcu_second=bps,
        emr_bootstrap_seconds=boot,
        activity_bootstrap_seconds=act,
        max_extra_rcu=settings.max_extra_rcu,
        max_concurrent_pipelines=max(1, len(batches)),
        peak_extra_rcu=peak_extra_rcu(batches),
        flagged=flagged,
        skipped=skipped,
        cost=estimate_cost(batches, settings.prices),
    )
