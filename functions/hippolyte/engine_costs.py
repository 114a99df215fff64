"""What one table's nightly backup costs on each engine, and which engine is the cheaper.

Two ways to back a table up (README, "Choosing an engine"):

* **on EMR**, the export tool scanning the table on its batch's cluster (the ``datapipeline``
  engine). A boosted table is read at its boost (the tool takes the whole boost, the application
  keeps its own capacity), so its read takes ``size / (extra x 8 KB)`` seconds of the cluster and
  the boost is billed ``extra x started hours`` RCU-hours; an unboosted table costs cluster time
  only; an on-demand table costs its read request units (half a unit per 4 KB). Each table also
  holds the cluster for its activity's bootstrap and for its share of the cluster's own bootstrap
  (the bootstrap divided by the tables a full pipeline holds). The boost is the planner's own
  choice (:func:`hippolyte.planning.planned_read`), held only while the table is read: what the
  cheapest engine holds, and a lower bound for Data Pipeline, which holds boosts from its
  pipeline's start;
* **DynamoDB's native export** (the ``export`` engine): ``size x export price per GB``, no read
  capacity and no cluster, but it needs point-in-time recovery, billed per GB-month. A table with
  PITR already on pays that whatever Hippolyte does; otherwise one night carries 24 of a month's
  730 hours of it (AWS prices a month as 730 hours).

Sizes are billed in GB of 2^30 bytes.
"""

from __future__ import annotations

from typing import NamedTuple

from hippolyte.models import Engine, PlannerSettings, TableSnapshot
from hippolyte.planning import HOUR, CostModel, billed_capacity_hours, on_demand_read_units, planned_read

GB = 2**30
# AWS prices a month as 730 hours (AWS pricing pages, "per month" rates).
HOURS_PER_MONTH = 730
NIGHT_HOURS = 24


class EngineCosts(NamedTuple):
    """One table's estimated cost for one night on each engine, in USD."""

    emr_usd: float
    emr_read_seconds: int
    emr_extra_rcu: int
    emr_fits_window: bool
    export_usd: float


class EngineChoice(NamedTuple):
    """The engine a table's backup costs least on, and why, with the figures."""

    engine: Engine
    reason: str
    costs: EngineCosts


def export_usd(size_bytes: int, pitr_enabled: bool, settings: PlannerSettings) -> float:
    """One night's native export of a table: the export per GB, and PITR's share when Hippolyte
    must turn it on.

    >>> round(export_usd(10 * 2**30, pitr_enabled=True, settings=PlannerSettings()), 4)
    1.0
    >>> round(export_usd(10 * 2**30, pitr_enabled=False, settings=PlannerSettings()), 4)
    1.0658
    """
    prices = settings.prices
    gb = size_bytes / GB
    pitr = 0.0 if pitr_enabled else gb * prices.pitr_gb_month_usd * NIGHT_HOURS / HOURS_PER_MONTH
    return gb * prices.export_gb_usd + pitr


def engine_costs(snapshot: TableSnapshot, settings: PlannerSettings) -> EngineCosts:
    """What ``snapshot``'s backup costs tonight on EMR (the planner's boost, held while read) and
    as a native export; an unreadable table costs nothing on EMR and never fits its window.

    >>> costs = engine_costs(TableSnapshot(name="orders", size_bytes=10 * 2**30, read_capacity_units=100),
    ...                      PlannerSettings())
    >>> round(costs.emr_usd, 3), costs.emr_extra_rcu, costs.emr_read_seconds, round(costs.export_usd, 3)
    (0.312, 1160, 1130, 1.066)
    """
    model = CostModel.at(settings.prices)
    export = export_usd(snapshot.size_bytes, snapshot.pitr_enabled, settings)
    read = planned_read(snapshot, settings)
    if read is None:
        return EngineCosts(0.0, 0, 0, False, export)
    bootstrap_share = settings.emr_bootstrap_seconds / settings.max_tables_per_pipeline
    cluster = model.cluster_usd(settings.activity_bootstrap_seconds + read.read_seconds + bootstrap_share)
    boost = model.rcu_usd(read.extra_rcu * billed_capacity_hours(read.read_seconds)) if read.extra_rcu else 0.0
    reads = model.on_demand_usd(on_demand_read_units(snapshot.size_bytes)) if snapshot.on_demand else 0.0
    return EngineCosts(cluster + boost + reads, read.read_seconds, read.extra_rcu, read.fits_window, export)


