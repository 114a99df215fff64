"""The contract between states: every document a Lambda reads or writes is one of these models.

The models do no I/O. Large documents (the inventory, the plan, the run's progress) are stored
in the backup bucket and passed between states by reference (:class:`RunRef`), so that each
state's input and output stays far below Step Functions' 256 KB payload limit even for 10,000
tables.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hippolyte.history_budget import MIN_POLL_SECONDS

BillingMode = Literal["PROVISIONED", "PAY_PER_REQUEST"]
Engine = Literal["datapipeline", "emr", "export"]
# The stack's Engine parameter: an engine for every table, or ``auto``, which chooses per table by
# estimated cost between the emr engine and the native export (hippolyte.engine_costs).
StackEngine = Literal["auto", "datapipeline", "emr", "export"]
# How a table's engine was chosen: its hippolyte:engine tag, the stack's Engine, or by cost (auto).
EngineSource = Literal["tag", "stack", "auto"]
# The engines that read tables on EMR clusters, through the export tool, and so use read capacity.
CLUSTER_ENGINES: frozenset[str] = frozenset({"datapipeline", "emr"})
TableName = Annotated[str, Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_.\-]+$")]
NonNegativeInt = Annotated[int, Field(ge=0)]
# DynamoDBDataNode's readThroughputPercent: "a double between 0.1 and 1.0, inclusively" (AWS Data
# Pipeline Developer Guide, DynamoDBDataNode). Every share Hippolyte writes stays in this range.
MIN_READ_THROUGHPUT_PERCENT = 0.1
MAX_READ_THROUGHPUT_PERCENT = 1.0
ReadPercent = Annotated[float, Field(ge=MIN_READ_THROUGHPUT_PERCENT, le=MAX_READ_THROUGHPUT_PERCENT)]
# The EMR DynamoDB export tool reads an on-demand table as if it had this many RCU:
# DEFAULT_CAPACITY_FOR_ON_DEMAND in awslabs/emr-dynamodb-connector,
# emr-dynamodb-hadoop/src/main/java/org/apache/hadoop/dynamodb/DynamoDBConstants.java, set for
# on-demand tables by emr-dynamodb-tools/.../DynamoDBExport.java (setTableProperties) and turned into
# a rate by emr-dynamodb-hadoop/.../read/ReadIopsCalculator.java: floor(capacity x percent) per second.
EXPORT_TOOL_ON_DEMAND_CAPACITY = 40_000
# DescribeLimits' AccountMaxReadCapacityUnits by default (DynamoDB "Service, account, and table
# quotas"; aws-facts): the extra-RCU budget of an account nothing is provisioned in.
DEFAULT_MAX_EXTRA_RCU = 80_000


def first_error(error: ValidationError, default_field: str = "input") -> tuple[str, str]:
    """The first problem pydantic found: the field's dotted path and the message, for one-line errors.

    >>> try:
    ...     ExecutionInput.model_validate({"poll_seconds": -1})
    ... except ValidationError as error:
    ...     first_error(error)
    ('poll_seconds', 'Input should be greater than or equal to 120')
    """
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or default_field
    return field, str(first["msg"]).removeprefix("Value error, ")


class Model(BaseModel):
    """Base for every model: unknown fields are an error, so a typo in input never passes silently.

    Documents read back from S3 or the ledger are validated with ``extra="ignore"`` instead
    (adapters/run_store.py, backup_catalog.py, ledger.py): a newer version may have added fields.
    """

    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------------------------
# Tables as discovery sees them
# --------------------------------------------------------------------------------------------


class IndexCapacity(Model):
    """Provisioned throughput of one global secondary index."""

    name: str
    read_capacity_units: NonNegativeInt
    write_capacity_units: NonNegativeInt


class TableSnapshot(Model):
    """What one table looked like when the run discovered it."""

    name: TableName
    billing_mode: BillingMode = "PROVISIONED"
    read_capacity_units: NonNegativeInt = 0
    write_capacity_units: NonNegativeInt = 0
    size_bytes: NonNegativeInt = 0
    item_count: NonNegativeInt = 0
    gsis: list[IndexCapacity] = Field(default_factory=list)
    engine: Engine = "datapipeline"
    # How the engine was chosen, and why, in words for the plan and the report.
    engine_source: EngineSource = "stack"
    engine_reason: str = ""
    pitr_enabled: bool = False

    @property
    def on_demand(self) -> bool:
        """True for PAY_PER_REQUEST tables, which have no capacity to boost."""
        return self.billing_mode == "PAY_PER_REQUEST"


class SkippedTable(Model):
    """A table the run will not back up, and why (it still appears in the report)."""

    name: str
    reason: str
    # Whether the table should still have a fresh backup: true when it was left out for a reason
    # of the night (another run holds it, point-in-time recovery is off), false when the rules
    # exclude it or it is gone. Expected tables count in TablesWithoutFreshBackup.
    expected: bool = False


class Inventory(Model):
    """The tables one run found: written to S3 by DiscoverTables."""

    tables: list[TableSnapshot]
    skipped: list[SkippedTable] = Field(default_factory=list)
    # False for a re-run of named tables: its tables are not the account's whole expected set.
    whole_account: bool = True


# --------------------------------------------------------------------------------------------
# The plan
# --------------------------------------------------------------------------------------------


class Prices(Model):
    """Unit prices the cost estimate assumes (us-east-1 list prices; see docs/aws-facts)."""

    # DynamoDB provisioned read capacity, per RCU-hour, billed for every started hour.
    rcu_hour_usd: Annotated[float, Field(ge=0)] = 0.00013
    # DynamoDB on-demand reads, per million read request units (us-east-1 after the November 2024
    # price cut; aws.amazon.com/dynamodb/pricing/on-demand/ and aws-facts). An eventually consistent
    # read of up to 4 KB takes half a unit, so scanning a table costs about its size / 8 KB units.
    on_demand_read_million_usd: Annotated[float, Field(ge=0)] = 0.125
    # One EMR cluster per pipeline: EC2 + EMR uplift per instance-hour (m5.xlarge 0.192 + 0.048),
    # times the instances of the cluster (1 master + 1 core by default). EMR bills per second.
    instance_hour_usd: Annotated[float, Field(ge=0)] = 0.240
    instances_per_cluster: Annotated[int, Field(ge=1)] = 2
    # DynamoDB's native export (full), per GB of table (aws.amazon.com/dynamodb/pricing, "Export
    # to Amazon S3"; aws-facts). It needs point-in-time recovery, billed per GB-month of table
    # (the same page, "Continuous backups (PITR)").
    export_gb_usd: Annotated[float, Field(ge=0)] = 0.10
    pitr_gb_month_usd: Annotated[float, Field(ge=0)] = 0.20

    @property
    def cluster_hour_usd(self) -> float:
        """Price of one EMR cluster for one hour."""
        return self.instance_hour_usd * self.instances_per_cluster


class PlannerSettings(Model):
    """Every knob of the planner, with defaults taken from AWS's documented limits."""

    window_seconds: Annotated[int, Field(gt=0, le=24 * 3600)] = 7 * 3600
    read_throughput_percent: ReadPercent = 0.5
    # The EMR DynamoDB connector scans with eventually consistent reads and throttles itself to
    # RCU x percent x 8 KB/s (4096 B x 2 for eventual consistency), awslabs/emr-dynamodb-connector.
    bytes_per_rcu_second: Annotated[float, Field(gt=0)] = 8192.0
    emr_bootstrap_seconds: NonNegativeInt = 600
    activity_bootstrap_seconds: NonNegativeInt = 60
    # 100 objects per pipeline (Data Pipeline default limit): 3 per table + Default + EmrCluster.
    max_tables_per_pipeline: Annotated[int, Field(ge=1, le=32)] = 32
    # Data Pipeline's default account limit is 100 pipelines.
    max_concurrent_pipelines: Annotated[int, Field(ge=1)] = 100
    # Extra RCU the run may hold across the account at once. DescribeLimits'
    # AccountMaxReadCapacityUnits (default 80,000) minus what is already provisioned.
    max_extra_rcu: NonNegativeInt = DEFAULT_MAX_EXTRA_RCU
    # DescribeLimits' TableMaxReadCapacityUnits, default 40,000.
    table_max_rcu: Annotated[int, Field(ge=1)] = 40_000
    # The capacity the export tool reads an on-demand table at (see EXPORT_TOOL_ON_DEMAND_CAPACITY):
    # the tool's, not the table's, so only a different build of the tool would change it.
    on_demand_assumed_rcu: Annotated[int, Field(ge=1)] = EXPORT_TOOL_ON_DEMAND_CAPACITY
    # The share of that capacity an on-demand table is read at: the lowest the tool accepts, 4,000
    # read request units a second. DynamoDB serves a new on-demand table 12,000 at once and may
    # throttle traffic above double a table's previous peak (DynamoDB Developer Guide, on-demand
    # "Initial throughput and scaling properties"); the ordinary 0.5, 20,000 a second, passes the
    # first, and the second for every table whose traffic never reached 10,000 a second: the
    # application's requests would be throttled with the export's.
    # On-demand reads cost the same whatever their rate: reading slower costs only cluster time.
    on_demand_read_throughput_percent: ReadPercent = MIN_READ_THROUGHPUT_PERCENT
    # Boosting below an hour is rarely worth it: capacity bills for every started hour.
    min_boosted_seconds: Annotated[int, Field(ge=60)] = 3600
    prices: Prices = Field(default_factory=Prices)


