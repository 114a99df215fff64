"""The night's plan: which table runs in which pipeline, when, at what read capacity, for how much.

Pure: no AWS calls, no I/O. :func:`plan_batches` is used by the PlanBatches state and by
``hippolyte plan``.

The estimate
    A table's backup takes ``Size / (RCU x percent x bytes_per_rcu_second)`` seconds plus the
    activity bootstrap; a pipeline adds the EMR bootstrap once. An unboosted table is read at the
    configured share of its own capacity. A boosted table gets ``extra`` RCU on top of its own and
    the backup is allowed to consume exactly that extra (``percent = extra / (RCU + extra)``), so
    the application keeps its original capacity: ``RCU' x (1 - percent') >= RCU``. Every percent
    lies in readThroughputPercent's range, 0.1 to 1.0 (DynamoDBDataNode): a share below 0.1 cannot
    be written, and clamping it up would let the export take more than the boost, so a boost is
    never smaller than ``RCU / 9`` (:func:`minimum_boost`), the least that carries 0.1 and leaves
    the application all of its capacity. A table whose maximum or budget cannot give that much
    is not boosted. On-demand tables have nothing to boost. The export tool reads them as if they
    had 40,000 RCU (``on_demand_assumed_rcu``, the connector's ``DEFAULT_CAPACITY_FOR_ON_DEMAND``)
    at ``on_demand_read_throughput_percent`` (0.1 by default: 4,000 read request units a second,
    which a new on-demand table serves at once with room to spare for its application), and they
    pay per read request: a scan costs about one read request unit per 8 KB, whatever its rate,
    which the cost adds at the on-demand price. In the plan a table's ``estimated_seconds``
    includes its activity bootstrap and its ``start_offset_seconds`` counts from its pipeline's
    start (so the first table starts after the EMR bootstrap), and a pipeline's
    ``estimated_seconds`` is the bootstrap plus its tables.

What the night costs
    Tables in one pipeline run one after another on its single EMR cluster, so the EMR bill is
    ``pipelines x bootstrap + sum(activity bootstrap + read time)`` cluster-seconds, whatever the
    packing. Only three things move it: how fast each table is read, how many pipelines there are,
    and the boosts. A boost is raised when its batch starts and lowered when its table ends, and
    DynamoDB bills every started hour, so a boost costs ``extra x ceil(hold / 1 h)`` RCU-hours.
    On-demand tables add their read request units, which no choice of the planner changes.
    One :class:`CostModel` (and :class:`NightBill` for the quantities) prices all of it: the
    sizing at shadow prices, the search's ranking of its rounds and the reported estimate at the
    list prices.
    At list prices one cluster-hour buys about 3,700 RCU-hours, which makes a boost the cheaper
    way to read a big slow table: reading it on boosted capacity costs about the same RCU-hours
    however hard it is boosted, while every hour it does not spend on the cluster is saved.

The algorithm, in three nested steps
    1. *Sizing* (per table, closed form). For every table the planner compares reading it
       unboosted with the cheapest boost for each whole number of billed hours ``k`` (the boost
       that minimises ``cluster price x read time + RCU price x extra x k`` is
       ``read time = sqrt(3600 x RCU price x k x RCU-seconds / cluster price)``, clamped to what
       the hour, the table maximum and the budget allow). Tables are boosted for cost only when
       their unboosted backup takes longer than ``min_boosted_seconds``: below that the saving is
       cents and not worth two UpdateTable calls and one of the table's daily decreases; when the
       pipeline slots are short of time, any table may be boosted. A table that does not fit the
       window unboosted is boosted as far as needed; one that does not fit even at its maximum
       is planned alone at the best rate it can get, and flagged.
    2. *Packing* (tables -> pipelines -> slots). There are at most ``max_concurrent_pipelines``
       slots; each slot runs its pipelines back to back inside the window. The planner chooses
       the number of pipelines (at least ``ceil(tables / 32)``), gives each slot a share of them,
       and deals the tables out longest first to the least-loaded slot that still has room in
       its pipelines (LPT, not next-fit). Each slot's tables are then split into its pipelines,
       boosted tables first in their pipeline so that their boosts are held as briefly as
       possible, one boosted table per pipeline where there are enough pipelines.
    3. *Scheduling* (waves and the budget). A slot that frees starts its next pipeline; among its
       pipelines it picks the one with the largest boost that fits the extra-RCU budget now.
       When none fits, the first slot to wait gets a reservation for the moment enough boosts
       are lowered, and other slots may only start boosts that do not delay it (EASY
       backfilling), so one big boost is not starved by a stream of small ones. Every hold
       starts when its batch starts, so the extra RCU held only falls between starts and
       checking at each start is exact. A pipeline's boosts never add up to more than the budget.
       Packing took each slot to be busy from the window's start; a pipeline the budget holds
       back would take the unboosted tables packed behind its boosts past the window with it.
       Those move to time the schedule left unused: the end of a pipeline with time left before
       its slot's next one (at no cost), else a new pipeline in a slot's idle time (one more
       bootstrap). An unboosted table holds no boost, so no hold and no start changes.

    The three steps are repeated with shadow prices: when a table ends past the window, the
    price of the scarcer resource is raised in the sizing. Slots short of time make cluster time
    dearer (more and bigger boosts, shorter backups); a budget used more than the slots makes
    RCU-hours dearer (smaller boosts, longer backups). The cheapest plan with no table past the
    window is kept; when none exists, the plan with the fewest late tables. Every step sorts
    with the table name as the last key, so the same input always gives the same plan.

Native exports (``engine == "export"``) use no read capacity and no cluster: they are grouped
into export batches that start with the night and cost nothing here.

The emr engine's tables are planned with the Data Pipeline ones, the same way: a batch is a
cluster running its tables one after another. A batch holding tables of both is emitted as two
(each engine runs its own clusters), and an emr batch's boosts are priced and counted as that
engine holds them, each only while its table is read (:func:`engine_holds`).
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from hippolyte.models import (
    CLUSTER_ENGINES,
    MAX_READ_THROUGHPUT_PERCENT,
    MIN_READ_THROUGHPUT_PERCENT,
    Batch,
    CostEstimate,
    Engine,
    FlaggedTable,
    LowerBound,
    Plan,
    PlannedTable,
    PlannerSettings,
    Prices,
    SkippedTable,
    TableSnapshot,
)

HOUR = 3600
# DynamoDB bills provisioned capacity by the hour: a boost pays every started hour
# (the planner's cost model).
CAPACITY_BILLING_SECONDS = HOUR
# EMR bills per second with a one-minute minimum (AWS EMR pricing; aws-facts, "Prices").
EMR_MINIMUM_BILLED_SECONDS = 60
# On-demand reads are priced per million read request units (DynamoDB on-demand pricing).
READ_UNITS_PER_PRICE = 1_000_000
# Native exports per export batch: one CreatePipelines iteration starts them all, and 50 keeps
# six batches under ExportTableToPointInTime's limit of 300 exports in flight (aws-facts).
EXPORT_BATCH_SIZE = 50
# AWS documents no throughput for ExportTableToPointInTime and it does not depend on the table's
# capacity; this is a placeholder for drawing the night, not a promise.
EXPORT_ESTIMATED_SECONDS = 1800
# An eventually consistent read of up to 4 KB takes half a read request unit (DynamoDB on-demand
# pricing, "Read request unit"): the export tool's scan costs one unit per 8 KB of the table.
ON_DEMAND_BYTES_PER_READ_UNIT = 8192
# readThroughputPercent is written with this many decimals, always rounded down so that the
# application keeps at least its original capacity.
PERCENT_SCALE = 1_000_000
# Shadow-price search: at most this many rounds of sizing, packing and scheduling; stop after
# this many rounds without a better plan; halve the last price step this many times.
MAX_ROUNDS = 16
STALE_ROUNDS = 6
BISECTION_ROUNDS = 3
# The first premium on cluster time is a quarter of its price, and each later one doubles it:
# a few rounds reach several times the list price, which is when boosting everything pays.
FIRST_TIME_PREMIUM_SHARE = 0.25
TIME_PREMIUM_GROWTH = 2
# The budget's premium starts at four times the RCU-hour price and grows fourfold: geometric
# steps reach a premium that changes the sizing within MAX_ROUNDS, whatever the prices.
BUDGET_PREMIUM_GROWTH = 4
# With free clusters or free capacity the cost model cannot rank boosts: stand-in prices that
# only break ties (an RCU-hour a hundred-thousandth of a cluster-hour).
FREE_CLUSTER_HOUR_PRICE = 1.0
FREE_RCU_PRICE_DIVISOR = 100_000
# Packing deals the tables at most this many times, with more pipelines after each deal that
# leaves a slot past the window: a bound on planning time (the best deal is kept).
PACKING_DEALS = 8
# Once every slot is in use, each deal adds this share of pipelines (at least one): more only
# help where the table limit per pipeline binds, and a small step keeps their bootstraps few.
PIPELINE_GROWTH_SHARE = 0.02
# Rounding the percent down can leave a boost a second slower than sized: add an RCU at a time,
# at most this many times (a bound on the loop; it stops as soon as the read is fast enough).
RCU_NUDGES = 8
# A read time shown in a reason is capped here, so that "never" reads as a very long time.
LONGEST_SHOWN_SECONDS = 10**9


def round_up(value: float) -> int:
    """A count of whole seconds, RCU, billed hours or pipelines: rounded up, so that no estimate
    is short of time or capacity and no boost is short of the rate it was sized for.

    >>> round_up(2.0), round_up(2.000001), round_up(0)
    (2, 3, 0)
    """
    return math.ceil(value)


def billed_cluster_seconds(seconds: int) -> int:
    """Seconds EMR bills for a cluster that runs ``seconds``: per second, at least one minute.

    >>> billed_cluster_seconds(10), billed_cluster_seconds(3900)
    (60, 3900)
    """
    return max(EMR_MINIMUM_BILLED_SECONDS, seconds)


def billed_capacity_hours(held_seconds: float) -> int:
    """Hours DynamoDB bills for capacity held ``held_seconds``: every started hour, at least one.

    >>> billed_capacity_hours(1), billed_capacity_hours(3600), billed_capacity_hours(3601)
    (1, 1, 2)
    """
    return max(1, round_up(held_seconds / CAPACITY_BILLING_SECONDS))


def boost_rcu_hours(extra_rcu: int, held_seconds: float) -> int:
    """RCU-hours billed for a boost of ``extra_rcu`` held ``held_seconds``.

    >>> boost_rcu_hours(1000, 3300), boost_rcu_hours(1000, 3700)
    (1000, 2000)
    """
    return extra_rcu * billed_capacity_hours(held_seconds)


class BoostHold(NamedTuple):
    """One boost of a pipeline, in seconds from the pipeline's start.

    Data Pipeline raises no capacity per table, so a boost is raised before its pipeline starts
    and lowered when its table ends; its table's turn comes at ``starts_after_seconds``.
    """

    starts_after_seconds: int
    ends_after_seconds: int
    extra_rcu: int

    def held_seconds(self, while_read: bool) -> int:
        """How long the boost is held: from its pipeline's start, or only while its table is read
        (an engine that raises each table's capacity when its turn comes)."""
        return self.ends_after_seconds - self.raised_after_seconds(while_read)

    def raised_after_seconds(self, while_read: bool) -> int:
        """When the boost is raised, in seconds from its pipeline's start."""
        return self.starts_after_seconds if while_read else 0


@dataclass(frozen=True, slots=True)
class CostModel:
    """Unit prices and AWS's billing rules: the one cost model of sizing, scheduling and the estimate.

    The search sizes boosts at shadow prices (cluster time or capacity made dearer while it is
    scarce) and ranks its rounds, and the plan reports its estimate, at the list prices.

    >>> model = CostModel(cluster_hour_usd=0.48, rcu_hour_usd=0.00013)
    >>> round(model.cluster_usd(1800), 4), round(model.rcu_usd(1000), 4)
    (0.24, 0.13)
    """

    cluster_hour_usd: float
    rcu_hour_usd: float
    on_demand_read_million_usd: float = 0.0

    @classmethod
    def at(cls, prices: Prices) -> CostModel:
        """The model at a plan's list prices."""
        return cls(prices.cluster_hour_usd, prices.rcu_hour_usd, prices.on_demand_read_million_usd)

    @property
    def cluster_second_usd(self) -> float:
        """One cluster for one second."""
        return self.cluster_hour_usd / HOUR

    def cluster_usd(self, seconds: float) -> float:
        """Clusters running ``seconds`` in all (already billed: see :func:`billed_cluster_seconds`)."""
        return seconds / HOUR * self.cluster_hour_usd

    def rcu_usd(self, rcu_hours: float) -> float:
        """``rcu_hours`` of provisioned read capacity."""
        return rcu_hours * self.rcu_hour_usd

    def on_demand_usd(self, read_units: float) -> float:
        """``read_units`` on-demand read request units."""
        return read_units / READ_UNITS_PER_PRICE * self.on_demand_read_million_usd

    def cheapest_read_seconds(self, rcu_seconds: float, billed_hours: int) -> float:
        """The read time whose boost, held for ``billed_hours``, costs least with its cluster time.

        Reading ``rcu_seconds`` in ``t`` seconds takes a boost of ``rcu_seconds / t`` and costs
        ``cluster price x t + RCU price x billed_hours x rcu_seconds / t``, least at
        ``t = sqrt(RCU price x billed_hours x rcu_seconds / cluster price per second)``.

        >>> round(CostModel(cluster_hour_usd=0.48, rcu_hour_usd=0.00013).cheapest_read_seconds(3.6e6, 1))
        1873
        """
        return math.sqrt(self.rcu_hour_usd * billed_hours * rcu_seconds / self.cluster_second_usd)


@dataclass(slots=True)
class NightBill:
    """What the night is billed for, before prices: the quantities of :class:`CostModel`'s units."""

    cluster_seconds: int = 0
    extra_rcu_hours: int = 0
    # Boosts held while their tables wait for their turn in the pipeline.
    waiting_rcu_seconds: int = 0
    on_demand_read_units: float = 0.0

    def add_pipeline(self, seconds: int, holds: Iterable[BoostHold], while_read: bool = False) -> None:
        """One pipeline's cluster, running ``seconds``, and its boosts (held from the pipeline's
        start, or ``while_read`` only)."""
        self.cluster_seconds += billed_cluster_seconds(seconds)
        for hold in holds:
            self.extra_rcu_hours += boost_rcu_hours(hold.extra_rcu, hold.held_seconds(while_read))
            if not while_read:
                self.waiting_rcu_seconds += hold.extra_rcu * hold.starts_after_seconds

    def pipeline_usd(self, model: CostModel) -> float:
        """What the clusters and the boosts cost: all the planner's choices can change."""
        return model.cluster_usd(self.cluster_seconds) + model.rcu_usd(self.extra_rcu_hours)


def estimate_seconds(size_bytes: int, read_capacity_units: float, percent: float, bytes_per_rcu_second: float) -> int:
    """Seconds to read a table at ``read_capacity_units x percent`` (the activity bootstrap excluded).

    >>> estimate_seconds(10 * 2**30, 100, 0.5, 8192)
    26215
    >>> estimate_seconds(0, 100, 0.5, 8192)
    0
    """
    if size_bytes <= 0:
        return 0
    rate = read_capacity_units * percent * bytes_per_rcu_second
    if rate <= 0:
        raise ValueError("a table with data needs a positive read rate")
    return math.ceil(size_bytes / rate)


def _share(original_rcu: int, extra_rcu: int) -> float:
    """``extra / (original + extra)`` rounded down to 6 decimals, and further while float rounding
    would let ``rcu * (1 - share)`` fall below the application's ``original_rcu``."""
    rcu = original_rcu + extra_rcu
    percent = math.floor(extra_rcu * PERCENT_SCALE / rcu) / PERCENT_SCALE
    while percent > 0 and rcu * (1 - percent) < original_rcu:
        percent = (round(percent * PERCENT_SCALE) - 1) / PERCENT_SCALE
    return percent


def minimum_boost(original_rcu: int) -> int:
    """The smallest boost whose share reaches readThroughputPercent's minimum (0.1) without
    taking any of the application's capacity.

    The export reads ``percent x (RCU + extra)``, which may not exceed ``extra`` if the application
    is to keep its ``RCU``; with ``percent >= 0.1`` that needs ``extra >= 0.1 x (RCU + extra)``, that
    is ``extra >= RCU / 9``. A smaller boost cannot be used: at 0.1 the export would eat into the
    application's own capacity, and a smaller share is outside the range Data Pipeline accepts.

    >>> minimum_boost(1000), minimum_boost(900), minimum_boost(9), minimum_boost(0)
    (112, 100, 1, 1)
    """
    ratio = MIN_READ_THROUGHPUT_PERCENT / (1 - MIN_READ_THROUGHPUT_PERCENT)
    extra = max(1, math.floor(original_rcu * ratio) - 1)
    while _share(original_rcu, extra) < MIN_READ_THROUGHPUT_PERCENT:
        extra += 1
    return extra


class BoostedCapacity(NamedTuple):
    """A boosted table's read capacity, and the share of it the backup may read."""

    read_capacity_units: int
    read_throughput_percent: float


def boosted_capacity(original_rcu: int, extra_rcu: int) -> BoostedCapacity:
    """The RCU and readThroughputPercent that give a backup ``extra_rcu`` on top of the table's own.

    The percent is rounded down (to 6 decimals, and below 0.9 here because ``1000 * (1 - 0.9)``
    is 99.99999999999997 in floating point) so that ``rcu * (1 - percent) >= original_rcu`` holds
    as written: the application keeps all of its capacity. Hippolyte 2017's case (100 RCU,
    boosted to 1,000) gives the backup 900 RCU and the application its 100:

    >>> boosted_capacity(100, 900)
    BoostedCapacity(read_capacity_units=1000, read_throughput_percent=0.899999)
    >>> rcu, percent = boosted_capacity(7, 3)
    >>> rcu * (1 - percent) >= 7
    True

    The percent is never below readThroughputPercent's minimum, 0.1. Clamping a smaller share up
    to 0.1 would let the export take more than the boost, from the application; instead the boost
    grows to :func:`minimum_boost` (the returned RCU then adds more than ``extra_rcu``):

    >>> tuple(boosted_capacity(1000, 50))   # 50 / 1,050 would be 0.047
    (1112, 0.100719)
    """
    if extra_rcu <= 0:
        raise ValueError("a boost adds at least 1 RCU")
    extra = extra_rcu
    percent = _share(original_rcu, extra)
    if percent < MIN_READ_THROUGHPUT_PERCENT:
        extra = minimum_boost(original_rcu)
        percent = _share(original_rcu, extra)
    return BoostedCapacity(original_rcu + extra, min(MAX_READ_THROUGHPUT_PERCENT, percent))


def on_demand_read_units(size_bytes: int) -> float:
    """Read request units an export of an on-demand table consumes: half a unit per 4 KB read
    eventually consistently, whatever the read rate (DynamoDB on-demand pricing, "Read request
    unit").

    >>> on_demand_read_units(10 * 2**30)
    1310720.0
    """
    return size_bytes / ON_DEMAND_BYTES_PER_READ_UNIT


def estimate_cost(batches: Sequence[Batch], prices: Prices, while_read: bool = False) -> CostEstimate:
    """The night's cost: EMR cluster-seconds (1-minute minimum), boosts by started hour, and the
    read request units of on-demand tables.

    Each boost is held from its batch's start to its table's end
    (``start_offset_seconds + estimated_seconds``), or, ``while_read``, only while its table is
    read: what the same plan would cost on an engine that raises each table's capacity when its
    turn comes.

    >>> t = PlannedTable(name="big", size_bytes=1, original_read_capacity_units=100,
    ...                  read_capacity_units=1100, read_throughput_percent=0.909090,
    ...                  start_offset_seconds=600, estimated_seconds=3300)
    >>> cost = estimate_cost([Batch(id="b0001", estimated_seconds=3900, tables=[t])], Prices())
    >>> cost.emr_cluster_hours, cost.extra_rcu_hours, cost.waiting_rcu_hours
    (1.0833, 2000.0, 166.7)
    >>> batch = Batch(id="b0001", estimated_seconds=3900, tables=[t])
    >>> estimate_cost([batch], Prices(), while_read=True).extra_rcu_hours
    1000.0
    """
    bill = NightBill()
    for batch in batches:
        if batch.engine not in CLUSTER_ENGINES:
            continue
        holds, held_while_read = engine_holds(batch, while_read)
        bill.add_pipeline(batch.estimated_seconds, holds, held_while_read)
        for table in batch.tables:
            if table.on_demand:
                bill.on_demand_read_units += on_demand_read_units(table.size_bytes)
    model = CostModel.at(prices)
    emr_usd = model.cluster_usd(bill.cluster_seconds)
    rcu_usd = model.rcu_usd(bill.extra_rcu_hours)
    on_demand_usd = model.on_demand_usd(bill.on_demand_read_units)
    return CostEstimate(
        emr_cluster_hours=round(bill.cluster_seconds / HOUR, 4),
        extra_rcu_hours=float(bill.extra_rcu_hours),
        emr_usd=round(emr_usd, 4),
        rcu_usd=round(rcu_usd, 4),
        on_demand_read_units=round(bill.on_demand_read_units),
        on_demand_read_usd=round(on_demand_usd, 4),
        waiting_rcu_hours=round(bill.waiting_rcu_seconds / HOUR, 1),
        waiting_rcu_usd=round(model.rcu_usd(bill.waiting_rcu_seconds / HOUR), 4),
        total_usd=round(emr_usd + rcu_usd + on_demand_usd, 4),
        prices=prices,
    )


def boost_holds(batch: Batch) -> list[BoostHold]:
    """The boosts of one pipeline, as the cost model holds them: from its start to each table's end.

    >>> t = PlannedTable(name="big", size_bytes=1, original_read_capacity_units=100,
    ...                  read_capacity_units=300, read_throughput_percent=0.66,
    ...                  start_offset_seconds=600, estimated_seconds=100)
    >>> boost_holds(Batch(id="b0001", estimated_seconds=700, tables=[t]))
    [BoostHold(starts_after_seconds=600, ends_after_seconds=700, extra_rcu=200)]
    """
    return [
        BoostHold(t.start_offset_seconds, t.start_offset_seconds + t.estimated_seconds, t.extra_read_capacity_units)
        for t in batch.tables
        if t.boosted
    ]


def engine_holds(batch: Batch, while_read: bool = False) -> tuple[list[BoostHold], bool]:
    """A batch's boosts as its engine holds them, and whether they are held only while read.

    Data Pipeline's are held from the pipeline's start (or ``while_read``, to price the same plan
    on an engine that raises each table's capacity when its turn comes). The emr engine holds each
    boost only while its table is read, but the first table's, which is raised as the batch starts
    (its step goes with the cluster's creation).

    >>> t = PlannedTable(name="big", size_bytes=1, original_read_capacity_units=100,
    ...                  read_capacity_units=300, read_throughput_percent=0.66,
    ...                  start_offset_seconds=600, estimated_seconds=100)
    >>> engine_holds(Batch(id="b0001", engine="emr", estimated_seconds=700, tables=[t]))
    ([BoostHold(starts_after_seconds=0, ends_after_seconds=700, extra_rcu=200)], True)
    """
    holds = boost_holds(batch)
    if batch.engine != "emr":
        return holds, while_read
    if holds and batch.tables[0].boosted:
        holds[0] = holds[0]._replace(starts_after_seconds=0)
    return holds, True


class HeldExtra(NamedTuple):
    """From ``second`` on (until the next change), ``extra_rcu`` of boosts are held."""

    second: int
    extra_rcu: int


def extra_rcu_timeline(batches: Sequence[Batch], while_read: bool = False) -> list[HeldExtra]:
    """The extra RCU held at every change, boosts held as the cost model says (from their batch's
    start, or ``while_read`` only).

    >>> t = PlannedTable(name="big", size_bytes=1, original_read_capacity_units=100,
    ...                  read_capacity_units=300, read_throughput_percent=0.66,
    ...                  start_offset_seconds=600, estimated_seconds=100)
    >>> extra_rcu_timeline([Batch(id="b0001", start_seconds=50, estimated_seconds=700, tables=[t])])
    [HeldExtra(second=50, extra_rcu=200), HeldExtra(second=750, extra_rcu=0)]
    >>> extra_rcu_timeline([Batch(id="b0001", start_seconds=50, estimated_seconds=700, tables=[t])], while_read=True)
    [HeldExtra(second=650, extra_rcu=200), HeldExtra(second=750, extra_rcu=0)]
    """
    deltas: dict[int, int] = {}
    for batch in batches:
        holds, held_while_read = engine_holds(batch, while_read)
        for hold in holds:
            raised = batch.start_seconds + hold.raised_after_seconds(held_while_read)
            end = batch.start_seconds + hold.ends_after_seconds
            deltas[raised] = deltas.get(raised, 0) + hold.extra_rcu
            deltas[end] = deltas.get(end, 0) - hold.extra_rcu
    held = 0
    timeline = []
    for second in sorted(deltas):
        held += deltas[second]
        timeline.append(HeldExtra(second, held))
    return timeline


def peak_extra_rcu(batches: Sequence[Batch], while_read: bool = False) -> int:
    """Most extra RCU held at any moment (boosts raised at batch start, or ``while_read`` when
    their table's turn comes, and lowered at table end).

    >>> peak_extra_rcu([])
    0
    """
    return max((level.extra_rcu for level in extra_rcu_timeline(batches, while_read)), default=0)


def tables_past_window(plan: Plan) -> list[str]:
    """Names of the pipeline tables estimated to end after the window closes.

    >>> tables_past_window(Plan(batches=[], window_seconds=1, bytes_per_rcu_second=1,
    ...     emr_bootstrap_seconds=0, activity_bootstrap_seconds=0, max_extra_rcu=0,
    ...     cost=estimate_cost([], Prices())))
    []
    """
    return sorted(
        table.name
        for batch in plan.batches
        if batch.engine in CLUSTER_ENGINES
        for table in batch.tables
        if batch.start_seconds + table.start_offset_seconds + table.estimated_seconds > plan.window_seconds
    )


def peak_concurrent_pipelines(batches: Sequence[Batch]) -> int:
    """Most clusters running at any moment (a pipeline's or the emr engine's; native-export batches use none).

    >>> peak_concurrent_pipelines([Batch(id="b0001", estimated_seconds=10, tables=[]),
    ...                            Batch(id="b0002", start_seconds=10, estimated_seconds=5, tables=[])])
    1
    """
    events: list[tuple[int, int]] = []
    for batch in batches:
        if batch.engine in CLUSTER_ENGINES:
            events += [(batch.start_seconds, 1), (batch.start_seconds + batch.estimated_seconds, -1)]
    running = peak = 0
    # At equal times an end (-1) sorts before a start (+1): a slot freed at t is reused at t.
    for _, delta in sorted(events):
        running += delta
        peak = max(peak, running)
    return peak


# --------------------------------------------------------------------------------------------
# Working records (mutable, internal)
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Table:
    """One Data Pipeline table while the planner works on it."""

    index: int  # position in the planner's list, to refer to the table from a round's snapshot
    name: str
    size: int
    original_rcu: int
    on_demand: bool
    rcu_seconds: float  # read capacity-seconds the whole table needs
    free_rate: float  # RCU/s the backup may use without a boost
    base_seconds: float  # unboosted read time (inf when it cannot be read unboosted)
    max_extra: int  # the largest boost the table maximum and the budget allow
    min_extra: int  # the smallest boost worth having: faster than unboosted, a share of at least 0.1
    engine: Engine = "datapipeline"  # or emr: which runs its cluster
    # The sizing's choice:
    extra: int = 0
    rcu: int = 0
    percent: float = 0.0
    seconds: int = 0
    solo: bool = False  # cannot fit the window even at its best: planned alone, flagged
    length: int = 0  # activity bootstrap + read time


@dataclass(slots=True)
class _Batch:
    """One pipeline while the planner works on it."""

    tables: list[_Table] = field(default_factory=list)
    seconds: int = 0  # EMR bootstrap + tables
    extra: int = 0  # boosts held when it starts
    holds: list[BoostHold] = field(default_factory=list)
    start: int = 0


@dataclass(slots=True)
class _Slot:
    """One of the pipelines allowed at once: its pipelines run back to back."""

    batches: list[_Batch]
    solo: bool = False


class _Choice(NamedTuple):
    """One table's sizing in a round, kept because the next round's sizing changes the table."""

    extra: int
    rcu: int
    percent: float
    length: int  # activity bootstrap + read time
    solo: bool


class _Sizing(NamedTuple):
    """A boost and what it gives: capacity, share, and the read time."""

    extra: int
    rcu: int
    percent: float
    seconds: int


class _Placed(NamedTuple):
    """One pipeline of a round: its slot, its start, and its tables (their indexes)."""

    slot: int
    start: int
    members: list[int]


@dataclass(slots=True)
class _Attempt:
    """One round's plan: each table's sizing and each pipeline's place."""

    choices: list[_Choice]
    batches: list[_Placed]
    late: int  # tables (not solo) that end past the window
    time_use: float  # pipeline-seconds used / what the slots offer in the window
    budget_use: float  # extra RCU-seconds held / what the budget offers in the window
    cost_usd: float

    @property
    def fits(self) -> bool:
        return not self.late

    @property
    def key(self) -> tuple[int, float]:
        return (self.late, self.cost_usd)


# --------------------------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------------------------


def plan_batches(
    tables: Sequence[TableSnapshot], settings: PlannerSettings, skipped: Sequence[SkippedTable] = ()
) -> Plan:
    """Plan the night: batches with start offsets, capacities, flags and the estimated cost.

    >>> from hippolyte.models import TableSnapshot, PlannerSettings
    >>> plan = plan_batches([TableSnapshot(name="orders", read_capacity_units=100, size_bytes=2**30)],
    ...                     PlannerSettings())
    >>> [(b.id, [t.name for t in b.tables], b.estimated_seconds) for b in plan.batches]
    [('b0001', ['orders'], 3282)]
    >>> tables_past_window(plan), plan.cost.total_usd > 0
    ([], True)
    """
    pipeline_tables, export_tables, skipped_out = _intake(tables, settings, skipped)
    attempt = _search(pipeline_tables, settings) if pipeline_tables else None
    batches = _emit_batches(pipeline_tables, attempt, export_tables, settings)
    reasons = {table.name: table.engine_reason for table in tables}
    for batch in batches:
        for planned in batch.tables:
            planned.engine_reason = reasons.get(planned.name, "")
    flagged = _flags(pipeline_tables, attempt, batches, settings)
    plan = Plan(
        batches=batches,
        window_seconds=settings.window_seconds,
        bytes_per_rcu_second=settings.bytes_per_rcu_second,
        emr_bootstrap_seconds=settings.emr_bootstrap_seconds,
        activity_bootstrap_seconds=settings.activity_bootstrap_seconds,
        max_extra_rcu=settings.max_extra_rcu,
        max_concurrent_pipelines=settings.max_concurrent_pipelines,
        peak_extra_rcu=peak_extra_rcu(batches),
        flagged=flagged,
        skipped=skipped_out,
        cost=estimate_cost(batches, settings.prices),
        lower_bound=lateness_lower_bound(pipeline_tables, settings),
    )
    assert plan.lower_bound is not None
    cheapest = cost_lower_bound(pipeline_tables, settings, late_allowed=len(tables_past_window(plan)))
    return plan.model_copy(update={"lower_bound": plan.lower_bound.model_copy(update={"cost_usd": cheapest})})


class _Intake(NamedTuple):
    """The tables as the planner takes them: pipeline tables, native exports, and the skipped."""

    pipeline: list[_Table]
    exports: list[TableSnapshot]
    skipped: list[SkippedTable]


def _intake(tables: Sequence[TableSnapshot], settings: PlannerSettings, skipped: Sequence[SkippedTable]) -> _Intake:
    """Sort the tables by name, skip duplicates and the unreadable, and set the exports apart."""
    skipped_out = list(skipped)
    seen: set[str] = {s.name for s in skipped_out}
    pipeline_tables: list[_Table] = []
    export_tables: list[TableSnapshot] = []
    for snapshot in sorted(tables, key=lambda t: t.name):
        if snapshot.name in seen:
            skipped_out.append(SkippedTable(name=snapshot.name, reason="listed more than once"))
            continue
        seen.add(snapshot.name)
        if snapshot.engine == "export":
            export_tables.append(snapshot)
            continue
        table = _working_table(len(pipeline_tables), snapshot, settings)
        if table is None:
            skipped_out.append(
                SkippedTable(
                    name=snapshot.name,
                    reason="has data but no read capacity, and the extra-RCU budget is 0: it cannot be read",
                )
            )
            continue
        pipeline_tables.append(table)
    return _Intake(pipeline_tables, export_tables, skipped_out)


def cost_lower_bound(tables: Sequence[_Table], settings: PlannerSettings, late_allowed: int) -> float:
    """The least a plan of these tables can cost with at most ``late_allowed`` tables late.

    Each part is at its own minimum, which no plan reaches all at once: one cluster bootstrap per
    ``max_tables_per_pipeline`` tables, every table read at its fastest (the least cluster time);
    the boosts the tables too slow unboosted need while they read (``size / 8 KB`` RCU-seconds
    whatever the boost), for all of them but the ``late_allowed`` with the largest needs; and the
    on-demand tables' read requests, which do not depend on the plan.
    """
    model = CostModel.at(settings.prices)
    clusters = round_up(len(tables) / settings.max_tables_per_pipeline)
    # Every table kept has a finite fastest time (one with none is skipped before planning).
    reading = sum(seconds for t in tables if math.isfinite(seconds := fastest_seconds(t, settings)))
    cluster_usd = model.cluster_usd(clusters * settings.emr_bootstrap_seconds + reading)
    needs = sorted(t.rcu_seconds for t in _needing_boosts(tables, settings))
    boosted = needs[: max(0, len(needs) - late_allowed)]
    # Held only while read and billed by the second: no plan's boosts cost less.
    rcu_usd = model.rcu_usd(sum(boosted) / HOUR)
    read_units = sum(on_demand_read_units(t.size) for t in tables if t.on_demand)
    return round(cluster_usd + rcu_usd + model.on_demand_usd(read_units), 4)


def _needing_boosts(tables: Iterable[_Table], settings: PlannerSettings) -> list[_Table]:
    """The tables that end past the window unboosted, even first in a pipeline started at once."""
    lead = settings.emr_bootstrap_seconds + settings.activity_bootstrap_seconds
    return [t for t in tables if lead + t.base_seconds > settings.window_seconds]


def fastest_seconds(table: _Table, settings: PlannerSettings) -> float:
    """The shortest a table can hold a pipeline: its activity's bootstrap, then reading at the
    fastest rate it may have (its own share, or the largest boost the table maximum and the
    budget allow, whichever is faster)."""
    boost = table.max_extra if table.max_extra >= table.min_extra else 0
    rcu = max(table.free_rate, float(boost))
    if table.size == 0:
        return float(settings.activity_bootstrap_seconds)
    if rcu <= 0:
        return math.inf
    return settings.activity_bootstrap_seconds + estimate_seconds(table.size, rcu, 1.0, settings.bytes_per_rcu_second)


class _Lateness(NamedTuple):
    """Tables one limit forces past the window, and the reason with its numbers."""

    late: int
    reason: str


def lateness_lower_bound(tables: Sequence[_Table], settings: PlannerSettings) -> LowerBound:
    """How many tables every plan leaves past the window, whatever it does, and why.

    Two facts bound it, each true of any plan under the same limits:

    - a table whose pipeline's cluster bootstrap plus its own fastest read ends after the window
      is late in every plan;
    - every pipeline slot (``max_concurrent_pipelines`` at once) spends at least one cluster
      bootstrap before its first table, so all the slots together give at most
      ``slots x (window - bootstrap)`` seconds to tables that end in time; tables that end in time
      need at least their fastest times, so at most the tables whose fastest times are the
      smallest and add up to that much can end in time.

    A third bounds the tables too slow to end in time unboosted: their boosts need RCU-hours the
    budget may not hold (:func:`_late_by_budget`). How many depends on how long a boost is held,
    so the bound is given twice: ``late_tables`` for boosts held from their pipeline's start to
    their table's end, as Data Pipeline needs (it raises no capacity per table), and
    ``late_tables_if_boosts_held_only_while_read`` for boosts raised when their table's read
    starts. Each is the larger of the slot and budget counts, plus the tables late alone. A bound
    may be below what a plan can reach (the limits bind together); it is never above it.

    >>> from hippolyte.models import PlannerSettings, TableSnapshot
    >>> settings = PlannerSettings(window_seconds=3600, max_concurrent_pipelines=1, max_extra_rcu=0)
    >>> tables = [TableSnapshot(name=f"table-{i}", read_capacity_units=1000, size_bytes=2**31) for i in range(6)]
    >>> bound = lateness_lower_bound([_working_table(i, t, settings) for i, t in enumerate(tables)], settings)
    >>> bound.late_tables, bound.late_tables_if_boosts_held_only_while_read
    (1, 1)
    >>> print(bound.reasons[0][:70])
    1 more: a limit of 1 pipeline at once gives tables at most 50 min 00 s
    """
    window, boot = settings.window_seconds, settings.emr_bootstrap_seconds
    fastest = {table.name: fastest_seconds(table, settings) for table in tables}
    alone = {name for name, seconds in fastest.items() if boot + seconds > window}
    reasons = [
        f"{table.name}: {decimal_size(table.size)} at its fastest ({_rate(table)}) needs "
        f"{_duration(int(min(fastest[table.name], LONGEST_SHOWN_SECONDS)))} after a {_duration(boot)} "
        f"cluster bootstrap; the window is {_duration(window)}"
        for table in sorted(tables, key=lambda t: t.name)
        if table.name in alone
    ]
    slot_time = settings.max_concurrent_pipelines * max(0, window - boot)
    could = sorted(seconds for name, seconds in fastest.items() if name not in alone)
    by_slots = _Lateness(
        len(could) - most_that_fit(could, slot_time),
        f"a limit of {settings.max_concurrent_pipelines} pipeline"
        f"{'' if settings.max_concurrent_pipelines == 1 else 's'} at once gives tables at most "
        f"{_duration(int(slot_time))} in the window after their clusters' bootstrap, and the "
        f"{len(could)} tables that could end in time need {_duration(int(sum(could)))} at their fastest",
    )
    in_reach = [t for t in tables if t.name not in alone]
    while_read = _late_by_budget(in_reach, settings, held_from_pipeline_start=False)
    from_start = _late_by_budget(in_reach, settings, held_from_pipeline_start=True)
    # Holding a boost longer never lets more tables end in time: the larger count binds.
    held = from_start if from_start.late > while_read.late else while_read
    late, why = _binding(len(alone), reasons, by_slots, held)
    late_if_read, why_if_read = _binding(len(alone), reasons, by_slots, while_read)
    return LowerBound(
        late_tables=late,
        reasons=why,
        late_tables_if_boosts_held_only_while_read=late_if_read,
        reasons_if_boosts_held_only_while_read=why_if_read,
    )


def _binding(alone: int, reasons: list[str], by_slots: _Lateness, by_budget: _Lateness) -> tuple[int, list[str]]:
    """The bound from the tables late alone and the binding one of the slots and the budget."""
    binding = by_budget if by_budget.late > by_slots.late else by_slots
    if not binding.late:
        return alone, list(reasons)
    return alone + binding.late, [*reasons, f"{binding.late} more: {binding.reason}"]


def _late_by_budget(
    tables: Sequence[_Table], settings: PlannerSettings, *, held_from_pipeline_start: bool
) -> _Lateness:
    """How many of ``tables`` the extra-RCU budget leaves late, and why.

    A table too slow to end in time unboosted must be boosted, and a boost of ``e`` RCU reads it in
    ``size / (e x bytes per RCU-second)`` seconds: whatever ``e``, the boost held while it reads
    adds up to ``size / bytes per RCU-second`` RCU-seconds. Held at once the boosts never pass the
    budget, so the tables with the smallest needs that fit in what the budget holds are the most
    that can end in time.

    Held only while read: reading happens after a cluster's bootstrap and an activity's, so the
    budget holds at most ``budget x (window - bootstraps)`` RCU-seconds. Held from the pipeline's
    start: the budget holds ``budget x window``, and each boost is also held through those
    bootstraps, at least at the least boost that reads its table in the time left (and never
    below the table's smallest legal boost).
    """
    window = settings.window_seconds
    lead = settings.emr_bootstrap_seconds + settings.activity_bootstrap_seconds
    reading = max(0, window - lead)
    needing = _needing_boosts(tables, settings)
    budget = settings.max_extra_rcu
    if held_from_pipeline_start:
        # Tables in reach can be read in the time left, so ``reading`` is positive when any needs a boost.
        needs = sorted(t.rcu_seconds + max(float(t.min_extra), t.rcu_seconds / max(1, reading)) * lead for t in needing)
        room = budget * window
    else:
        needs = sorted(t.rcu_seconds for t in needing)
        room = budget * reading
    late = len(needs) - most_that_fit(needs, room)
    if held_from_pipeline_start:
        reason = (
            "boosts are held from their pipeline's start, through its cluster's and their activity's "
            f"bootstraps ({_duration(lead)}) as well as the read; the {budget:,} extra-RCU budget holds at most "
            f"{room / HOUR:,.0f} RCU-hours of boosts in the {_duration(window)} window, and the {len(needs)} "
            f"tables too slow to end in time unboosted need {sum(needs) / HOUR:,.0f} RCU-hours of boost at "
            "the least, bootstraps included"
        )
    else:
        reason = (
            f"the {budget:,} extra-RCU budget holds at most {room / HOUR:,.0f} RCU-hours of boosts in the "
            f"{_duration(reading)} tables can be read, and the {len(needs)} tables too slow to end in time "
            f"unboosted need {sum(needs) / HOUR:,.0f} RCU-hours of boost at the least"
        )
    return _Lateness(late, reason)


def most_that_fit(needs: Sequence[float], room: float) -> int:
    """How many of ``needs`` (sorted, smallest first) fit in ``room`` together: the most that can.

    >>> most_that_fit([1, 2, 3, 4], 6), most_that_fit([5], 4), most_that_fit([], 1)
    (3, 0, 0)
    """
    used, count = 0.0, 0
    for need in needs:
        if used + need > room:
            break
        used, count = used + need, count + 1
    return count


def _rate(table: _Table) -> str:
    boost = table.max_extra if table.max_extra >= table.min_extra else 0
    if boost > table.free_rate:
        return f"a boost of {boost:,} RCU"
    return f"its own share, {table.free_rate:,.0f} RCU"


def decimal_size(size_bytes: int) -> str:
    """Bytes in decimal units, as the planner's reports show them.

    >>> decimal_size(999), decimal_size(22 * 10**12), decimal_size(1_500_000)
    ('999 B', '22.0 TB', '1.5 MB')
    """
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{value:,.1f} TB"


def _working_table(index: int, snapshot: TableSnapshot, settings: PlannerSettings) -> _Table | None:
    """The planner's record of one table, or None when it has data and no way to be read."""
    bps = settings.bytes_per_rcu_second
    on_demand = snapshot.on_demand
    if on_demand:
        # The export tool reads it as if it had 40,000 RCU, at the on-demand share.
        own, percent = settings.on_demand_assumed_rcu, settings.on_demand_read_throughput_percent
    else:
        own, percent = snapshot.read_capacity_units, settings.read_throughput_percent
    free_rate = own * percent
    readable = snapshot.size_bytes == 0 or free_rate > 0
    base = float(estimate_seconds(snapshot.size_bytes, own, percent, bps)) if readable else math.inf
    max_extra = 0 if on_demand else max(0, min(settings.table_max_rcu - own, settings.max_extra_rcu))
    # A boost must read faster than the table's own share, and carry a share of at least 0.1.
    min_extra = max(math.floor(free_rate) + 1, minimum_boost(own))
    if base == math.inf and max_extra < min_extra:
        return None
    return _Table(
        index=index,
        name=snapshot.name,
        size=snapshot.size_bytes,
        original_rcu=0 if on_demand else own,
        on_demand=on_demand,
        rcu_seconds=snapshot.size_bytes / bps,
        free_rate=free_rate,
        base_seconds=base,
        max_extra=max_extra,
        min_extra=min_extra,
        engine=snapshot.engine,
    )


class TableRead(NamedTuple):
    """How the planner would read one table on EMR: its boost (0: none) and its read time."""

    extra_rcu: int
    read_seconds: int
    fits_window: bool


def planned_read(snapshot: TableSnapshot, settings: PlannerSettings) -> TableRead | None:
    """The boost and read time the planner sizes for ``snapshot`` at list prices, before packing;
    None when the table has data and no way to be read.

    >>> from hippolyte.models import TableSnapshot
    >>> planned_read(TableSnapshot(name="orders", size_bytes=10 * 2**30, read_capacity_units=100), PlannerSettings())
    TableRead(extra_rcu=1160, read_seconds=1130, fits_window=True)
    """
    table = _working_table(0, snapshot, settings)
    if table is None:
        return None
    _size_all([table], settings, CostModel.at(settings.prices), boost_any=False)
    # The planner's own test of a fit: the cluster's bootstrap, then the table's activity and read.
    fits = settings.emr_bootstrap_seconds + table.length <= settings.window_seconds
    return TableRead(table.extra, table.seconds, fits)


# --------------------------------------------------------------------------------------------
# Step 1: sizing
# --------------------------------------------------------------------------------------------


def _size_all(tables: Iterable[_Table], settings: PlannerSettings, model: CostModel, boost_any: bool) -> None:
    """Choose each table's boost by the cost ``model`` (at shadow prices); see the module docstring."""
    window = settings.window_seconds
    boot = settings.emr_bootstrap_seconds
    act = settings.activity_bootstrap_seconds
    room = window - boot - act  # the longest read that fits, first in a pipeline started at 0
    threshold = settings.min_boosted_seconds
    # A boost held inside the window is billed for at most this many hours.
    max_hours = billed_capacity_hours(window)
    for table in tables:
        base = table.base_seconds
        fits = base <= room
        extra: int = 0
        longest: float = room
        boostable = table.max_extra >= table.min_extra and table.size > 0
        if boostable and (not fits or boost_any or base > threshold):
            extra, longest = _cheapest_boost(
                table,
                model,
                room=room,
                lead=boot + act,
                max_hours=max_hours,
                unboosted_seconds=base if fits else None,
            )
        solo = False
        if extra == 0 and not fits:
            # Nothing fits the window: the best rate it can get, alone.
            solo = room >= 0
            extra = table.max_extra if boostable else 0
            longest = math.inf
        _apply(table, extra, longest, settings)
        table.solo = solo
        table.length = act + table.seconds


class _Boost(NamedTuple):
    """A boost (0: none) and the longest its read may take, to stay inside its billed hours."""

    extra: int
    longest: float


def _cheapest_boost(
    table: _Table,
    model: CostModel,
    *,
    room: int,
    lead: int,
    max_hours: int,
    unboosted_seconds: float | None,
) -> _Boost:
    """The cheapest boost that fits ``room``, by the cost ``model``: its read time on the cluster
    and its RCU-hours, held for each whole number of billed hours in turn.

    Returns ``_Boost(0, room)`` when unboosted is cheaper, or when no boost fits. ``lead`` is what
    runs before the table in its pipeline (bootstrap and its own activity bootstrap): the boost is
    held from the pipeline's start.
    """
    need = table.rcu_seconds
    min_extra = table.min_extra
    best_cost = model.cluster_usd(unboosted_seconds) if unboosted_seconds is not None else math.inf
    best = _Boost(0, room)
    # Quick rejection: any boost costs at least min_extra RCU for one billed hour.
    if min_extra > table.max_extra or model.rcu_usd(min_extra) >= best_cost:
        return best
    fastest = need / table.max_extra
    slowest = need / min_extra
    for hours in range(1, max_hours + 1):
        longest = min(room, hours * CAPACITY_BILLING_SECONDS - lead, slowest)
        if longest < fastest or longest <= 0:
            continue
        ideal = model.cheapest_read_seconds(need, hours) if model.cluster_hour_usd > 0 else longest
        seconds = min(max(ideal, fastest), longest)
        extra = min(table.max_extra, max(min_extra, round_up(need / seconds)))
        cost = model.cluster_usd(round_up(need / extra)) + model.rcu_usd(extra * hours)
        if cost < best_cost:
            best_cost, best = cost, _Boost(extra, longest)
        if ideal <= longest:
            break  # once the optimum lies inside this many hours, more billed hours only cost more
    return best


def _apply(table: _Table, extra: int, longest: float, settings: PlannerSettings) -> None:
    """Set the table's capacity, percent and read time for a boost of ``extra`` RCU (0: none)."""
    table.extra, table.rcu, table.percent, table.seconds = _capacity(table, extra, longest, settings)


def _capacity(table: _Table, extra: int, longest: float, settings: PlannerSettings) -> _Sizing:
    """The capacity, share and read time a boost of ``extra`` RCU (0: none) gives the table."""
    if extra <= 0:
        if table.on_demand:
            rcu, percent = settings.on_demand_assumed_rcu, settings.on_demand_read_throughput_percent
        else:
            rcu, percent = table.original_rcu, settings.read_throughput_percent
        return _Sizing(0, rcu, percent, 0 if table.size == 0 else int(table.base_seconds))
    # Read times are whole seconds (and at least one for a table with data).
    longest = round_up(longest) if longest != math.inf else longest
    for _ in range(RCU_NUDGES):
        rcu, boosted_percent = boosted_capacity(table.original_rcu, extra)
        extra = rcu - table.original_rcu
        seconds = estimate_seconds(table.size, rcu, boosted_percent, settings.bytes_per_rcu_second)
        # The percent is rounded down: add an RCU when that leaves the backup no faster than
        # unboosted, or a second past the hours the boost was sized for.
        slower = rcu * boosted_percent <= table.free_rate or seconds > longest
        if not slower or extra >= table.max_extra:
            break
        extra += 1
    return _Sizing(extra, rcu, boosted_percent, seconds)


# --------------------------------------------------------------------------------------------
# Step 2: packing
# --------------------------------------------------------------------------------------------


def _pack(tables: list[_Table], settings: PlannerSettings) -> list[_Slot]:
    """Deal the tables into slots of back-to-back pipelines; solo tables get a slot of their own."""
    window = settings.window_seconds
    boot = settings.emr_bootstrap_seconds
    per_pipeline = settings.max_tables_per_pipeline
    solos = [t for t in tables if t.solo]
    rest = [t for t in tables if not t.solo]
    rest.sort(key=lambda t: (-t.length, t.name))
    slots = [_Slot(batches=[_make_batch([t], boot)], solo=True) for t in sorted(solos, key=lambda t: t.name)]
    if not rest:
        return slots
    free_slots = max(1, settings.max_concurrent_pipelines - len(solos))
    fewest = round_up(len(rest) / per_pipeline)
    work = sum(t.length for t in rest)
    count = max(fewest, min(free_slots, round_up(work / max(1, window - boot))))
    best: _Deal | None = None
    for _ in range(PACKING_DEALS):
        deal = _deal(rest, count, free_slots, settings)
        if best is None or deal.overflow < best.overflow:
            best = deal
        if deal.overflow == 0:
            break
        if count < free_slots:
            # More pipelines side by side: each takes up to a window of work.
            count = min(free_slots, count + max(1, round_up(deal.overflow / max(1, window - boot))))
        elif deal.count_bound and count < len(rest):
            # All slots in use: more pipelines only help when their table limit binds.
            count += max(1, round_up(PIPELINE_GROWTH_SHARE * count))
        else:
            break
    assert best is not None
    for lane, batches in zip(best.lanes, best.pipelines, strict=True):
        if lane:
            slots.append(_Slot(batches=_split_lane(lane, batches, settings)))
    return slots


class _Deal(NamedTuple):
    """Tables dealt to slots: each slot's tables and pipelines, and how well they fit."""

    lanes: list[list[_Table]]
    pipelines: list[int]
    overflow: int  # seconds past the window, summed over slots
    count_bound: bool  # a full slot still had time to spare: more pipelines would help


def _deal(tables: list[_Table], count: int, free_slots: int, settings: PlannerSettings) -> _Deal:
    """LPT with room: each table (longest first) goes to the least-loaded slot with a free place."""
    boot = settings.emr_bootstrap_seconds
    per_pipeline = settings.max_tables_per_pipeline
    lanes_n = min(free_slots, count)
    share, extra = divmod(count, lanes_n)
    counts = [share + (1 if i < extra else 0) for i in range(lanes_n)]
    places = [c * per_pipeline for c in counts]
    loads = [c * boot for c in counts]
    lanes: list[list[_Table]] = [[] for _ in range(lanes_n)]
    # (load in seconds, slot): the least-loaded slot first. Plain tuples: this loop runs for
    # every table in every round.
    heap = [(loads[i], i) for i in range(lanes_n)]
    heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    for table in tables:
        load, i = pop(heap)
        while places[i] == 0:
            load, i = pop(heap)
        lanes[i].append(table)
        places[i] -= 1
        load += table.length
        loads[i] = load
        if places[i]:
            push(heap, (load, i))
        elif not heap:
            break
    # Unused pipelines of a slot are not created: its load drops their bootstraps.
    used = [round_up(len(lane) / per_pipeline) for lane in lanes]
    window = settings.window_seconds
    shortest = tables[-1].length if tables else 0
    overflow = 0
    count_bound = False
    for i in range(lanes_n):
        end = loads[i] - (counts[i] - used[i]) * boot
        overflow += max(0, end - window)
        count_bound = count_bound or (places[i] == 0 and end + shortest <= window)
    return _Deal(lanes, used, overflow, count_bound)


def _make_batch(tables: list[_Table], boot: int) -> _Batch:
    """A pipeline of ``tables`` in this order, with the boosts it holds from its start."""
    batch = _Batch(tables=tables)
    offset = boot
    for table in tables:
        if table.extra:
            batch.holds.append(BoostHold(offset, offset + table.length, table.extra))
            batch.extra += table.extra
        offset += table.length
    batch.seconds = offset
    return batch


def _split_lane(lane: list[_Table], count: int, settings: PlannerSettings) -> list[_Batch]:
    """A slot's tables (longest first) into pipelines: boosted ones spread out, first in theirs.

    A pipeline's boosts are all raised when it starts, so they never add up to more than the
    budget; when they would, the slot gets one more pipeline.
    """
    per_pipeline = settings.max_tables_per_pipeline
    boot = settings.emr_bootstrap_seconds
    budget = settings.max_extra_rcu
    groups: list[list[_Table]] = [[] for _ in range(count)]
    loads = [0] * count
    extras = [0] * count
    boosted = sorted((t for t in lane if t.extra), key=lambda t: (-t.extra, t.name))
    for i, table in enumerate(boosted):
        fitting = [j for j in range(len(groups)) if len(groups[j]) < per_pipeline and extras[j] + table.extra <= budget]
        if not fitting:
            groups.append([])
            loads.append(0)
            extras.append(0)
            fitting = [len(groups) - 1]
        # Round robin, biggest boosts first, so that holds in one pipeline follow each other rarely.
        g = min(fitting, key=lambda j: (len(groups[j]), loads[j], (j - i) % len(groups)))
        groups[g].append(table)
        loads[g] += table.length
        extras[g] += table.extra
    heap = [(loads[j], j) for j in range(len(groups)) if len(groups[j]) < per_pipeline]
    heapq.heapify(heap)
    for table in lane:
        if table.extra:
            continue
        load, g = heapq.heappop(heap)
        groups[g].append(table)
        load += table.length
        loads[g] = load
        if len(groups[g]) < per_pipeline:
            heapq.heappush(heap, (load, g))
    batches = []
    for group in groups:
        if group:
            group.sort(key=_boosted_first)
            batches.append(_make_batch(group, boot))
    return batches


# --------------------------------------------------------------------------------------------
# Step 3: scheduling
# --------------------------------------------------------------------------------------------


class _Lowering(NamedTuple):
    """A boost lowered at ``second`` (from the night's start); ordered by time in the heap."""

    second: int
    extra_rcu: int


# A slot's place among slots ready at the same second when it holds a reservation: first.
_RESERVED = -1


class _SlotReady(NamedTuple):
    """A slot free to start its next pipeline at ``second``; ordered by time, then ``rank``."""

    second: int
    rank: int  # the slot's unboosted pipelines left, or _RESERVED for the reserved slot
    slot: int


@dataclass(slots=True)
class _Reservation:
    """The first slot that must wait for the budget, and when its batch will fit (EASY backfilling)."""

    slot: int
    batch: _Batch
    at: int
    held_then: int  # extra RCU still held at ``at``, by the boosts raised so far


def _schedule(slots: list[_Slot], settings: PlannerSettings) -> int:
    """Start times for every batch: slots run back to back, boosts within the budget.

    A slot that frees starts the batch with the largest boost that fits. When none fits, the
    first such slot gets a reservation for the moment enough boosts will have been lowered; until
    then other slots may only start boosts that do not push that moment back (backfilling), so a
    big boost is not starved by a stream of small ones. No batch's boosts add up to more than the
    budget (see :func:`_split_lane`), so every reservation can be honoured.

    Returns the seconds slots stood idle waiting for the budget.
    """
    budget = settings.max_extra_rcu
    limit = settings.max_concurrent_pipelines
    held = 0
    holds: list[_Lowering] = []
    pending = [list(slot.batches) for slot in slots]
    # Slots ready at the same second go in this order: fewest unboosted batches left first, as
    # they have nothing else to run while they wait for the budget.
    plain = [sum(1 for b in batches if not b.extra) for batches in pending]
    events: list[_SlotReady] = []
    waiting_slots = list(range(len(slots)))[::-1]
    running = 0
    while waiting_slots and running < limit:
        i = waiting_slots.pop()
        running += 1
        events.append(_SlotReady(0, plain[i], i))
    heapq.heapify(events)
    waited = 0
    reserved: _Reservation | None = None
    while events:
        now, _, i = heapq.heappop(events)
        while holds and holds[0].second <= now:
            held -= heapq.heappop(holds).extra_rcu
        left = pending[i]
        if not left:
            running -= 1
            if waiting_slots:
                j = waiting_slots.pop()
                running += 1
                heapq.heappush(events, _SlotReady(now, plain[j], j))
            continue
        room = budget - held
        choice = None
        if reserved is not None and reserved.slot == i:
            # Its moment (it sorts first among slots ready at that second): enough was lowered.
            choice, reserved = reserved.batch, None
        else:
            for batch in left:
                if batch.extra > room or (
                    choice is not None and (batch.extra, batch.seconds) <= (choice.extra, choice.seconds)
                ):
                    continue
                if reserved is not None and batch.extra and not _backfills(batch, now, reserved, budget):
                    continue
                choice = batch
        if choice is None:
            if reserved is None:
                # Only boosted batches are left and none fits: reserve for the biggest.
                target = max(left, key=lambda b: (b.extra, b.seconds))
                at, held_then = _earliest_fit(holds, held, target.extra, budget)
                reserved = _Reservation(slot=i, batch=target, at=at, held_then=held_then)
                waited += at - now
                heapq.heappush(events, _SlotReady(at, _RESERVED, i))
            else:
                # A reservation is pending, so boosts are held until its moment: backfilling may
                # find room when the next one is lowered.
                waited += holds[0].second - now
                heapq.heappush(events, _SlotReady(holds[0].second, plain[i], i))
            continue
        left.remove(choice)
        choice.start = now
        plain[i] -= not choice.extra
        for hold in choice.holds:
            lowered = now + hold.ends_after_seconds
            heapq.heappush(holds, _Lowering(lowered, hold.extra_rcu))
            held += hold.extra_rcu
            if reserved is not None and lowered > reserved.at:
                reserved.held_then += hold.extra_rcu
        heapq.heappush(events, _SlotReady(now + choice.seconds, plain[i], i))
    return waited


class _Room(NamedTuple):
    """Time slot ``slot`` leaves unused, from ``start``: after pipeline ``batch`` (None: before
    any pipeline; a slot numbered past the last is one no pipeline uses)."""

    seconds: int
    slot: int
    start: int  # from the night's start
    batch: _Batch | None


def _rehome_late_tables(slots: list[_Slot], settings: PlannerSettings) -> None:
    """Move unboosted tables that end past the window to time the schedule left unused.

    Packing balances the slots as if each ran its pipelines back to back from the window's start,
    but the budget can hold a boosted pipeline back for hours: the unboosted tables packed behind
    its boosts then end late while other pipelines end early or slots stand idle. An unboosted
    table holds no boost, so moving it changes no hold and no pipeline's start: it goes to the end
    of a pipeline with a place left and time before its slot's next pipeline (or the window's
    end), at no cost; the rest go into new pipelines in a slot's idle time, each for one more
    cluster bootstrap. Shortest first, so that as many as possible end in time; a table no room
    takes goes back where it was, after the tables that stayed (so no pipeline ends later).
    """
    window = settings.window_seconds
    boot = settings.emr_bootstrap_seconds
    lanes = [(i, slot) for i, slot in enumerate(slots) if not slot.solo]
    moving: list[tuple[_Table, _Batch]] = []  # a late table and the pipeline it came from
    origins: set[int] = set()
    for _, slot in lanes:
        for batch in slot.batches:
            if batch.start + batch.seconds <= window:
                continue
            end = batch.start + boot
            kept = []
            for table in batch.tables:
                if end + table.length > window and not table.extra:
                    moving.append((table, batch))
                else:
                    kept.append(table)
                    end += table.length
            if len(kept) < len(batch.tables):
                batch.tables = kept
                origins.add(id(batch))
    if not moving:
        return
    moving.sort(key=lambda pair: (pair[0].length, pair[0].name))
    # A slot's time before its first pipeline and after its last is its own only while no slot
    # waits for a turn (the scheduler starts a waiting slot when one ends). A pipeline that lost
    # tables offers no room: the ones no room takes go back to it.
    whole_night = len(slots) <= settings.max_concurrent_pipelines
    changed = set(origins)

    def free_rooms() -> list[_Room]:
        return [r for r in _rooms(lanes, window, boot, whole_night) if r.batch is None or id(r.batch) not in origins]

    left = _append_where_room(moving, free_rooms(), settings.max_tables_per_pipeline, changed)
    if left:
        # Measured again: the appended tables took some of the time after their pipelines.
        rooms = free_rooms()
        if whole_night:
            free = settings.max_concurrent_pipelines - len(slots)
            rooms += [_Room(window, len(slots) + n, 0, None) for n in range(free)]
        left = _new_pipelines_for(left, slots, rooms, settings)
    for table, origin in left:
        origin.tables.append(table)
    for _, slot in lanes:
        rebuilt = []
        for batch in slot.batches:
            # Tables were only taken from after its boosts or added after them: every boost is
            # held as long as before, or less.
            current = _make_batch(batch.tables, boot) if id(batch) in changed else batch
            current.start = batch.start
            if current.tables:
                rebuilt.append(current)
        slot.batches = rebuilt


def _rooms(lanes: list[tuple[int, _Slot]], window: int, boot: int, whole_night: bool) -> list[_Room]:
    """The unused time in the window of each slot: after each pipeline up to its slot's next
    start, and, when every slot runs the whole night, before its first pipeline (while it waits
    for the budget) and after its last."""
    rooms = []
    for i, slot in lanes:
        ordered = sorted(slot.batches, key=lambda b: b.start)
        if whole_night and ordered and ordered[0].start > 0:
            rooms.append(_Room(min(window, ordered[0].start), i, 0, None))
        for k, batch in enumerate(ordered):
            end = batch.start + boot + sum(t.length for t in batch.tables)
            last = k + 1 == len(ordered)
            until = (window if whole_night else end) if last else min(window, ordered[k + 1].start)
            if until > end:
                rooms.append(_Room(until - end, i, end, batch))
    return rooms


def _by_room(room: _Room) -> tuple[int, int, int]:
    """Rooms smallest first (then by slot and time, so that the same night gives the same plan)."""
    return (room.seconds, room.slot, room.start)


def _append_where_room(
    moving: list[tuple[_Table, _Batch]], rooms: list[_Room], per_pipeline: int, changed: set[int]
) -> list[tuple[_Table, _Batch]]:
    """Append each table (shortest first) to the pipeline whose room fits it most tightly, so
    that longer tables still find room; returns those no room fits."""
    open_rooms = sorted((r for r in rooms if r.batch is not None and len(r.batch.tables) < per_pipeline), key=_by_room)
    left = []
    for table, origin in moving:
        index = bisect.bisect_left(open_rooms, table.length, key=lambda r: r.seconds)
        if index == len(open_rooms):
            left.append((table, origin))
            continue
        room = open_rooms.pop(index)
        assert room.batch is not None
        room.batch.tables.append(table)
        changed.add(id(room.batch))
        if len(room.batch.tables) < per_pipeline:
            rest = room._replace(seconds=room.seconds - table.length, start=room.start + table.length)
            bisect.insort(open_rooms, rest, key=_by_room)
    return left


def _new_pipelines_for(
    moving: list[tuple[_Table, _Batch]], slots: list[_Slot], rooms: list[_Room], settings: PlannerSettings
) -> list[tuple[_Table, _Batch]]:
    """New pipelines of the tables (shortest first) in the largest idle times of the slots;
    returns the tables none takes."""
    boot = settings.emr_bootstrap_seconds
    per_pipeline = settings.max_tables_per_pipeline
    existing = len(slots)
    queue = moving[::-1]  # pop() takes the shortest
    for room in sorted(rooms, key=lambda r: (-r.seconds, r.slot, r.start)):
        if not queue or room.seconds < boot + queue[-1][0].length:
            continue
        taken: list[_Table] = []
        used = boot
        while queue and len(taken) < per_pipeline and used + queue[-1][0].length <= room.seconds:
            table, _ = queue.pop()
            used += table.length
            taken.append(table)
        batch = _make_batch(taken, boot)
        batch.start = room.start
        if room.slot < existing:
            slots[room.slot].batches.append(batch)
        else:
            slots.append(_Slot(batches=[batch]))
    return queue[::-1]


class _Fit(NamedTuple):
    """When a boost fits the budget, and the extra RCU still held then."""

    at: int
    held_then: int


def _earliest_fit(holds: list[_Lowering], held: int, need: int, budget: int) -> _Fit:
    """When enough boosts will have been lowered for ``need`` more, and what is held then."""
    ordered = sorted(holds)
    index = 0
    while index < len(ordered):
        at = ordered[index].second
        while index < len(ordered) and ordered[index].second == at:
            held -= ordered[index].extra_rcu
            index += 1
        if held + need <= budget:
            return _Fit(at, held)
    return _Fit(ordered[-1].second if ordered else 0, held)


def _backfills(batch: _Batch, now: int, reserved: _Reservation, budget: int) -> bool:
    """Whether starting ``batch`` now leaves the reservation's moment where it is."""
    still_held = sum(hold.extra_rcu for hold in batch.holds if now + hold.ends_after_seconds > reserved.at)
    return reserved.held_then + still_held + reserved.batch.extra <= budget


def _boosted_first(table: _Table) -> tuple[bool, int, int, str]:
    """Order in a pipeline: boosted first, biggest boost first (each is held from the pipeline's start)."""
    return (table.extra == 0, -table.extra, table.length, table.name)


# --------------------------------------------------------------------------------------------
# The shadow-price search
# --------------------------------------------------------------------------------------------


def _attempt(tables: list[_Table], settings: PlannerSettings, shadow: CostModel, boost_any: bool) -> _Attempt:
    """One round: size at the ``shadow`` prices, pack, schedule, and rank it at the list prices."""
    _size_all(tables, settings, shadow, boost_any)
    slots = _pack(tables, settings)
    _schedule(slots, settings)
    _rehome_late_tables(slots, settings)
    window = settings.window_seconds
    boot = settings.emr_bootstrap_seconds
    late = 0
    busy = 0
    held = 0
    for slot in slots:
        if slot.solo:
            continue
        for batch in slot.batches:
            busy += batch.seconds
            end = batch.start + boot
            for table in batch.tables:
                end += table.length
                late += end > window
            held += sum(hold.extra_rcu * hold.ends_after_seconds for hold in batch.holds)
    free_slots = max(1, settings.max_concurrent_pipelines - sum(slot.solo for slot in slots))
    # The same bill, at the same prices, as the estimate the plan reports (estimate_cost).
    bill = NightBill()
    for slot in slots:
        for batch in slot.batches:
            bill.add_pipeline(batch.seconds, batch.holds)
    # Snapshot the choices: the next round's sizing changes the working tables.
    return _Attempt(
        choices=[_Choice(t.extra, t.rcu, t.percent, t.length, t.solo) for t in tables],
        batches=[
            _Placed(slot_index, b.start, [t.index for t in b.tables])
            for slot_index, slot in enumerate(slots)
            for b in slot.batches
        ],
        late=late,
        time_use=busy / (free_slots * window),
        budget_use=held / (settings.max_extra_rcu * window) if settings.max_extra_rcu else 0.0,
        cost_usd=bill.pipeline_usd(CostModel.at(settings.prices)),
    )


class _Premiums(NamedTuple):
    """What the search adds to the list prices, in USD: per cluster-hour and per RCU-hour."""

    time: float
    budget: float


def _search(tables: list[_Table], settings: PlannerSettings) -> _Attempt:
    """Raise the shadow prices of cluster time and of the budget until the night fits."""
    prices = settings.prices
    cluster_base = prices.cluster_hour_usd if prices.cluster_hour_usd > 0 else FREE_CLUSTER_HOUR_PRICE
    rcu_base = prices.rcu_hour_usd if prices.rcu_hour_usd > 0 else cluster_base / FREE_RCU_PRICE_DIVISOR

    def attempt(premiums: _Premiums) -> _Attempt:
        # Once cluster time is short, every table may be boosted, not only the slow ones.
        boost_any = premiums.time > 0
        shadow = CostModel(cluster_base + premiums.time, rcu_base + premiums.budget)
        return _attempt(tables, settings, shadow, boost_any)

    premiums = _Premiums(0.0, 0.0)
    current = attempt(premiums)
    best = current
    rounds = 1
    stale = 0  # rounds since the best plan last improved
    # Without a budget no price changes the sizing: nothing to search. A night that cannot fit
    # stops improving after a few rounds: then the plan with the fewest late tables is kept.
    while not current.fits and rounds < MAX_ROUNDS and stale < STALE_ROUNDS and settings.max_extra_rcu:
        bad = premiums
        time_premium, budget_premium = premiums
        if current.budget_use > current.time_use:
            # The budget is the scarcer: smaller boosts, held for longer.
            budget_premium = (budget_premium or rcu_base) * BUDGET_PREMIUM_GROWTH
        else:
            # The slots are: faster backups, bigger boosts.
            time_premium = (
                time_premium * TIME_PREMIUM_GROWTH if time_premium else cluster_base * FIRST_TIME_PREMIUM_SHARE
            )
        premiums = _Premiums(time_premium, budget_premium)
        current = attempt(premiums)
        rounds += 1
        if current.key < best.key:
            best, stale = current, 0
        else:
            stale += 1
        if current.fits:
            # The cheapest feasible prices lie between the last bad and the first good ones.
            good = premiums
            for _ in range(BISECTION_ROUNDS):
                middle = _Premiums((good.time + bad.time) / 2, (good.budget + bad.budget) / 2)
                trial = attempt(middle)
                if not trial.fits:
                    bad = middle
                elif trial.key < best.key:
                    good, best = middle, trial
                else:
                    break  # feasible but no cheaper: lower prices are not paying off
    return best


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


class _Emitted(NamedTuple):
    """A batch of the plan before it is numbered: by start, pipelines before exports, then slot."""

    start: int
    kind: int  # 0 for a pipeline, 1 for a group of native exports
    order: int  # twice the cluster's slot (plus one for the emr half of a split one), or the export group's first table
    batch: Batch


def _emit_batches(
    tables: list[_Table], attempt: _Attempt | None, exports: list[TableSnapshot], settings: PlannerSettings
) -> list[Batch]:
    """The plan's batches, numbered in start order."""
    boot = settings.emr_bootstrap_seconds
    ordered: list[_Emitted] = []
    if attempt is not None:
        for slot_index, start, members in attempt.batches:
            # A cluster runs one engine's tables: a slot's batch holding both is split in two,
            # which start together on clusters of their own (each then ends sooner).
            for engine in ("datapipeline", "emr"):
                own = [index for index in members if tables[index].engine == engine]
                if not own:
                    continue
                planned = []
                offset = boot
                for index in own:
                    table = tables[index]
                    choice = attempt.choices[index]
                    planned.append(
                        PlannedTable(
                            name=table.name,
                            engine=table.engine,
                            size_bytes=table.size,
                            on_demand=table.on_demand,
                            original_read_capacity_units=table.original_rcu,
                            read_capacity_units=choice.rcu,
                            read_throughput_percent=choice.percent,
                            start_offset_seconds=offset,
                            estimated_seconds=choice.length,
                        )
                    )
                    offset += choice.length
                batch = Batch(
                    id="b0000",
                    engine=table.engine,
                    start_seconds=start,
                    estimated_seconds=offset,
                    tables=planned,
                )
                ordered.append(_Emitted(start, 0, 2 * slot_index + (engine == "emr"), batch))
    for index in range(0, len(exports), EXPORT_BATCH_SIZE):
        planned = [
            PlannedTable(
                name=t.name,
                engine="export",
                size_bytes=t.size_bytes,
                on_demand=t.on_demand,
                original_read_capacity_units=0 if t.on_demand else t.read_capacity_units,
                read_capacity_units=0 if t.on_demand else t.read_capacity_units,
                read_throughput_percent=settings.read_throughput_percent,
                start_offset_seconds=0,
                estimated_seconds=EXPORT_ESTIMATED_SECONDS,
            )
            for t in exports[index : index + EXPORT_BATCH_SIZE]
        ]
        batch = Batch(
            id="b0000",
            engine="export",
            start_seconds=0,
            estimated_seconds=EXPORT_ESTIMATED_SECONDS,
            tables=planned,
        )
        ordered.append(_Emitted(0, 1, index, batch))
    ordered.sort(key=lambda entry: (entry.start, entry.kind, entry.order))
    batches = []
    for number, entry in enumerate(ordered, start=1):
        entry.batch.id = f"b{number:04d}"
        batches.append(entry.batch)
    return batches


def _flags(
    tables: list[_Table], attempt: _Attempt | None, batches: list[Batch], settings: PlannerSettings
) -> list[FlaggedTable]:
    """Tables that cannot fit even at their best (planned alone), and tables that end past the window."""
    window = settings.window_seconds
    solo = set()
    if attempt is not None:
        solo = {tables[i].name for i, choice in enumerate(attempt.choices) if choice.solo}
    flagged = []
    pipelines = [b for b in batches if b.engine in CLUSTER_ENGINES]
    held_back: dict[str, str] = {}  # batch id -> why it starts when it does
    busy: list[_Busy] = []  # drawn only when a table is late
    for batch in pipelines:
        for table in batch.tables:
            end = batch.start_seconds + table.start_offset_seconds + table.estimated_seconds
            if table.name in solo:
                if table.on_demand:
                    why = (
                        "on-demand, so it cannot be boosted; the export tool reads it at "
                        f"{table.read_throughput_percent:g} of {table.read_capacity_units} RCU, which takes "
                        f"{_duration(end)}, and the window is {_duration(window)}; planned alone"
                    )
                else:
                    why = (
                        f"cannot finish inside the window even at {table.read_capacity_units} RCU "
                        f"(the most it may get): it takes {_duration(end)} and the window is "
                        f"{_duration(window)}; planned alone"
                    )
                flagged.append(FlaggedTable(name=table.name, reason=why))
            elif end > window:
                if batch.id not in held_back:
                    busy = busy or _busy_timeline(pipelines)
                    held_back[batch.id] = _why_it_starts_then(batch, busy, settings)
                flagged.append(
                    FlaggedTable(
                        name=table.name,
                        reason=f"estimated to end {_duration(end - window)} after the window closes: "
                        f"{held_back[batch.id]}; {_its_place(table)}",
                    )
                )
    flagged.sort(key=lambda f: f.name)
    return flagged


class _Busy(NamedTuple):
    """From ``second`` on (until the next change), ``extra_rcu`` held and ``pipelines`` running."""

    second: int
    extra_rcu: int
    pipelines: int


def _busy_timeline(pipelines: Sequence[Batch]) -> list[_Busy]:
    """The extra RCU held and the pipelines running, at every change."""
    deltas: dict[int, list[int]] = {}
    for batch in pipelines:
        deltas.setdefault(batch.start_seconds, [0, 0])[1] += 1
        deltas.setdefault(batch.start_seconds + batch.estimated_seconds, [0, 0])[1] -= 1
        for hold in boost_holds(batch):
            deltas[batch.start_seconds][0] += hold.extra_rcu
            deltas.setdefault(batch.start_seconds + hold.ends_after_seconds, [0, 0])[0] -= hold.extra_rcu
    held = running = 0
    timeline = []
    for second in sorted(deltas):
        held += deltas[second][0]
        running += deltas[second][1]
        timeline.append(_Busy(second, held, running))
    return timeline


def _why_it_starts_then(batch: Batch, busy: list[_Busy], settings: PlannerSettings) -> str:
    """What kept a pipeline from starting earlier: the budget, the pipeline limit, or its slot."""
    start = batch.start_seconds
    if start == 0:
        return "its pipeline starts with the window"
    # What was held and running in the last second before it started (it had not, then).
    index = bisect.bisect_right(busy, start - 1, key=lambda level: level.second) - 1
    then = busy[index] if index >= 0 else _Busy(0, 0, 0)
    extra = sum(hold.extra_rcu for hold in boost_holds(batch))
    if extra and then.extra_rcu + extra > settings.max_extra_rcu:
        return (
            f"its pipeline waits until {_duration(start)} for the extra-RCU budget (its boosts need "
            f"{extra:,} RCU; {then.extra_rcu:,} of the {settings.max_extra_rcu:,} are held until then)"
        )
    limit = settings.max_concurrent_pipelines
    if then.pipelines >= limit:
        return (
            f"its pipeline waits until {_duration(start)} for one of the {limit:,} pipeline"
            f"{'' if limit == 1 else 's'} allowed at once"
        )
    return f"its pipeline starts at {_duration(start)}, after the one before it on the same cluster slot"


def _its_place(table: PlannedTable) -> str:
    """How long a table waits in its pipeline and then reads, with the numbers."""
    rate = table.read_capacity_units * table.read_throughput_percent
    return (
        f"then {_duration(table.start_offset_seconds)} of cluster bootstrap and tables before it, and "
        f"{_duration(table.estimated_seconds)} to read {decimal_size(table.size_bytes)} at {rate:,.0f} RCU"
    )


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), HOUR)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"