def cheaper_engine(
    snapshot: TableSnapshot, settings: PlannerSettings, cluster_engine: Engine = "emr", export_allowed: bool = True
) -> EngineChoice:
    """The engine that backs ``snapshot`` up for less tonight, with the reason in figures.

    EMR (``cluster_engine``: the emr engine, or Data Pipeline's) is chosen only when its read fits
    the window; a table no boost can read in time goes to the native export, which needs no read
    capacity. The export needs point-in-time recovery: where it is off and Hippolyte may not turn
    it on (``export_allowed`` false), the table stays on EMR, and the reason says what it misses.

    >>> settings = PlannerSettings()
    >>> cheaper_engine(TableSnapshot(name="orders", size_bytes=2**40, read_capacity_units=1000), settings).engine
    'emr'
    >>> cheaper_engine(TableSnapshot(name="tiny", size_bytes=2**20, read_capacity_units=5), settings).reason
    'native export $0.0001 < EMR $0.0174 (read in 52 s, no boost)'
    """
    costs = engine_costs(snapshot, settings)
    emr = f"EMR ${costs.emr_usd:,.4f} ({_emr_terms(costs)})"
    export = f"native export ${costs.export_usd:,.4f}"
    if not costs.emr_fits_window:
        window = settings.window_seconds / HOUR
        reason = f"EMR cannot read it within the {window:g} h window; {export}"
        return (
            EngineChoice("export", reason, costs)
            if export_allowed
            else EngineChoice(cluster_engine, f"{reason}, but {NEEDS_PITR}", costs)
        )
    if costs.export_usd < costs.emr_usd:
        if export_allowed:
            return EngineChoice("export", f"{export} < {emr}", costs)
        return EngineChoice(cluster_engine, f"{export} < {emr}, but {NEEDS_PITR}", costs)
    return EngineChoice(cluster_engine, f"{emr} <= {export}", costs)


def choose_engine(snapshot: TableSnapshot, settings: PlannerSettings, enable_pitr: bool) -> TableSnapshot:
    """The auto engine's choice for one table (others are returned as they are): the emr engine or
    the native export, whichever costs less tonight, the export only where point-in-time recovery
    is on or Hippolyte may turn it on (``enable_pitr``). The reason goes with the table.

    >>> auto = TableSnapshot(name="flags", size_bytes=2**20, read_capacity_units=5, engine="emr",
    ...                      engine_source="auto")
    >>> chosen = choose_engine(auto, PlannerSettings(), enable_pitr=True)
    >>> chosen.engine, chosen.engine_reason
    ('export', 'auto: native export $0.0001 < EMR $0.0174 (read in 52 s, no boost)')
    >>> choose_engine(auto, PlannerSettings(), enable_pitr=False).engine
    'emr'
    """
    if snapshot.engine_source != "auto":
        return snapshot
    choice = cheaper_engine(snapshot, settings, "emr", export_allowed=snapshot.pitr_enabled or enable_pitr)
    return snapshot.model_copy(update={"engine": choice.engine, "engine_reason": f"auto: {choice.reason}"})


# Why a table the export would back up for less stays on EMR.
NEEDS_PITR = "the native export needs point-in-time recovery, which is off (EnablePitr lets Hippolyte turn it on)"


def _emr_terms(costs: EngineCosts) -> str:
    """How EMR reads the table, in words."""
    seconds = costs.emr_read_seconds
    boost = f"a boost of {costs.emr_extra_rcu:,} RCU" if costs.emr_extra_rcu else "no boost"
    return f"read in {seconds:,} s, {boost}"
