"""One simulated night at scale, through the real state machine and the real handlers.

A generated account (:mod:`hippolyte_local.synthetic_account`: sizes are metadata, tables hold no
items) is backed up by the deployed stack on in-memory AWS, everything on one simulated clock:

* AWS's rules that moto lacks (:class:`~tests.support.aws_rules.StrictAws`: tables UPDATING after
  an update, the daily decrease limit, Application Auto Scaling moving a table into its bounds);
* the account's API rates (:mod:`hippolyte_local.api_quotas`), throttling as AWS does;
* every AWS call a function makes costs :data:`CALL_SECONDS` of the invocation's time, and each
  invocation is held to its function's Timeout (:mod:`hippolyte_local.lambda_runtime`);
* EMR plays each pipeline in simulated time (:mod:`hippolyte_local.simulated_emr`), some tables
  drawn slower than planned.

:func:`run_night` returns what the bench prints and the test asserts: whether every table is
accounted for, whether capacity ended where it started with no lease left open, the history's
size, the longest invocation of each function against its timeout, each quota's headroom, and
the night's cost.
"""

from __future__ import annotations

import json
import random
import resource
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hippolyte.adapters.ledger import OPEN_STATUSES
from hippolyte.models import PlannerSettings, Prices
from hippolyte.planning import EMR_MINIMUM_BILLED_SECONDS, ON_DEMAND_BYTES_PER_READ_UNIT
from hippolyte_local.api_quotas import QUOTAS
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.simulated_emr import SimulatedEmr
from hippolyte_local.stack import ACCOUNT_ID
from hippolyte_local.synthetic_account import (
    AUTOSCALED_MAX_FACTOR,
    SyntheticTable,
    account_limits,
    account_max_rcu,
    create_tables,
    generate_account,
    synthetic_sizes,
)
from moto.dynamodb.models import dynamodb_backends

from tests.support.aws_rules import FakeClock, StrictAws

# Midnight of a night in the past: nothing depends on today's date.
NIGHT_STARTS = datetime(2026, 11, 28, 0, 10, tzinfo=UTC)
# Simulated seconds one AWS control-plane call takes from a Lambda function in the same region
# (a round trip of tens of milliseconds; assumed, AWS publishes no latency).
CALL_SECONDS = 0.03
# The stack as a platform team would deploy it for a large account: the template's defaults
# (7-hour window, 100 pipelines, 25% read share) and an address for the report.
# The extra read capacity the night may hold at once: the account's quota leaves this much above
# what its tables provision (a 10,000-table account has had its quota raised).
EXTRA_RCU_BUDGET = 1_000_000
# The night at scale runs on the engine it is asked for (Data Pipeline by default, which the
# figures in bench/results/scale.md measure); the simulated EMR plays both engines' clusters.
NIGHT_PARAMETERS = {"Stage": "scale", "NotificationEmail": "ops@example.com"}
POLL_SECONDS = 300
# One table in a hundred reads three times slower than planned (hot partitions, a throttled scan).
SLOW_SHARE, SLOW_FACTOR = 0.01, 3.0
# Step Functions history quota (service quotas: 25,000 events per execution, hard).
HISTORY_QUOTA = 25_000
# Step Functions payload quota (service quotas: 262,144 bytes for a state's input or output).
PAYLOAD_QUOTA = 262_144
# Prices, us-east-1 (AWS pricing pages; aws-facts.md): Step Functions standard workflows $0.025 per
# 1,000 state transitions; Lambda (x86) $0.0000166667 per GB-second and $0.20 per million requests.
TRANSITION_USD = 0.025 / 1000
LAMBDA_GB_SECOND_USD = 0.0000166667
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
FUNCTIONS = (
    "DiscoverTablesFunction",
    "PlanBatchesFunction",
    "ScaleUpReadCapacityFunction",
    "CreatePipelineFunction",
    "AddExportStepsFunction",
    "CheckPipelinesFunction",
    "ScaleDownReadCapacityFunction",
    "NotifyResultFunction",
    "NotifyFailureFunction",
    "RestoreCapacityAfterFailureFunction",
)


