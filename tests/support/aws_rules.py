"""AWS rules that moto does not enforce, enforced for fault-injection tests.

moto 5.2.5 accepts calls that AWS refuses: a DynamoDB table never goes UPDATING, any number of
decreases, same-value updates, throughput on on-demand tables and concurrent updates all succeed;
Application Auto Scaling registers any bounds and never changes a table;
Data Pipeline ignores ``uniqueId``, has no limits, returns ``[]`` for an unknown id, raises a raw
``KeyError`` on ActivatePipeline of one, has no QueryObjects, and after an activation nothing runs,
fails or is cancelled. Code that is correct against moto can therefore be wrong against AWS.
:class:`StrictAws` patches moto's backend classes (``unittest.mock.patch.object``) so that those
calls fail the way AWS fails them, with AWS's error codes, as seen by any boto3 client served by
``mock_aws()``, including clients created by Lambda handlers that moto's Step Functions interpreter
runs in its own threads::

    with mock_aws(), StrictAws() as strict:
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        ...
        strict.advance(timedelta(minutes=1))   # let the table become ACTIVE again

Time comes from a :class:`FakeClock` (by default 2026-11-28T00:10:00Z, the nightly backup time), so
every rule that depends on time is deterministic. Only the rules' time is fake: moto's own
timestamps (CreationDateTime, pipeline @creationTime) keep the real clock.

Rules enforced
==============
Sources: DynamoDB API Reference (UpdateTable, DeleteTable, ProvisionedThroughputDescription);
DynamoDB Developer Guide, "Service, account, and table quotas" (throughput decreases, capacity-mode
switches, per-table maximum); AWS Data Pipeline API Reference (CreatePipeline, DescribePipelines,
PutPipelineDefinition, ActivatePipeline, QueryObjects, DescribeObjects, the errors botocore's
service model lists per operation); AWS Data Pipeline Developer Guide, "AWS Data Pipeline Limits",
DynamoDBDataNode, "Interpreting Pipeline Status Codes", "Interpreting Pipeline Status Details",
"Interpreting Pipeline and Component Health State", "Pipeline Components, Instances, and
Attempts". Also /work/shared/reference/aws-facts.md.

DynamoDB
--------
D1 On-demand tables take no throughput. UpdateTable with ``ProvisionedThroughput`` (for the table, or
   in a GSI ``Update``/``Create``) on a table that is, or is being switched to, PAY_PER_REQUEST ->
   ``ValidationException``. (UpdateTable API reference.)
D2 No-op updates are refused. Table or GSI throughput equal to the current values ->
   ``ValidationException`` "The provisioned throughput for the table will not change...".
D3 One update at a time. An accepted UpdateTable puts the table in UPDATING, and each GSI whose
   throughput it changed in IndexStatus UPDATING, for ``update_duration`` of fake time (30 s by
   default). DescribeTable (and the UpdateTable response) report it. UpdateTable or DeleteTable while
   the table or any GSI is UPDATING -> ``ResourceInUseException``. (UpdateTable and DeleteTable API
   references.) Moving past the window: ``advance()``, ``settle()``, or ``auto_advance_on_describe``.
D4 Daily decrease limit, separate counters for the table and for each GSI (a decrease is an update
   that lowers RCU or WCU or both; one call counts once per table or GSI). The quota page says: up
   to 4 decreases at any time in a UTC day, plus one more whenever there was no decrease in the past
   hour, for at most 27 a day (4 in the first hour, then 1 in each later hour); aws-facts.md states
   that maximal schedule. Interpretation implemented: at time ``t`` a decrease is allowed when fewer
   than 4 were made today, or when fewer than 27 were made today and the last one is at least 60
   minutes before ``t``. The count resets at 00:00 UTC on the fake clock. A refused decrease ->
   ``LimitExceededException`` with AWS's wording ("Subscriber limit exceeded: Provisioned throughput
   decreases are limited within a given UTC day..."), which names the next allowed time.
   DescribeTable reports ``ProvisionedThroughput.NumberOfDecreasesToday``, ``LastDecreaseDateTime``
   and ``LastIncreaseDateTime`` for the table and each GSI (an increase of either dimension sets
   ``LastIncreaseDateTime``; a call that raises one dimension and lowers the other is both).
D5 Capacity-mode switches: PROVISIONED -> PAY_PER_REQUEST at most 4 times per rolling 24 h per table
   (the 5th -> ``LimitExceededException``); PAY_PER_REQUEST -> PROVISIONED any time, but it must give
   ``ProvisionedThroughput`` for the table and for every GSI not being deleted (else
   ``ValidationException``). After a switch to on-demand the table and its GSIs report 0/0
   throughput, as AWS does (moto keeps the old numbers).
D6 Per-table maximum: RCU or WCU above ``max_capacity_units`` (default 40,000, the default quota) for
   the table or a GSI -> ``LimitExceededException`` (message approximate).
D7 Unknown GSI in an ``Update`` -> ``ResourceNotFoundException`` (moto raises a raw ValueError, HTTP 500).

Application Auto Scaling
------------------------
A1 RegisterScalableTarget moves the capacity into the new bounds. The API reference
   (RegisterScalableTarget) says: "If the specified resource is not active in the target service,
   this operation does not change the resource's current capacity. Otherwise, it changes the
   resource's current capacity to a value that is inside of this range." For the DynamoDB
   dimensions (``dynamodb:table:ReadCapacityUnits``, ``dynamodb:index:ReadCapacityUnits`` and their
   write twins) of a provisioned table, a capacity outside ``[MinCapacity, MaxCapacity]`` is moved to
   the nearest bound, at once, as an UpdateTable by Application Auto Scaling would: the table (and
   the GSI, for an index dimension) goes UPDATING (D3), a decrease is counted on the table's or the
   GSI's own counter and refused at the limit (D4), and the per-table maximum applies (D6). The
   registration itself always succeeds; a change DynamoDB refuses leaves the capacity where it was,
   as does a registration while the table or any GSI is UPDATING (the table is "not active").
   Application Auto Scaling does not retry a refused change here: registering the target again
   does. Every change it makes or tries is in ``StrictAws.scaling_activities``; none is in
   ``update_table_calls``, which lists the calls of the code under test only.

Data Pipeline
-------------
P1 CreatePipeline is idempotent: the same ``name`` and ``uniqueId`` as a live (not deleted)
   pipeline return that pipeline's id and create nothing. (CreatePipeline API reference.)
P2 Account pipeline limit: creating a pipeline while ``pipeline_limit`` (default 100) live pipelines
   exist -> ``InvalidRequestException``. Data Pipeline has no LimitExceededException: botocore's
   model lists only InternalServiceError and InvalidRequestException for CreatePipeline, so AWS
   reports its limits as InvalidRequestException; the message here is ours.
P3 PutPipelineDefinition validates, as AWS documents ("changes to the pipeline are saved unless one
   of the following validation errors exist"): more than ``max_objects_per_pipeline`` objects
   (default 100), an object with more than ``max_fields_per_object`` fields (default 50), a field
   with an empty value or with neither ``stringValue`` nor ``refValue``, a ``refValue`` naming an
   object id absent from the definition, a ``readThroughputPercent`` or ``writeThroughputPercent``
   that is not a number between 0.1 and 1.0 inclusive (the DynamoDBDataNode page: "The value is a
   double between 0.1 and 1.0, inclusively"; that AWS refuses it at validation, rather than failing
   the activity, is this fake's reading). Errors are *returned*, not raised:
   ``{"errored": true, "validationErrors": [{"id": <object id>, "errors": [...]}]}`` (pipeline-wide
   errors carry the pipeline id); the definition is not stored and the pipeline cannot be activated.
P4 ActivatePipeline of a pipeline with no stored definition, or whose last PutPipelineDefinition
   returned errors -> ``InvalidRequestException`` (AWS documents that an errored definition
   "cannot be activated"; the message here is ours).
P5 Unknown ids: DescribePipelines, ActivatePipeline, GetPipelineDefinition, PutPipelineDefinition,
   DescribeObjects and QueryObjects -> ``PipelineNotFoundException``, or
   ``PipelineDeletedException`` for an id deleted during this context; DeletePipeline ->
   ``PipelineNotFoundException`` (the only one its model lists). DescribePipelines fails as a
   whole if any id is unknown, and answers in request order.
P6 DescribePipelines with more than 25 ids -> ``InvalidRequestException``.
P7 ListPipelines pages correctly (moto drops the last pipeline when there are 50k + 1 of them).
P8 Activating a pipeline that was activated before is accepted and re-runs it: "If you activate an
   on-demand pipeline that is already running, it will cancel all running objects and re-run the
   pipeline" (ActivatePipeline API reference). Its unfinished instances become CANCELED and a new
   set of instances is created (P9), which the EMR emulation runs again. Each such call is
   recorded in ``reactivations`` (time, pipeline, cancelled instance ids): a run that re-activates
   has re-run exports, so tests assert the list is empty.
P9 A pipeline's run, as :mod:`hippolyte_local.pipeline_runs` models it (installed with these
   rules): ``@pipelineState`` is PENDING until activated, then SCHEDULED, while it works and after
   it has finished or failed ("Interpreting Pipeline Status Codes"); each activation creates
   instances (QueryObjects with sphere INSTANCE lists them, DescribeObjects gives their ``@status``,
   ``@componentParent``, ``type`` and ``errorMessage``); ``@healthStatus`` appears in
   DescribePipelines once an instance has ended FINISHED (HEALTHY) or FAILED, TIMEDOUT or CANCELED
   (ERROR, which wins over HEALTHY) ("Interpreting Pipeline and Component Health State").
   Instances move when their runner reports (``pipeline_runs.set_status``: the EMR emulation, or
   a test).

Fault injection
---------------
``fail_describe_execution(n, code="ThrottlingException")``: the next n DescribeExecution calls fail
with that code (Step Functions throttles its API per account; a role without the permission gets
AccessDeniedException).
``throttle_update_table(n, table=None)``: the next n matching UpdateTable calls fail with
``LimitExceededException`` "Subscriber limit exceeded: Only 10 tables can be created, updated, or
deleted simultaneously" (AWS's wording for too many concurrent control-plane operations), before
any other rule is checked. ``fail_create_pipeline(n, code=..., message=...)``: the next n
CreatePipeline calls fail with that error (default: the pipeline-limit InvalidRequestException),
before idempotency and the limit are checked. ``fail_scaling(n, table=None)``: the next n capacity
changes Application Auto Scaling tries (A1) fail with that same throttling error and change nothing,
as when DynamoDB refuses its UpdateTable. A table deleted mid-run needs no hook: delete it
with the client (after ``settle()`` if it is UPDATING, see D3).

Clients retry some of these errors
==================================
botocore's default retry mode (standard) retries ``LimitExceededException`` (the decrease limit,
the throttle, the on-demand switch limit) up to 3 times for DynamoDB, sleeping real time (up to
1, 2, 4 s), and retries Data Pipeline's ``InternalServiceError`` (HTTP 500). AWS clients do the same,
so an injected throttle with a count below the client's attempts is absorbed by the client. Tests that
want to see each error at once use a client with
``Config(retries={"mode": "standard", "total_max_attempts": 1})``; code under test should make its
retries explicit too, or a refused decrease costs seconds of real sleep.

Threads and time
================
All rule state sits behind one re-entrant lock, held across the check and the moto call it guards,
so concurrent UpdateTable calls from the interpreter's threads see each other (check-then-act is
atomic). The clock only moves when told: ``advance()``, ``FakeClock.set()``, or, when
``auto_advance_on_describe`` is set, by that step (True: 10 s) at the start of every DescribeTable,
so code that waits for ACTIVE by polling DescribeTable terminates; it moves the clock for every
thread and every rule, decrease windows included.

Not modelled
============
- The account-wide throughput quota (80,000 RCU/WCU) and DescribeLimits; the "only one kind of
  operation per UpdateTable" rule; GSI creation and deletion states (CREATING, DELETING); table
  CREATING and DELETING states; warm throughput; streams; any time limit on increases.
- Whether a switch to on-demand, or back, counts as a decrease or increase (it counts as neither);
  BillingMode equal to the current mode (accepted as a no-op switch).
- Application Auto Scaling: bounds are not validated (a minimum above the maximum is stored);
  scaling policies, scheduled actions and suspended states never change a table; only A1 does.
- Data Pipeline call rates (about 1 call/s, 2/s for QueryObjects and DescribeObjects, burst 100)
  and throttling; per-field and per-object byte limits; validation of object types and field
  names; validation warnings; ``parameterObjects``; DeactivatePipeline; ``@pipelineState`` values
  other than PENDING and SCHEDULED; attempts, retries of an activity, and the up to five minutes a
  pipeline's health may lag (see :mod:`hippolyte_local.pipeline_runs`); DescribeObjects' limit of
  25 ids per call (its API reference states it, but the AWS CLI's list-runs sends 100).
- Exact AWS messages, except the decrease-limit, throttle and "will not change" ones quoted above
  (the table or GSI is appended to the decrease-limit one); every error code is AWS's.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
import weakref
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import TracebackType
from typing import Any, Literal, Self
from unittest import mock

from hippolyte_local import pipeline_runs
from hippolyte_local.simulated_time import SimulatedClock, as_utc
from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, FakeScalableTarget
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.datapipeline.models import DataPipelineBackend, Pipeline
from moto.datapipeline.responses import DataPipelineResponse
from moto.dynamodb.exceptions import (
    MockValidationException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.stepfunctions.models import StepFunctionBackend

DEFAULT_START = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)
"""Default fake time: the nightly backup's schedule (cron 00:10 UTC) on a fixed day."""