class PlannedTable(Model):
    """One table's place in a batch."""

    name: str
    engine: Engine = "datapipeline"
    engine_reason: str = ""
    size_bytes: NonNegativeInt
    on_demand: bool = False
    original_read_capacity_units: NonNegativeInt
    # Capacity during the backup; for on-demand tables, the capacity the export tool assumes.
    read_capacity_units: NonNegativeInt
    read_throughput_percent: ReadPercent
    start_offset_seconds: NonNegativeInt = 0
    estimated_seconds: NonNegativeInt

    @property
    def boosted(self) -> bool:
        """True when the plan raises this table's read capacity."""
        return not self.on_demand and self.read_capacity_units > self.original_read_capacity_units

    @property
    def extra_read_capacity_units(self) -> int:
        """RCU the boost adds on top of the table's own."""
        return self.read_capacity_units - self.original_read_capacity_units if self.boosted else 0


class Batch(Model):
    """One pipeline (one EMR cluster running its tables in turn), or one group of native exports."""

    id: Annotated[str, Field(pattern=r"^b\d{4,}$")]
    engine: Engine = "datapipeline"
    start_seconds: NonNegativeInt = 0
    estimated_seconds: NonNegativeInt
    tables: list[PlannedTable]


class FlaggedTable(Model):
    """A table planned, but with a warning a person should read."""

    name: str
    reason: str