@dataclass(frozen=True)
class QuotaUse:
    """One quota's use over the night."""

    name: str
    calls: int
    peak_per_second: int
    per_second: float
    burst: float
    headroom: float
    throttles: int
    source: str


@dataclass(frozen=True)
class FunctionUse:
    """One function's invocations: how many, the longest against its timeout, peak memory."""

    function: str
    invocations: int
    longest_seconds: float
    timeout_seconds: float
    peak_mb: float | None
    memory_mb: int
    timed_out: int


@dataclass
class NightResult:
    """What one simulated night did and used."""

    tables: int
    status: str
    error: str | None
    wall_seconds: float
    engine: str
    harness_peak_mb: float
    night_seconds: float
    outcomes: Counter[str]
    unaccounted: list[str]
    failures: dict[str, str]
    capacity_differs: list[str]
    open_leases: list[str]
    history_events: int
    largest_input: int
    largest_output: int
    functions: list[FunctionUse]
    quotas: list[QuotaUse]
    calls_by_operation: dict[str, int]
    throttles: int
    transitions: int
    cost_usd: dict[str, float] = field(default_factory=dict)
    # Seconds of each WaitForPipelines, in order.
    poll_waits: list[int] = field(default_factory=list)

    @property
    def min_headroom(self) -> float:
        """The smallest headroom of any quota the night used."""
        return min((q.headroom for q in self.quotas if q.calls), default=float("inf"))


def _history(session: LocalSession, arn: str) -> Iterator[dict[str, Any]]:
    sfn = session.client("stepfunctions")
    token: str | None = None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        yield from page["events"]
        token = page.get("nextToken")
        if not token:
            return


def _document(session: LocalSession, run_id: str, name: str) -> dict[str, Any]:
    body = session.client("s3").get_object(Bucket=session.stack.bucket, Key=f"runs/{run_id}/{name}.json")["Body"]
    return json.loads(body.read())  # type: ignore[no-any-return]


def _slow_tables(tables: list[SyntheticTable], seed: int) -> dict[str, float]:
    rng = random.Random(seed * 7919)
    return {t.name: SLOW_FACTOR for t in tables if rng.random() < SLOW_SHARE}


def run_night(
    count: int,
    seed: int = 11,
    measure_memory: bool = False,
    wall_limit: float = 1800.0,
    engine: str = "datapipeline",
) -> NightResult:
    """Back up a generated account of ``count`` tables in one simulated night, on ``engine``."""
    started = time.perf_counter()
    tables = generate_account(count, seed)
    settings = PlannerSettings()
    strict = StrictAws(clock=FakeClock(NIGHT_STARTS))
    emr = SimulatedEmr(
        region="us-east-1",  # the local session's default region
        clock=strict.clock,
        sizes={t.name: t.size_bytes for t in tables},
        slow_tables=_slow_tables(tables, seed),
        settings=settings,
    )

    def extra(stack: ExitStack) -> None:
        stack.enter_context(strict)
        stack.enter_context(synthetic_sizes(tables))
        stack.enter_context(account_limits(account_max_rcu(tables, headroom=EXTRA_RCU_BUDGET)))

    with local_session(
        parameters={**NIGHT_PARAMETERS, "Engine": engine},
        extra=extra,
        clock=strict.clock,
        emr={"runs_pipelines": False},  # the simulated EMR plays every pipeline and cluster
        before_invoke=lambda _name, _event: emr.catch_up(),
        call_seconds=dict.fromkeys(FUNCTIONS, CALL_SECONDS),
        enforce_quotas=True,
        sleeps_take_time=True,
        measure_memory=measure_memory,
    ) as session:
        dynamodb = dynamodb_backends[ACCOUNT_ID][session.client("dynamodb").meta.region_name]
        create_tables(dynamodb, session.client("application-autoscaling"), tables)
        strict.settle()
        session.invocations.runs.clear()
        result = session.run({"poll_seconds": POLL_SECONDS}, name="scale-night", timeout=wall_limit)
        emr.catch_up()
        return _measure(session, result, tables, emr, started, engine)