# DynamoDB Developer Guide, "Service, account, and table quotas": decreases per table or GSI.
FREE_DECREASES_PER_DAY = 4
MAX_DECREASES_PER_DAY = 27
DECREASE_INTERVAL = timedelta(hours=1)
# Same page: provisioned -> on-demand switches per table.
MAX_ON_DEMAND_SWITCHES = 4
ON_DEMAND_SWITCH_WINDOW = timedelta(hours=24)
# Default per-table (and per-GSI) maximum RCU and WCU; an adjustable quota.
DEFAULT_MAX_CAPACITY_UNITS = 40_000
# AWS Data Pipeline Developer Guide, "AWS Data Pipeline Limits" (the first two are adjustable).
DEFAULT_PIPELINE_LIMIT = 100
DEFAULT_MAX_OBJECTS_PER_PIPELINE = 100
DEFAULT_MAX_FIELDS_PER_OBJECT = 50
# DescribePipelines API reference: "You can pass as many as 25 identifiers in a single call."
MAX_DESCRIBE_PIPELINE_IDS = 25
# ListPipelines page size used by moto (AWS does not document one).
LIST_PIPELINES_PAGE_SIZE = 50
# AWS Data Pipeline Developer Guide, DynamoDBDataNode: readThroughputPercent and
# writeThroughputPercent are each "a double between 0.1 and 1.0, inclusively".
THROUGHPUT_PERCENT_FIELDS = ("readThroughputPercent", "writeThroughputPercent")
MIN_THROUGHPUT_PERCENT = 0.1
MAX_THROUGHPUT_PERCENT = 1.0