class LowerBound(Model):
    """The fewest Data Pipeline tables any plan must leave past the window, under the same limits.

    No plan can do better than this; a plan with as many late tables as the bound is as good as
    lateness allows. ``reasons`` name each constraint that forces lateness, with its numbers.
    ``late_tables`` holds every boost as plans do today, from its pipeline's start to its table's
    end (Data Pipeline raises no capacity per table); the ``..._if_boosts_held_only_while_read``
    fields give the bound for boosts raised when their table's read starts: the gap between the
    two is what such just-in-time boosts could win.
    """

    late_tables: NonNegativeInt = 0
    reasons: list[str] = Field(default_factory=list)
    # None in plans stored by a version that did not compute it.
    late_tables_if_boosts_held_only_while_read: NonNegativeInt | None = None
    reasons_if_boosts_held_only_while_read: list[str] = Field(default_factory=list)
    # The least any plan with no more late tables than this one can cost: every cluster's bootstrap,
    # every table read at its fastest, the least boost the tables that must be boosted need, and
    # the on-demand tables' read requests, at the plan's prices.
    cost_usd: Annotated[float, Field(ge=0)] = 0.0


class CostEstimate(Model):
    """The night's estimated cost, with the unit prices it assumed."""

    emr_cluster_hours: float
    extra_rcu_hours: float
    emr_usd: float
    rcu_usd: float
    total_usd: float
    prices: Prices
    # Read request units the exports of on-demand tables consume, and what they cost.
    on_demand_read_units: float = 0.0
    on_demand_read_usd: float = 0.0
    # What holding boosts from their batch's start costs: the RCU-hours boosted tables are billed
    # while they wait for their turn in their pipeline (Data Pipeline raises no capacity per table,
    # so a boost is applied before the batch starts), and their price.
    waiting_rcu_hours: float = 0.0
    waiting_rcu_usd: float = 0.0


