"""Each table's read share for the export tool, from the capacity the table really has when its export starts.

Used when a pipeline is defined (CreatePipeline) and when the emr engine adds a table's step
(CreatePipeline for a cluster's first steps, AddExportSteps for the later ones).
"""

from __future__ import annotations

from collections.abc import Sequence

from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.adapters.tables import describe_table
from hippolyte.capacity import safe_read_percent
from hippolyte.models import PlannedTable, RunRef
from hippolyte.runtime import Runtime


def read_percents(
    rt: Runtime, ledger: CapacityLedger | None, run: RunRef, tables: Sequence[PlannedTable]
) -> dict[str, float]:
    """Each table's read percentage for the capacity it really has now (boost applied or not).

    A table that is on-demand now (planned so, or switched since) is read at no more than the
    on-demand share: the export tool reads it as if it had 40,000 RCU, whatever the plan assumed.
    """
    dynamodb = rt.client("dynamodb")
    percents: dict[str, float] = {}
    for table in tables:
        live = describe_table(dynamodb, table.name)
        if table.on_demand or (live or {}).get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
            percents[table.name] = safe_read_percent(
                0, 0, table.read_throughput_percent, rt.settings.on_demand_read_throughput_percent
            )
            continue
        current = (live or {}).get("ProvisionedThroughput", {}).get("ReadCapacityUnits", 0)
        entry = ledger.get(table.name, run.run_id) if ledger is not None and table.boosted else None
        # Without a ledger record the boost never happened: the table is read at the default share.
        original = entry.original.read_capacity_units if entry else current
        percents[table.name] = safe_read_percent(
            original, current, table.read_throughput_percent, rt.settings.read_throughput_percent
        )
    return percents