def _measure(
    session: LocalSession, result: Any, tables: list[SyntheticTable], emr: SimulatedEmr, started: float, engine: str
) -> NightResult:
    events = list(_history(session, result.arn))
    sfn = session.client("stepfunctions")
    described = sfn.describe_execution(executionArn=result.arn)
    night_seconds = (described["stopDate"] - described["startDate"]).total_seconds()
    inputs = [len(e["stateEnteredEventDetails"].get("input", "")) for e in events if "stateEnteredEventDetails" in e]
    outputs = [len(e["stateExitedEventDetails"].get("output", "")) for e in events if "stateExitedEventDetails" in e]
    transitions = sum(1 for e in events if e["type"].endswith("StateEntered"))
    poll_waits = [
        int(json.loads(e["stateEnteredEventDetails"]["input"])["wait_seconds"])
        for e in events
        if e["type"] == "WaitStateEntered" and e["stateEnteredEventDetails"]["name"] == "WaitForPipelines"
    ]

    outcomes: dict[str, Any] = {}
    skipped: list[str] = []
    try:
        outcomes = _document(session, "scale-night", "progress")["outcomes"]
        skipped = [s["name"] for s in _document(session, "scale-night", "inventory")["skipped"]]
    except Exception:
        pass
    statuses = Counter(o["status"] for o in outcomes.values())
    failures = {name: o.get("reason", "") for name, o in outcomes.items() if o["status"] != "backed_up"}
    statuses["skipped"] += sum(1 for name in skipped if name not in outcomes)
    names = {t.name for t in tables}
    unaccounted = sorted(names - set(outcomes) - set(skipped))

    capacity_differs = _capacity_differs(session, tables)
    ledger = session.client("dynamodb").scan(TableName=session.stack.refs["CapacityLedger"])["Items"]
    open_leases = sorted(item["table_name"]["S"] for item in ledger if item["status"]["S"] in OPEN_STATUSES)

    functions = _function_use(session)
    quotas = _quota_use(session)
    calls = Counter(call.operation for call in session.aws_calls.calls)
    throttles = sum(session.quotas.throttles.values()) if session.quotas else 0
    lambda_gb_seconds = sum(run.seconds * run.memory_mb / 1024 for run in session.invocations.runs)
    prices = Prices()
    cluster_hours = sum(max(EMR_MINIMUM_BILLED_SECONDS, seconds) for seconds in emr.cluster_seconds.values()) / 3600
    on_demand_units = sum(t.size_bytes / ON_DEMAND_BYTES_PER_READ_UNIT for t in tables if t.rcu is None)
    cost = {
        "step_functions": transitions * TRANSITION_USD,
        "lambda": lambda_gb_seconds * LAMBDA_GB_SECOND_USD + len(session.invocations.runs) * LAMBDA_REQUEST_USD,
        "emr": cluster_hours * prices.cluster_hour_usd,
        "rcu_boosts": _boost_rcu_hours(session, tables) * prices.rcu_hour_usd,
        "on_demand_reads": on_demand_units / 1_000_000 * prices.on_demand_read_million_usd,
    }
    cost["total"] = sum(cost.values())
    return NightResult(
        tables=len(tables),
        status=result.status,
        error=result.error,
        engine=engine,
        wall_seconds=time.perf_counter() - started,
        harness_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        night_seconds=night_seconds,
        outcomes=statuses,
        unaccounted=unaccounted,
        failures=failures,
        capacity_differs=capacity_differs,
        open_leases=open_leases,
        history_events=len(events),
        largest_input=max(inputs, default=0),
        largest_output=max(outputs, default=0),
        functions=functions,
        quotas=quotas,
        calls_by_operation=dict(calls.most_common()),
        throttles=throttles,
        transitions=transitions,
        cost_usd=cost,
        poll_waits=poll_waits,
    )