class Plan(Model):
    """The planner's output: what runs where and when, and what it costs."""

    batches: list[Batch]
    window_seconds: int
    bytes_per_rcu_second: float
    emr_bootstrap_seconds: int
    activity_bootstrap_seconds: int
    max_extra_rcu: int
    # The pipeline limit the plan was made for (its waves never run more at once).
    max_concurrent_pipelines: Annotated[int, Field(ge=1)] = 100
    peak_extra_rcu: NonNegativeInt = 0
    flagged: list[FlaggedTable] = Field(default_factory=list)
    skipped: list[SkippedTable] = Field(default_factory=list)
    cost: CostEstimate
    # None in plans stored by a version that did not compute it.
    lower_bound: LowerBound | None = None


# --------------------------------------------------------------------------------------------
# Execution input and the state passed between states
# --------------------------------------------------------------------------------------------


class ExecutionInput(Model):
    """What a person (or the nightly schedule) may pass to the backup state machine."""

    tables: list[TableName] | None = Field(default=None, description="Back up only these tables (the manual re-run).")
    # The floor keeps a night that polls until its timeout inside Step Functions' history limit
    # (see history_budget.py).
    poll_seconds: Annotated[int, Field(ge=MIN_POLL_SECONDS, le=3600)] = 300

    @field_validator("tables")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if not value:
                raise ValueError("must name at least one table, or be left out to back up all")
            duplicates = sorted(name for name, count in Counter(value).items() if count > 1)
            if duplicates:
                raise ValueError(f"names a table twice: {', '.join(duplicates)}")
        return value


class RunRef(Model):
    """Where one run keeps its documents; the only thing states pass to each other."""

    run_id: str
    execution_id: str
    bucket: str
    started_at: datetime

    @property
    def prefix(self) -> str:
        """Key prefix of the run's documents in the backup bucket."""
        return f"runs/{self.run_id}/"

    def key(self, name: str) -> str:
        """Key of one of the run's documents."""
        return f"{self.prefix}{name}.json"


LoopStatus = Literal["waiting", "start_next", "done"]


class RunContext(Model):
    """The small document that travels through the state machine."""

    run: RunRef
    poll_seconds: int
    status: LoopStatus = "start_next"
    # How long WaitForPipelines waits: the poll interval, or less when CheckPipelines expects a
    # running table to end sooner (see hippolyte.poll_timing). 0 until a poll has set it.
    wait_seconds: Annotated[int, Field(ge=0)] = 0
    # Batches the next CreatePipelines Map starts; filled by ScaleUpReadCapacity. Each start
    # stores its own result in the run's documents (see workflow/batch_starts.py).
    wave: list[WaveItem] = Field(default_factory=list)


class WaveItem(Model):
    """One batch to start, as the Map iterates it, with the attempt its result is stored under."""

    batch_id: str
    attempt: Annotated[int, Field(ge=1)] = 1


class StartedBatch(Model):
    """What starting one batch gave: its pipeline (or exports), or why it could not start."""

    batch_id: str
    pipeline_id: str | None = None
    export_arns: dict[str, str] = Field(default_factory=dict)
    # The emr engine: the batch's cluster, and the tables whose steps went with RunJobFlow.
    cluster_id: str | None = None
    stepped: list[str] = Field(default_factory=list)
    error: str | None = None
    cause: str | None = None


class CreateBatchRequest(Model):
    """Input of one CreatePipelines iteration."""

    run: RunRef
    batch_id: str
    attempt: Annotated[int, Field(ge=1)] = 1
    # The run's poll interval: an emr cluster's idle timeout must outlast the wait between steps.
    poll_seconds: Annotated[int, Field(ge=MIN_POLL_SECONDS, le=3600)] = 300


# --------------------------------------------------------------------------------------------
# Progress and outcomes
# --------------------------------------------------------------------------------------------

# starting: ScaleUpReadCapacity chose it and CreatePipeline has not stored its result yet.
# boosting: admitted to a wave, its boosts not all applied yet (an invocation ran short of time);
# the next ScaleUpReadCapacity finishes them before the batch is started.
BatchStatus = Literal["pending", "boosting", "starting", "running", "ended", "not_started"]
OutcomeStatus = Literal["backed_up", "failed", "skipped"]


