"""The native export engine in the plan: its tables never get read capacity raised."""

from __future__ import annotations

from hippolyte.models import PlannerSettings, TableSnapshot
from hippolyte.planning import plan_batches

GIB = 1024**3


def test_a_table_too_slow_for_the_window_is_boosted_only_when_the_emr_engine_exports_it() -> None:
    # GIVEN the same 6 GiB table at 1 RCU, once for each engine, and a one-hour window
    settings = PlannerSettings(window_seconds=3600)
    emr = TableSnapshot(name="slow-emr", size_bytes=6 * GIB, read_capacity_units=1)
    native = TableSnapshot(
        name="slow-export", size_bytes=6 * GIB, read_capacity_units=1, engine="export", pitr_enabled=True
    )

    # WHEN the night is planned
    plan = plan_batches([emr, native], settings)

    # THEN the EMR engine's copy is boosted, and the export's is not: an export reads no capacity
    planned = {t.name: (batch.engine, t) for batch in plan.batches for t in batch.tables}
    assert planned["slow-emr"][0] == "datapipeline" and planned["slow-emr"][1].boosted
    engine, table = planned["slow-export"]
    assert engine == "export"
    assert not table.boosted and table.read_capacity_units == table.original_read_capacity_units == 1