def _capacity_differs(session: LocalSession, tables: list[SyntheticTable]) -> list[str]:
    """Tables whose read capacity did not end as the night found it.

    A provisioned table must read its own RCU again. A table under auto scaling must have its
    owner's bounds back, and its capacity inside them (Auto Scaling, not Hippolyte, brings a
    capacity inside the bounds down later, as its policy decides).
    """
    live = dynamodb_backends[ACCOUNT_ID][session.region]
    autoscaling = session.client("application-autoscaling")
    scaled = [f"table/{t.name}" for t in tables if t.autoscaled]
    targets = {}
    # By resource id, 50 at a time (DescribeScalableTargets' most): moto's NextToken repeats itself
    # past 50 targets.
    for start in range(0, len(scaled), 50):
        for target in autoscaling.describe_scalable_targets(
            ServiceNamespace="dynamodb",
            ResourceIds=scaled[start : start + 50],
            ScalableDimension="dynamodb:table:ReadCapacityUnits",
        )["ScalableTargets"]:
            targets[target["ResourceId"].removeprefix("table/")] = target
    differs = []
    for table in tables:
        if table.rcu is None:
            continue
        rcu = int(live.get_table(table.name).throughput["ReadCapacityUnits"])
        if table.autoscaled:
            target = targets.get(table.name, {})
            bounds = (target.get("MinCapacity"), target.get("MaxCapacity"))
            if bounds != (table.rcu, table.rcu * AUTOSCALED_MAX_FACTOR) or not bounds[0] <= rcu <= bounds[1]:
                differs.append(table.name)
        elif rcu != table.rcu:
            differs.append(table.name)
    return differs


def _function_use(session: LocalSession) -> list[FunctionUse]:
    by_function: dict[str, list[Any]] = {}
    for run in session.invocations.runs:
        logical = next((f for f in FUNCTIONS if session.stack.refs.get(f) == run.function), run.function)
        by_function.setdefault(logical, []).append(run)
    uses = []
    for function, runs in sorted(by_function.items()):
        peaks = [run.peak_bytes for run in runs if run.peak_bytes is not None]
        uses.append(
            FunctionUse(
                function=function,
                invocations=len(runs),
                longest_seconds=max(run.seconds for run in runs),
                timeout_seconds=runs[0].timeout_seconds,
                peak_mb=max(peaks) / 1024**2 if peaks else None,
                memory_mb=runs[0].memory_mb,
                timed_out=sum(1 for run in runs if run.timed_out),
            )
        )
    return uses


def _quota_use(session: LocalSession) -> list[QuotaUse]:
    log = session.quotas
    assert log is not None
    uses = []
    for quota in QUOTAS:
        calls = sum(len(log.calls.get(op, [])) for op in quota.operations)
        uses.append(
            QuotaUse(
                name=quota.name,
                calls=calls,
                peak_per_second=log.peak_per_second(quota.operations),
                per_second=quota.per_second,
                burst=quota.burst,
                headroom=log.headroom(quota),
                throttles=sum(log.throttles.get(op, 0) for op in quota.operations),
                source=quota.source,
            )
        )
    return uses


def _boost_rcu_hours(session: LocalSession, tables: list[SyntheticTable]) -> float:
    """Extra RCU-hours the night held: each raise of a table's read capacity above its own, from
    the UpdateTable (or RegisterScalableTarget) that raised it to the one that put it back, each
    hold billed by the started hour as DynamoDB bills provisioned capacity."""
    original = {t.name: t.rcu for t in tables if t.rcu is not None}
    changes: dict[str, list[tuple[datetime, int]]] = {}
    for call in session.aws_calls.calls:
        if call.at is None:
            continue
        if call.operation == "UpdateTable":
            rcu = (call.params.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits")
            name = call.params.get("TableName")
        elif call.operation == "RegisterScalableTarget" and call.params.get("ScalableDimension", "").startswith(
            "dynamodb:table:Read"
        ):
            rcu = call.params.get("MinCapacity")
            name = str(call.params.get("ResourceId", "")).removeprefix("table/")
        else:
            continue
        if name in original and rcu is not None:
            changes.setdefault(name, []).append((call.at, int(rcu)))
    hours = 0.0
    for name, moves in changes.items():
        moves.sort()
        raised_at: datetime | None = None
        extra = 0
        for at, rcu in moves:
            if raised_at is not None:
                hours += extra * -(-(at - raised_at).total_seconds() // 3600)
            raised_at, extra = (at, rcu - original[name]) if rcu > original[name] else (None, 0)
    return hours