class BatchProgress(Model):
    """Where one batch is in its life."""

    batch_id: str
    status: BatchStatus = "pending"
    # How many times ScaleUpReadCapacity has started it (refusals at the pipeline limit start it again).
    attempt: NonNegativeInt = 0
    # Its tables whose boost step has ended (raised, refused, unchanged or gone): never raised again.
    boosts_done: list[str] = Field(default_factory=list)
    pipeline_id: str | None = None
    export_arns: dict[str, str] = Field(default_factory=dict)
    pipeline_state: str | None = None
    # The emr engine: the batch's cluster, its state when last read, and the tables whose export
    # steps have been added to it (see hippolyte.emr_job_flows.step_groups).
    cluster_id: str | None = None
    cluster_state: str | None = None
    stepped: list[str] = Field(default_factory=list)
    # When CheckPipelines last read its pipeline's run (see hippolyte.poll_timing.runs_to_read).
    run_read_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


class TableOutcome(Model):
    """How the night ended for one table."""

    name: str
    status: OutcomeStatus
    reason: str | None = None
    s3_path: str | None = None
    items: NonNegativeInt | None = None
    bytes: NonNegativeInt | None = None
    engine: Engine = "datapipeline"
    # Why it ran on that engine (its tag, the stack's Engine, or auto's figures): for the report.
    engine_reason: str = ""


class CapacityNote(Model):
    """A table whose capacity is not back to its original yet, and when reconcile tries again."""

    name: str
    reason: str
    retry_after: datetime | None = None


class RunProgress(Model):
    """The run's whole state, kept in S3 and rewritten by the sequential states."""

    batches: dict[str, BatchProgress] = Field(default_factory=dict)
    outcomes: dict[str, TableOutcome] = Field(default_factory=dict)
    # Tables whose boost is applied and not yet taken back: extra RCU each holds now.
    raised: dict[str, NonNegativeInt] = Field(default_factory=dict)
    restored: list[str] = Field(default_factory=list)
    capacity_pending: dict[str, CapacityNote] = Field(default_factory=dict)
    # Things a person should read in the report that are not a table's outcome.
    notes: list[str] = Field(default_factory=list)
    deadline: datetime | None = None
    limit_retries: dict[str, NonNegativeInt] = Field(default_factory=dict)
    # Data Pipeline refused a batch at the account's pipeline limit on this poll: the loop waits a
    # poll interval before asking again, instead of asking again at once.
    refused_this_poll: bool = False
    restore_rounds: NonNegativeInt = 0


class StateError(Model):
    """The error a Catch caught: Step Functions' ``{"Error", "Cause"}``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    error: str = Field(default="States.Unknown", alias="Error")
    cause: str = Field(default="", alias="Cause")


class FailureContext(Model):
    """Input of the failure path: the failed state's input (with the caught error) and the execution."""

    state: dict[str, Any] = Field(default_factory=dict)
    execution_id: str
    execution_name: str

    @property
    def run(self) -> RunRef | None:
        """The run's reference, when the run got far enough to have one."""
        run = self.state.get("run")
        return RunRef.model_validate(run) if isinstance(run, dict) else None

    @property
    def error(self) -> StateError:
        """The error the Catch caught."""
        error = self.state.get("error")
        return StateError.model_validate(error) if isinstance(error, dict) else StateError()


class PublishedReport(Model):
    """A message sent to the report topic: its subject, and the id SNS gave it."""

    subject: str
    message_id: str | None = None


class RunReport(PublishedReport):
    """What NotifyResult sends and returns."""

    outcome: Literal["SUCCEEDED", "FAILED"]
    backed_up: NonNegativeInt
    failed: NonNegativeInt
    skipped: NonNegativeInt
    capacity_pending: NonNegativeInt = 0
    # Tables that should be backed up whose newest verified backup is older than FreshnessHours
    # (or that have none): the TablesWithoutFreshBackup metric. The report lists them. None when the
    # run ended before it had an inventory (nothing to count).
    without_fresh_backup: NonNegativeInt | None = None
    error: StateError | None = None


RunContext.model_rebuild()