# Application Auto Scaling's DynamoDB dimensions: (table or index, the throughput key they scale).
SCALABLE_DIMENSIONS: dict[str, tuple[Literal["table", "index"], str]] = {
    "dynamodb:table:ReadCapacityUnits": ("table", "ReadCapacityUnits"),
    "dynamodb:table:WriteCapacityUnits": ("table", "WriteCapacityUnits"),
    "dynamodb:index:ReadCapacityUnits": ("index", "ReadCapacityUnits"),
    "dynamodb:index:WriteCapacityUnits": ("index", "WriteCapacityUnits"),
}

DEFAULT_UPDATE_DURATION = timedelta(seconds=30)
DEFAULT_DESCRIBE_STEP = timedelta(seconds=10)

ON_DEMAND = "PAY_PER_REQUEST"
PROVISIONED = "PROVISIONED"

_DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
THROTTLE_MESSAGE = "Subscriber limit exceeded: Only 10 tables can be created, updated, or deleted simultaneously"
PIPELINE_LIMIT_MESSAGE = (
    "Limit exceeded: this account already has {limit} pipelines, the maximum allowed "
    "(AWS Data Pipeline limits: number of pipelines)"
)


def _dynamodb_limit_exceeded(message: str) -> JsonRESTError:
    # moto has no DynamoDB LimitExceededException; botocore reads the code after the '#'.
    return JsonRESTError(_DYNAMODB_ERROR_PREFIX + "LimitExceededException", message)


def _datapipeline_error(code: str, message: str) -> JsonRESTError:
    # Data Pipeline is a JSON protocol service: moto's JsonRESTError renders {"__type", "message"}.
    error = JsonRESTError(code, message)
    if code == "InternalServiceError":
        # A server fault in Data Pipeline's model: AWS answers 500, which clients retry.
        error.code = 500
    return error


def _format_aws_time(moment: datetime) -> str:
    # AWS's decrease-limit message spells times like "Wednesday, July 25, 2018 7:52:24 PM UTC".
    hour = moment.hour % 12 or 12
    return moment.strftime(f"%A, %B {moment.day}, %Y {hour}:%M:%S %p UTC")


class FakeClock(SimulatedClock):
    """The rules' clock: a :class:`SimulatedClock` that starts at the nightly backup time by default.

    >>> clock = FakeClock()
    >>> clock.now().isoformat()
    '2026-11-28T00:10:00+00:00'
    >>> clock.advance(timedelta(minutes=50)).isoformat()
    '2026-11-28T01:00:00+00:00'
    >>> clock() == clock.now()
    True
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        """Start at ``start``, a timezone-aware datetime (converted to UTC)."""
        super().__init__(start)


def _next_midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass
class _Unit:
    """Capacity bookkeeping of one table or one GSI: each has its own decrease counter (D4)."""

    label: str
    decrease_day: date | None = None
    decreases: int = 0
    last_decrease: datetime | None = None
    last_increase: datetime | None = None
    updating_until: datetime | None = None

    def decreases_today(self, now: datetime) -> int:
        return self.decreases if self.decrease_day == now.date() else 0

    def is_updating(self, now: datetime) -> bool:
        return self.updating_until is not None and now < self.updating_until

    def next_decrease_at(self, now: datetime) -> datetime:
        count = self.decreases_today(now)
        if count < FREE_DECREASES_PER_DAY:
            return now
        midnight = _next_midnight(now)
        if count >= MAX_DECREASES_PER_DAY or self.last_decrease is None:
            return midnight
        # The counter resets at midnight, so the hourly wait never runs past it.
        return max(now, min(self.last_decrease + DECREASE_INTERVAL, midnight))

    def record_decrease(self, now: datetime) -> None:
        if self.decrease_day != now.date():
            self.decrease_day, self.decreases = now.date(), 0
        self.decreases += 1
        self.last_decrease = now

    def describe_throughput(self, throughput: dict[str, Any], now: datetime) -> dict[str, Any]:
        # A fresh dict: moto hands out its own throughput dict, which must not be modified.
        described: dict[str, Any] = {
            "ReadCapacityUnits": int(throughput.get("ReadCapacityUnits", 0)),
            "WriteCapacityUnits": int(throughput.get("WriteCapacityUnits", 0)),
            "NumberOfDecreasesToday": self.decreases_today(now),
        }
        if self.last_decrease is not None:
            described["LastDecreaseDateTime"] = self.last_decrease
        if self.last_increase is not None:
            described["LastIncreaseDateTime"] = self.last_increase
        return described


@dataclass
class _TableState:
    name: str
    table: _Unit
    indexes: dict[str, _Unit] = field(default_factory=dict)
    on_demand_switches: list[datetime] = field(default_factory=list)

    def index(self, index_name: str) -> _Unit:
        if index_name not in self.indexes:
            self.indexes[index_name] = _Unit(label=f"index {index_name} of table {self.name}")
        return self.indexes[index_name]

    def updating_units(self, now: datetime) -> list[_Unit]:
        return [unit for unit in [self.table, *self.indexes.values()] if unit.is_updating(now)]


Change = Literal["increase", "decrease", "both"]


@dataclass
class _UpdatePlan:
    """What an accepted UpdateTable does to the rule state, computed before moto applies it."""

    state: _TableState
    table_change: Change | None = None
    index_changes: dict[str, Change] = field(default_factory=dict)
    to_on_demand: bool = False


@dataclass(frozen=True)
class UpdateTableCall:
    """One UpdateTable call seen by :class:`StrictAws`: when, on which table, and how it ended."""

    at: datetime
    table: str
    request: dict[str, Any]
    error_code: str | None
    """None when the update was accepted, else the AWS error code returned."""


@dataclass(frozen=True)
class ScalingActivity:
    """One capacity change Application Auto Scaling made or tried after RegisterScalableTarget (A1)."""

    at: datetime
    resource_id: str
    dimension: str
    from_capacity: int
    to_capacity: int
    error_code: str | None
    """None when the change was applied, else the AWS error code DynamoDB answered."""


@dataclass(frozen=True)
class Reactivation:
    """An ActivatePipeline of a pipeline already activated: AWS cancels its running objects and
    runs it again (API Reference, ActivatePipeline)."""

    at: datetime
    pipeline_id: str
    cancelled: tuple[str, ...]
    """The instances that were still working and were cancelled (their ids)."""


@dataclass
class _InjectedFailure:
    remaining: int
    code: str
    message: str
    table: str | None = None


class StrictAws:
    """Patches moto (inside an active ``mock_aws()``) to enforce the AWS rules listed in this module.

    Use it as a context manager; the patches are removed on exit. Rule state (counters, UPDATING
    windows, deleted pipelines) lives in this object, so each ``with`` block starts clean.
    """

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        update_duration: timedelta = DEFAULT_UPDATE_DURATION,
        auto_advance_on_describe: bool | timedelta = False,
        max_capacity_units: int = DEFAULT_MAX_CAPACITY_UNITS,
        pipeline_limit: int = DEFAULT_PIPELINE_LIMIT,
        max_objects_per_pipeline: int = DEFAULT_MAX_OBJECTS_PER_PIPELINE,
        max_fields_per_object: int = DEFAULT_MAX_FIELDS_PER_OBJECT,
        account_id: str = DEFAULT_ACCOUNT_ID,
        region: str = "us-east-1",
    ) -> None:
        """Configure the rules.

        ``update_duration``: how long an accepted UpdateTable leaves the table UPDATING (fake time).
        ``auto_advance_on_describe``: False, True (10 s) or a step the clock advances at the start of
        every DescribeTable. ``account_id`` and ``region`` only locate tables named in the helper
        methods (``set_decreases_today`` and friends); the rules apply in every account and region.
        """
        if update_duration < timedelta(0):
            raise ValueError("update_duration cannot be negative")
        self.clock = clock or FakeClock()
        self.update_duration = update_duration
        if auto_advance_on_describe is True:
            self.describe_step: timedelta | None = DEFAULT_DESCRIBE_STEP
        elif auto_advance_on_describe is False:
            self.describe_step = None
        else:
            self.describe_step = auto_advance_on_describe
        self.max_capacity_units = max_capacity_units
        self.pipeline_limit = pipeline_limit
        self.max_objects_per_pipeline = max_objects_per_pipeline
        self.max_fields_per_object = max_fields_per_object
        self.account_id = account_id
        self.region = region
        self.update_table_calls: list[UpdateTableCall] = []
        """Every UpdateTable call made inside the context, accepted or refused, in order."""
        self.scaling_activities: list[ScalingActivity] = []
        """Every capacity change Application Auto Scaling made or tried (A1), in order."""
        self.reactivations: list[Reactivation] = []
        """Every ActivatePipeline of an already activated pipeline (P8), in order: each re-ran an
        export or import, so a correct run makes none."""

        self._lock = threading.RLock()
        # Keyed by moto's Table object: a table deleted and created again starts with fresh state.
        self._tables: weakref.WeakKeyDictionary[Table, _TableState] = weakref.WeakKeyDictionary()
        self._update_faults: list[_InjectedFailure] = []
        self._create_pipeline_faults: list[_InjectedFailure] = []
        # (fault, thread): a DescribeExecution fault applies to calls made on the thread that set it.
        self._describe_execution_faults: list[tuple[_InjectedFailure, int]] = []
        self._scaling_faults: list[_InjectedFailure] = []
        self._deleted_pipelines: set[str] = set()
        # Pipelines whose last PutPipelineDefinition returned validation errors (P3, P4).
        self._errored_pipelines: set[str] = set()
        self._stack: ExitStack | None = None

    # ----------------------------------------------------------------------------- context manager

    def __enter__(self) -> Self:
        stack = ExitStack()
        # Data Pipeline's run side (P9) goes first: the rules below wrap its ActivatePipeline.
        stack.enter_context(pipeline_runs.installed())
        patches: list[tuple[type, str, Callable[..., Any]]] = [
            (DynamoDBBackend, "update_table", self._update_table),
            (DynamoDBBackend, "describe_table", self._describe_table),
            (DynamoDBBackend, "delete_table", self._delete_table),
            (Table, "describe", self._describe_table_model),
            (ApplicationAutoscalingBackend, "register_scalable_target", self._register_scalable_target),
            (DataPipelineBackend, "create_pipeline", self._create_pipeline),
            (DataPipelineBackend, "get_pipeline", self._get_pipeline),
            (DataPipelineBackend, "describe_pipelines", self._describe_pipelines),
            (DataPipelineBackend, "delete_pipeline", self._delete_pipeline),
            (DataPipelineBackend, "activate_pipeline", self._activate_pipeline),
            (DataPipelineResponse, "put_pipeline_definition", self._put_pipeline_definition),
            (DataPipelineResponse, "list_pipelines", self._list_pipelines),
            (StepFunctionBackend, "describe_execution", self._describe_execution),
        ]
        for owner, name, rule in patches:
            stack.enter_context(mock.patch.object(owner, name, _wrap(getattr(owner, name), rule)))
        self._stack = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    # ------------------------------------------------------------------------------------- clock

    @property
    def now(self) -> datetime:
        """The fake clock's current time (UTC)."""
        return self.clock.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move the fake clock forward by ``delta``; returns the new time."""
        return self.clock.advance(delta)

    # ---------------------------------------------------------------------------- DynamoDB helpers

    def set_decreases_today(
        self,
        table: str,
        count: int,
        *,
        index: str | None = None,
        last_decrease: datetime | None = None,
    ) -> None:
        """Preset today's decrease count of a table (or of its GSI ``index``).

        ``last_decrease`` defaults to now when ``count`` > 0 (so the hourly rule starts now); it
        must not be in the future.
        """
        if not 0 <= count <= MAX_DECREASES_PER_DAY:
            raise ValueError(f"count must be between 0 and {MAX_DECREASES_PER_DAY}, got {count}")
        with self._lock:
            now = self.clock.now()
            if last_decrease is not None and as_utc(last_decrease) > now:
                raise ValueError("last_decrease cannot be in the future")
            unit = self._unit(table, index)
            unit.decrease_day, unit.decreases = now.date(), count
            if last_decrease is not None:
                unit.last_decrease = as_utc(last_decrease)
            elif count > 0:
                unit.last_decrease = now

    def decreases_today(self, table: str, *, index: str | None = None) -> int:
        """Decreases of the table (or GSI) counted for today's UTC day on the fake clock."""
        with self._lock:
            return self._unit(table, index).decreases_today(self.clock.now())

    def next_decrease_allowed_at(self, table: str, *, index: str | None = None) -> datetime:
        """Earliest fake time at which a decrease of the table (or GSI) is allowed (now if it is)."""
        with self._lock:
            return self._unit(table, index).next_decrease_at(self.clock.now())

    def is_updating(self, table: str) -> bool:
        """Whether the table or one of its GSIs is UPDATING now."""
        with self._lock:
            return bool(self._state(self._find_table(table)).updating_units(self.clock.now()))

    def settle(self) -> None:
        """End every UPDATING window now (all tables ACTIVE), without moving the clock."""
        with self._lock:
            now = self.clock.now()
            for state in self._tables.values():
                for unit in [state.table, *state.indexes.values()]:
                    if unit.is_updating(now):
                        unit.updating_until = now

    def throttle_update_table(self, count: int = 1, *, table: str | None = None) -> None:
        """Make the next ``count`` UpdateTable calls (on ``table`` only, if given) fail with
        LimitExceededException, as AWS does when too many tables are being updated at once."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._update_faults.append(_InjectedFailure(count, "LimitExceededException", THROTTLE_MESSAGE, table))

    def fail_scaling(self, count: int = 1, *, table: str | None = None) -> None:
        """Make the next ``count`` capacity changes Application Auto Scaling tries (on ``table`` only,
        if given) fail as DynamoDB's throttling refuses an UpdateTable: the capacity stays put."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._scaling_faults.append(_InjectedFailure(count, "LimitExceededException", THROTTLE_MESSAGE, table))

    # ----------------------------------------------------------------------- Data Pipeline helpers

    def fail_create_pipeline(
        self,
        count: int = 1,
        *,
        code: str = "InvalidRequestException",
        message: str | None = None,
    ) -> None:
        """Make the next ``count`` CreatePipeline calls fail with ``code`` (an error code from
        Data Pipeline's model, e.g. InvalidRequestException or InternalServiceError); the default
        message is the pipeline-limit one."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._create_pipeline_faults.append(
                _InjectedFailure(count, code, message or PIPELINE_LIMIT_MESSAGE.format(limit=self.pipeline_limit))
            )

    def fail_describe_execution(self, count: int = 1, *, code: str = "ThrottlingException") -> None:
        """Make the next ``count`` DescribeExecution calls made on this thread fail with ``code``.

        Only this thread's calls: the local session follows executions with DescribeExecution
        from its own thread, and the fault is meant for the code under test.

        Step Functions throttles its API per account with ``ThrottlingException`` ("Quotas related
        to API action throttling" in the Step Functions Developer Guide: DescribeExecution has a
        bucket of 200 and a refill of 20 per second in most regions); a role without
        ``states:DescribeExecution`` gets ``AccessDeniedException``. Neither says the execution is gone.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            fault = _InjectedFailure(count, code, f"injected {code}")
            self._describe_execution_faults.append((fault, threading.get_ident()))

    def _describe_execution(self, original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            here = threading.get_ident()
            fault = next(
                (f for f, thread in self._describe_execution_faults if f.remaining > 0 and thread == here), None
            )
            if fault is not None:
                fault.remaining -= 1
                raise _StepFunctionsError(fault.code, fault.message, 400)
        return original(backend, *args, **kwargs)

    # ------------------------------------------------------------------------ DynamoDB internals

    def _find_table(self, name: str) -> Table:
        return dynamodb_backends[self.account_id][self.region].get_table(name)

    def _state(self, table: Table) -> _TableState:
        state = self._tables.get(table)
        if state is None:
            state = _TableState(name=table.name, table=_Unit(label=f"table {table.name}"))
            self._tables[table] = state
        return state

    def _unit(self, table: str, index: str | None) -> _Unit:
        state = self._state(self._find_table(table))
        return state.table if index is None else state.index(index)

    def _update_table(
        self, original: Callable[..., Table], backend: DynamoDBBackend, *args: Any, **kwargs: Any
    ) -> Table:
        bound = inspect.signature(original).bind(backend, *args, **kwargs)
        bound.apply_defaults()
        request = {key: value for key, value in bound.arguments.items() if key != "self" and value}
        name: str = bound.arguments["name"]
        with self._lock:
            now = self.clock.now()
            try:
                plan = self._check_update(backend, name, bound.arguments, now)
                table = original(*bound.args, **bound.kwargs)
            except JsonRESTError as error:
                self.update_table_calls.append(UpdateTableCall(now, name, request, error.error_type.rpartition("#")[2]))
                raise
            self._apply_update(plan, table, bound.arguments.get("global_index") or [], now)
            self.update_table_calls.append(UpdateTableCall(now, name, request, None))
            return table

    def _take_fault(self, faults: list[_InjectedFailure], table: str | None) -> _InjectedFailure | None:
        for fault in faults:
            if fault.table is None or fault.table == table:
                fault.remaining -= 1
                if fault.remaining == 0:
                    faults.remove(fault)
                return fault
        return None

    def _check_update(
        self, backend: DynamoDBBackend, name: str, arguments: dict[str, Any], now: datetime
    ) -> _UpdatePlan:
        fault = self._take_fault(self._update_faults, name)
        if fault is not None:
            raise _dynamodb_limit_exceeded(fault.message)
        table = backend.get_table(name)
        state = self._state(table)
        plan = _UpdatePlan(state=state)

        if state.updating_units(now):
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table: {table.name} is being "
                "updated (TableStatus or an IndexStatus is UPDATING)"
            )

        current_mode = table.billing_mode or PROVISIONED
        target_mode = arguments.get("billing_mode") or current_mode
        throughput: dict[str, Any] | None = arguments.get("throughput")
        gsi_updates: list[dict[str, Any]] = arguments.get("global_index") or []
        gsis = {gsi.name: gsi for gsi in table.global_indexes}

        if target_mode == ON_DEMAND:
            provisioned_gsi = any(
                "ProvisionedThroughput" in (update.get("Update") or update.get("Create") or {})
                for update in gsi_updates
            )
            if throughput or provisioned_gsi:
                raise MockValidationException(
                    "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
                    "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
                )
            if current_mode != ON_DEMAND:
                self._check_on_demand_switch(state, now)
                plan.to_on_demand = True
            return plan

        switching_to_provisioned = current_mode == ON_DEMAND
        if switching_to_provisioned:
            self._check_provisioned_switch(throughput, gsi_updates, gsis)

        if throughput:
            self._check_capacity_cap(throughput, f"table {table.name}")
            if not switching_to_provisioned:
                plan.table_change = self._check_change(state.table, table.throughput, throughput, "table", now)
        for update in gsi_updates:
            gsi_update = update.get("Update")
            if not gsi_update or "ProvisionedThroughput" not in gsi_update:
                continue
            index_name = gsi_update["IndexName"]
            if index_name not in gsis:
                raise ResourceNotFoundException(
                    f"Requested resource not found: Index: {index_name} not found for table: {table.name}"
                )
            requested = gsi_update["ProvisionedThroughput"]
            self._check_capacity_cap(requested, f"index {index_name}")
            if not switching_to_provisioned:
                change = self._check_change(
                    state.index(index_name),
                    gsis[index_name].throughput,
                    requested,
                    f"index {index_name}",
                    now,
                )
                plan.index_changes[index_name] = change
        return plan

    def _check_on_demand_switch(self, state: _TableState, now: datetime) -> None:
        recent = [at for at in state.on_demand_switches if now - at < ON_DEMAND_SWITCH_WINDOW]
        if len(recent) >= MAX_ON_DEMAND_SWITCHES:
            raise _dynamodb_limit_exceeded(
                f"Subscriber limit exceeded: table {state.name} can be switched to PAY_PER_REQUEST "
                f"at most {MAX_ON_DEMAND_SWITCHES} times in a rolling 24-hour window. Next switch can "
                f"be made at {_format_aws_time(min(recent) + ON_DEMAND_SWITCH_WINDOW)}"
            )

    @staticmethod
    def _check_provisioned_switch(
        throughput: dict[str, Any] | None, gsi_updates: list[dict[str, Any]], gsis: dict[str, Any]
    ) -> None:
        if not throughput:
            raise MockValidationException(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits "
                "must both be specified when BillingMode is PROVISIONED"
            )
        deleted = {u["Delete"]["IndexName"] for u in gsi_updates if u.get("Delete")}
        given = {
            u["Update"]["IndexName"] for u in gsi_updates if u.get("Update") and "ProvisionedThroughput" in u["Update"]
        }
        for index_name in gsis:
            if index_name not in deleted and index_name not in given:
                raise MockValidationException(
                    "One or more parameter values were invalid: ProvisionedThroughput must be "
                    f"specified for index: {index_name}"
                )

    def _check_capacity_cap(self, requested: dict[str, Any], label: str) -> None:
        for dimension in ("ReadCapacityUnits", "WriteCapacityUnits"):
            if int(requested[dimension]) > self.max_capacity_units:
                raise _dynamodb_limit_exceeded(
                    f"Subscriber limit exceeded: {dimension} for {label} cannot exceed the per-table "
                    f"maximum of {self.max_capacity_units}"
                )

    @staticmethod
    def _check_change(
        unit: _Unit, current: dict[str, Any], requested: dict[str, Any], kind: str, now: datetime
    ) -> Change:
        old = (int(current.get("ReadCapacityUnits", 0)), int(current.get("WriteCapacityUnits", 0)))
        new = (int(requested["ReadCapacityUnits"]), int(requested["WriteCapacityUnits"]))
        where = "the table" if kind == "table" else f"the {kind}"
        if old == new:
            raise MockValidationException(
                f"The provisioned throughput for {where} will not change. The requested value equals "
                f"the current value. Current ReadCapacityUnits provisioned for {where}: {old[0]}. "
                f"Requested ReadCapacityUnits: {new[0]}. Current WriteCapacityUnits provisioned for "
                f"{where}: {old[1]}. Requested WriteCapacityUnits: {new[1]}. Refer to the Amazon "
                "DynamoDB Developer Guide for current limits and how to request higher limits."
            )
        decrease = new[0] < old[0] or new[1] < old[1]
        increase = new[0] > old[0] or new[1] > old[1]
        if decrease:
            allowed_at = unit.next_decrease_at(now)
            if allowed_at > now:
                last = unit.last_decrease or now
                raise _dynamodb_limit_exceeded(
                    "Subscriber limit exceeded: Provisioned throughput decreases are limited within a "
                    f"given UTC day. After the first {FREE_DECREASES_PER_DAY} decreases, each subsequent "
                    "decrease in the same UTC day can be performed at most once every 3600 seconds. "
                    f"Number of decreases today: {unit.decreases_today(now)}. Last decrease at "
                    f"{_format_aws_time(last)}. Next decrease can be made at "
                    f"{_format_aws_time(allowed_at)} ({unit.label})"
                )
        if decrease and increase:
            return "both"
        return "decrease" if decrease else "increase"

    def _apply_update(self, plan: _UpdatePlan, table: Table, gsi_updates: list[dict[str, Any]], now: datetime) -> None:
        until = now + self.update_duration
        state = plan.state
        state.table.updating_until = until
        if plan.table_change is not None:
            _record_change(state.table, plan.table_change, now)
        for index_name, change in plan.index_changes.items():
            _record_change(state.index(index_name), change, now)
        for update in gsi_updates:
            if update.get("Update") and "ProvisionedThroughput" in update["Update"]:
                state.index(update["Update"]["IndexName"]).updating_until = until
        if plan.to_on_demand:
            state.on_demand_switches.append(now)
            # AWS reports 0/0 for on-demand tables and their GSIs; moto keeps the old numbers.
            table.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            for gsi in table.global_indexes:
                gsi.throughput = {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0}

    def _describe_table(
        self, original: Callable[..., dict[str, Any]], backend: DynamoDBBackend, name: str
    ) -> dict[str, Any]:
        with self._lock:
            if self.describe_step is not None:
                self.clock.advance(self.describe_step)
            return original(backend, name)

    def _delete_table(self, original: Callable[..., Table], backend: DynamoDBBackend, name: str) -> Table:
        with self._lock:
            table = backend.get_table(name)
            if self._state(table).updating_units(self.clock.now()):
                raise ResourceInUseException(
                    f"Attempt to change a resource which is still in use: Table: {table.name} is "
                    "being updated and cannot be deleted"
                )
            return original(backend, name)

    def _describe_table_model(
        self, original: Callable[..., dict[str, Any]], table: Table, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        # Table.describe serves DescribeTable, and the UpdateTable/CreateTable/DeleteTable responses.
        result = original(table, *args, **kwargs)
        with self._lock:
            now = self.clock.now()
            state = self._state(table)
            for description in result.values():
                description["TableStatus"] = "UPDATING" if state.table.is_updating(now) else "ACTIVE"
                description["ProvisionedThroughput"] = state.table.describe_throughput(table.throughput, now)
                gsis = {gsi.name: gsi for gsi in table.global_indexes}
                for gsi_description in description.get("GlobalSecondaryIndexes") or []:
                    index_name = gsi_description["IndexName"]
                    unit = state.index(index_name)
                    gsi_description["IndexStatus"] = "UPDATING" if unit.is_updating(now) else "ACTIVE"
                    gsi_description["ProvisionedThroughput"] = unit.describe_throughput(
                        gsis[index_name].throughput, now
                    )
        return result

    # --------------------------------------------------------- Application Auto Scaling internals

    def _register_scalable_target(
        self,
        original: Callable[..., FakeScalableTarget],
        backend: ApplicationAutoscalingBackend,
        *args: Any,
        **kwargs: Any,
    ) -> FakeScalableTarget:
        with self._lock:
            target = original(backend, *args, **kwargs)
            if target.service_namespace == "dynamodb" and target.scalable_dimension in SCALABLE_DIMENSIONS:
                self._scale_into_bounds(backend.account_id, backend.region_name, target)
            return target

    def _scale_into_bounds(self, account_id: str, region: str, target: FakeScalableTarget) -> None:
        """A1: the change Application Auto Scaling makes after a registration, if any."""
        kind, key = SCALABLE_DIMENSIONS[target.scalable_dimension]
        parts = target.resource_id.split("/")  # table/<name> or table/<name>/index/<index>
        dynamodb = dynamodb_backends[account_id][region]
        try:
            table = dynamodb.get_table(parts[1])
        except ResourceNotFoundException:
            return
        if (table.billing_mode or PROVISIONED) == ON_DEMAND:
            return
        state = self._state(table)
        if kind == "index":
            gsis = {gsi.name: gsi for gsi in table.global_indexes}
            index_name = parts[3] if len(parts) == 4 else ""
            if index_name not in gsis:
                return
            holder: Any = gsis[index_name]
            unit, label = state.index(index_name), f"index {index_name}"
        else:
            holder, unit, label = table, state.table, "table"
        current = {
            "ReadCapacityUnits": int(holder.throughput.get("ReadCapacityUnits", 0)),
            "WriteCapacityUnits": int(holder.throughput.get("WriteCapacityUnits", 0)),
        }
        low = target.min_capacity if target.min_capacity is not None else current[key]
        high = target.max_capacity if target.max_capacity is not None else current[key]
        wanted = min(max(current[key], low), high)
        if wanted == current[key]:
            return
        now = self.clock.now()

        def record(error_code: str | None) -> None:
            self.scaling_activities.append(
                ScalingActivity(now, target.resource_id, target.scalable_dimension, current[key], wanted, error_code)
            )

        if state.updating_units(now):
            record("ResourceInUseException")  # "not active in the target service": nothing changes
            return
        if self._take_fault(self._scaling_faults, table.name) is not None:
            record("LimitExceededException")
            return
        requested = {**current, key: wanted}
        try:
            self._check_capacity_cap(requested, label if kind == "index" else f"table {table.name}")
            change = self._check_change(unit, current, requested, label, now)
        except JsonRESTError as error:
            record(error.error_type.rpartition("#")[2])
            return
        holder.throughput = requested
        _record_change(unit, change, now)
        until = now + self.update_duration
        state.table.updating_until = until
        unit.updating_until = until
        record(None)

    # ------------------------------------------------------------------- Data Pipeline internals

    def _create_pipeline(
        self,
        original: Callable[..., Pipeline],
        backend: DataPipelineBackend,
        name: str,
        unique_id: str,
        **kwargs: Any,
    ) -> Pipeline:
        with self._lock:
            fault = self._take_fault(self._create_pipeline_faults, None)
            if fault is not None:
                raise _datapipeline_error(fault.code, fault.message)
            for pipeline in backend.pipelines.values():
                if pipeline.name == name and pipeline.unique_id == unique_id:
                    return pipeline
            if len(backend.pipelines) >= self.pipeline_limit:
                raise _datapipeline_error(
                    "InvalidRequestException", PIPELINE_LIMIT_MESSAGE.format(limit=self.pipeline_limit)
                )
            return original(backend, name, unique_id, **kwargs)

    def _missing_pipeline(self, pipeline_id: str) -> JsonRESTError:
        if pipeline_id in self._deleted_pipelines:
            return _datapipeline_error("PipelineDeletedException", f"Pipeline with id {pipeline_id} has been deleted")
        return _datapipeline_error("PipelineNotFoundException", f"Pipeline with id {pipeline_id} does not exist")

    def _get_pipeline(
        self, original: Callable[..., Pipeline], backend: DataPipelineBackend, pipeline_id: str
    ) -> Pipeline:
        # moto's get_pipeline serves Put/GetPipelineDefinition, DescribeObjects and ActivatePipeline.
        with self._lock:
            if pipeline_id not in backend.pipelines:
                raise self._missing_pipeline(pipeline_id)
            return original(backend, pipeline_id)

    def _describe_pipelines(
        self, original: Callable[..., list[Pipeline]], backend: DataPipelineBackend, pipeline_ids: list[str]
    ) -> list[Pipeline]:
        with self._lock:
            if len(pipeline_ids) > MAX_DESCRIBE_PIPELINE_IDS:
                raise _datapipeline_error(
                    "InvalidRequestException",
                    f"DescribePipelines accepts at most {MAX_DESCRIBE_PIPELINE_IDS} pipeline ids, "
                    f"got {len(pipeline_ids)}",
                )
            for pipeline_id in pipeline_ids:
                if pipeline_id not in backend.pipelines:
                    raise self._missing_pipeline(pipeline_id)
            return [backend.pipelines[pipeline_id] for pipeline_id in pipeline_ids]

    def _delete_pipeline(self, original: Callable[..., None], backend: DataPipelineBackend, pipeline_id: str) -> None:
        with self._lock:
            if pipeline_id not in backend.pipelines:
                # DeletePipeline's model lists PipelineNotFoundException only.
                raise _datapipeline_error("PipelineNotFoundException", f"Pipeline with id {pipeline_id} does not exist")
            original(backend, pipeline_id)
            self._deleted_pipelines.add(pipeline_id)
            self._errored_pipelines.discard(pipeline_id)

    def _activate_pipeline(self, original: Callable[..., None], backend: DataPipelineBackend, pipeline_id: str) -> None:
        with self._lock:
            pipeline = backend.get_pipeline(pipeline_id)
            if pipeline_id in self._errored_pipelines or not pipeline.objects:
                raise _datapipeline_error(
                    "InvalidRequestException",
                    f"Pipeline {pipeline_id} has no valid pipeline definition: put a definition "
                    "without validation errors before activating it",
                )
            if pipeline.status != "PENDING":
                # "If you activate an on-demand pipeline that is already running, it will cancel
                # all running objects and re-run the pipeline" (API Reference, ActivatePipeline).
                # AWS accepts the call; pipeline_runs does the cancelling and re-running.
                working = [i.id for i in pipeline_runs.current_instances(pipeline) if not i.ended]
                self.reactivations.append(Reactivation(self.clock.now(), pipeline_id, tuple(working)))
            original(backend, pipeline_id)

    def _put_pipeline_definition(self, original: Callable[..., str], response: DataPipelineResponse) -> str:
        pipeline_id: str = response._get_param("pipelineId")
        objects: list[dict[str, Any]] = response._get_param("pipelineObjects") or []
        with self._lock:
            response.datapipeline_backend.get_pipeline(pipeline_id)
            errors = self._validate_definition(pipeline_id, objects)
            if errors:
                # Nothing is stored, and a definition stored earlier can no longer be activated.
                self._errored_pipelines.add(pipeline_id)
                return json.dumps(
                    {
                        "errored": True,
                        "validationErrors": [
                            {"id": object_id, "errors": messages} for object_id, messages in errors.items()
                        ],
                    }
                )
            result = original(response)
            self._errored_pipelines.discard(pipeline_id)
            return result

    def _validate_definition(self, pipeline_id: str, objects: list[dict[str, Any]]) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if len(objects) > self.max_objects_per_pipeline:
            errors.setdefault(pipeline_id, []).append(
                f"The pipeline has {len(objects)} objects, more than the maximum allowed "
                f"{self.max_objects_per_pipeline}"
            )
        ids = {obj.get("id") for obj in objects}
        for obj in objects:
            object_id = obj.get("id") or pipeline_id
            problems: list[str] = []
            if not obj.get("id") or not obj.get("name"):
                problems.append("The object is missing a name or identifier field")
            fields = obj.get("fields") or []
            if len(fields) > self.max_fields_per_object:
                problems.append(
                    f"The object has {len(fields)} fields, more than the maximum allowed {self.max_fields_per_object}"
                )
            for entry in fields:
                key = entry.get("key")
                if entry.get("refValue"):
                    if entry["refValue"] not in ids:
                        problems.append(
                            f"Field '{key}' references object '{entry['refValue']}', which is not "
                            "defined in the pipeline"
                        )
                elif not entry.get("stringValue"):
                    problems.append(f"Field '{key}' has an empty string or reference value")
                elif key in THROUGHPUT_PERCENT_FIELDS and not _valid_throughput_percent(entry["stringValue"]):
                    problems.append(
                        f"Field '{key}' is {entry['stringValue']!r}: it must be a double between "
                        f"{MIN_THROUGHPUT_PERCENT} and {MAX_THROUGHPUT_PERCENT}, inclusively"
                    )
            if problems:
                errors.setdefault(object_id, []).extend(problems)
        return errors

    def _list_pipelines(self, original: Callable[..., str], response: DataPipelineResponse) -> str:
        # moto compares the page end with len - 1 and drops the last pipeline of a 50k + 1 listing.
        with self._lock:
            pipelines = list(response.datapipeline_backend.list_pipelines())
            marker = response._get_param("marker")
            ids = [pipeline.pipeline_id for pipeline in pipelines]
            start = ids.index(marker) + 1 if marker in ids else 0
            page = pipelines[start : start + LIST_PIPELINES_PAGE_SIZE]
            more = start + LIST_PIPELINES_PAGE_SIZE < len(pipelines)
            return json.dumps(
                {
                    "hasMoreResults": more,
                    "marker": page[-1].pipeline_id if more else None,
                    "pipelineIdList": [pipeline.to_meta_json() for pipeline in page],
                }
            )


def _valid_throughput_percent(value: str) -> bool:
    try:
        percent = float(value)
    except ValueError:
        return False
    return MIN_THROUGHPUT_PERCENT <= percent <= MAX_THROUGHPUT_PERCENT


def _record_change(unit: _Unit, change: Change, now: datetime) -> None:
    if change in ("decrease", "both"):
        unit.record_decrease(now)
    if change in ("increase", "both"):
        unit.last_increase = now


class _StepFunctionsError(JsonRESTError):
    """A Step Functions API error with AWS's code, as the JSON protocol serves it."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(code, message)
        self.code = status


def _wrap(original: Callable[..., Any], rule: Callable[..., Any]) -> Callable[..., Any]:
    """A plain function calling ``rule(original, self, ...)``.

    It must be a function, not a partial or bound method: moto finds response handlers with
    ``inspect.isfunction``, and a function binds ``self`` when installed on the class.
    """

    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return rule(original, self, *args, **kwargs)

    return patched
