"""EMR on the simulated clock, for tables whose sizes are metadata (a night at 10,000 tables).

:class:`~hippolyte_local.emr.LocalEmr` runs every export for real, as fast as moto answers: right
for the demo's few hundred items, impossible for an account of terabytes. :class:`SimulatedEmr`
plays the same pipelines in simulated time instead. Called with :meth:`SimulatedEmr.catch_up`
(before each Lambda invocation, so that every poll sees the night as it stands), it moves every
activated pipeline to where it would be at the clock's now:

* the cluster comes up ``emr_bootstrap_seconds`` after the activation (the planner's own figure,
  so tables end when the plan says, unless drawn slow);
* its activities run one after another, in definition order, as EmrActivity steps on one cluster
  do. Each reads its table at the export tool's rate: ``floor(capacity x readThroughputPercent)``
  RCU a second, 8 KB each (eventually consistent reads of 4 KB), with 40,000 as the capacity of
  an on-demand table (awslabs/emr-dynamodb-connector: DynamoDBConstants, ReadIopsCalculator;
  aws-facts.md, "the tool's read rate"). The capacity is the table's own when its step starts,
  so a boost the night raised in time shortens the step, and one it did not leaves it long;
  ``activity_bootstrap_seconds`` start each step;
* a table drawn slow (``slow_tables``: name -> factor) takes that many times longer, as a table
  with hot partitions or a throttled scan does, so the deadline is met with unfinished work;
* a finished step writes what DynamoDBExport writes: data files in the tool's line format (a
  sample of the table's items: the items themselves are metadata), the ``manifest`` listing
  them, and ``_SUCCESS`` last. A table in ``fail_tables`` fails its step: no marker, an
  ``errorMessage`` on the activity, its output data node CASCADE_FAILED.

Statuses are reported through :mod:`hippolyte_local.pipeline_runs` as LocalEmr reports them,
each with the simulated moment it happened. A pipeline deleted under its run (the deadline) stops
where it was; a re-activation's new instances start a new run.

The emr engine's clusters are played the same way (:mod:`hippolyte_local.job_flows` keeps them
STARTING and their steps PENDING): a cluster is WAITING ``emr_bootstrap_seconds`` after RunJobFlow,
runs its steps one after another from when each was added (a step added just in time waits for
nothing else), each taking the same time as a pipeline's activity, and ends itself when idle for
its AutoTerminationPolicy's IdleTimeout. Its lifetime, creation to termination, is its EMR bill.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hippolyte.adapters.backup_files import MANIFEST, SUCCESS_MARKER, split_s3_uri
from hippolyte.emr_export_format import data_file
from hippolyte.models import EXPORT_TOOL_ON_DEMAND_CAPACITY, PlannerSettings
from hippolyte.pipelines import objects_by_id
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datapipeline.models import Pipeline, datapipeline_backends
from moto.dynamodb.models import dynamodb_backends
from moto.emr.models import Cluster, Step, emr_backends
from moto.s3.models import s3_backends

from hippolyte_local import job_flows, pipeline_runs
from hippolyte_local.pipeline_runs import TIME_FORMAT, WAITING_FOR_RUNNER, Instance

# The partition of the account's buckets in moto's S3 backend.
PARTITION = "aws"
# One RCU reads 4 KB a second strongly consistent, twice that eventually consistent, which is
# how the export tool scans (DynamoDB Developer Guide, "Read/write capacity mode"; aws-facts.md).
BYTES_PER_RCU_SECOND = 8192
# Lines written to each synthetic table's data file: enough for CheckPipelines to stream and
# check real lines, few enough that 10,000 tables fit in memory.
SAMPLE_ITEMS = 2


@dataclass
class _Step:
    activity: str
    table: str
    percent: float
    directory: str
    input_id: str | None
    output_id: str | None


@dataclass
class _ClusterRun:
    """One activation of one pipeline: its cluster, its steps and how far they have got."""

    pipeline_id: str
    ready_at: datetime
    steps: list[_Step]
    instances: dict[str, Instance]
    cluster_up: bool = False
    index: int = 0
    step_ends_at: datetime | None = None
    free_at: datetime | None = None
    done: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class _JobFlow:
    """One cluster of the emr engine: when it is up, when it is free, and the step it runs."""

    ready_at: datetime
    free_at: datetime
    running: Step | None = None
    ends_at: datetime | None = None


class SimulatedEmr:
    """Plays each activated pipeline's cluster on the simulated clock (see the module's text)."""

    def __init__(
        self,
        region: str,
        clock: Callable[[], datetime],
        sizes: Mapping[str, int],
        slow_tables: Mapping[str, float] | None = None,
        fail_tables: set[str] | None = None,
        settings: PlannerSettings | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        """``sizes`` gives each table's bytes (metadata); ``slow_tables`` stretches some steps."""
        self.region, self.clock, self.account_id = region, clock, account_id
        self.sizes = sizes
        self.slow_tables = dict(slow_tables or {})
        self.fail_tables = set(fail_tables or ())
        self.settings = settings or PlannerSettings()
        self._runs: dict[tuple[str, str], _ClusterRun] = {}
        self._flows: dict[str, _JobFlow] = {}
        self._lock = threading.Lock()
        # Cluster lifetimes (activation to the end of its last step), for the night's EMR cost.
        self.cluster_seconds: dict[str, float] = {}
        self.finished_tables: dict[str, datetime] = {}

    def catch_up(self) -> None:
        """Move every activated pipeline on to the clock's now."""
        now = self.clock()
        with self._lock:
            backend = datapipeline_backends[self.account_id][self.region]
            live = set()
            for pipeline_id, pipeline in sorted(list(backend.pipelines.items())):
                run = self._run_of(pipeline_id, pipeline)
                if run is None:
                    continue
                live.add((pipeline_id, _scheduled(run)))
                if not run.done:
                    self._advance(pipeline, run, now)
            for key in [key for key in self._runs if key not in live]:
                del self._runs[key]  # deleted under its run: it stops where it was
            for cluster in job_flows.clusters(emr_backends[self.account_id][self.region]):
                self._advance_flow(cluster, now)

    def _advance_flow(self, cluster: Cluster, now: datetime) -> None:
        """Move one emr cluster on to ``now``: up, its steps in turn, ended when idle too long."""
        created = cluster.creation_datetime.replace(tzinfo=now.tzinfo)
        flow = self._flows.get(cluster.id)
        if flow is None:
            ready = created + timedelta(seconds=self.settings.emr_bootstrap_seconds)
            flow = self._flows[cluster.id] = _JobFlow(ready_at=ready, free_at=ready)
        if cluster.state in job_flows.CLUSTER_ENDED:
            if cluster.id not in self.cluster_seconds and cluster.end_datetime is not None:
                ended = cluster.end_datetime.replace(tzinfo=now.tzinfo)
                self.cluster_seconds[cluster.id] = (ended - created).total_seconds()
            return
        if cluster.state == "STARTING":
            if now < flow.ready_at:
                return
            job_flows.set_cluster_state(cluster, "WAITING", at=flow.ready_at)
        while True:
            if flow.running is not None:
                assert flow.ends_at is not None
                if now < flow.ends_at:
                    return
                step, ended = flow.running, flow.ends_at
                error = self._finish(self._job_step(step))
                job_flows.set_step_state(step, "FAILED" if error else "COMPLETED", error or "", at=ended)
                if not error:
                    self.finished_tables[self._job_step(step).table] = ended
                flow.running, flow.ends_at, flow.free_at = None, None, ended
                if not job_flows.active_steps(cluster):
                    job_flows.set_cluster_state(cluster, "WAITING", at=ended)
            pending = [step for step in cluster.steps if step.state == "PENDING"]
            if not pending:
                break
            step = pending[0]
            start = max(flow.free_at, job_flows.moto_time(step.creation_date_time).replace(tzinfo=now.tzinfo))
            if now < start:
                return
            job_flows.set_step_state(step, "RUNNING", at=start)
            job_flows.set_cluster_state(cluster, "RUNNING", at=start)
            flow.running, flow.ends_at = step, start + timedelta(seconds=self.step_seconds(self._job_step(step)))
        job_flows.end_if_idle(cluster, now)

    @staticmethod
    def _job_step(step: Step) -> _Step:
        """An emr step as the activity it stands for: ``<directory> <table> <read ratio>``."""
        directory, table, percent = (str(arg) for arg in step.args[:3])
        return _Step(
            activity=step.id, table=table, percent=float(percent), directory=directory, input_id=None, output_id=None
        )

    def _run_of(self, pipeline_id: str, pipeline: Pipeline) -> _ClusterRun | None:
        scheduled = pipeline_runs.current_activation(pipeline)
        if scheduled is None:
            return None
        run = self._runs.get((pipeline_id, scheduled))
        if run is None:
            instances = pipeline_runs.current_instances(pipeline)
            if not instances:
                return None
            key = (pipeline_id, instances[0].scheduled_start)
            if not any(i.is_activity and i.status == WAITING_FOR_RUNNER for i in instances):
                return None
            activated = datetime.strptime(instances[0].scheduled_start, TIME_FORMAT).replace(tzinfo=self.clock().tzinfo)
            run = _ClusterRun(
                pipeline_id=pipeline_id,
                ready_at=activated + timedelta(seconds=self.settings.emr_bootstrap_seconds),
                steps=_steps(pipeline),
                instances={i.component: i for i in instances},
            )
            run.free_at = run.ready_at
            self._runs[key] = run
        return run

    def _advance(self, pipeline: Pipeline, run: _ClusterRun, now: datetime) -> None:
        clusters = [i for i in run.instances.values() if i.type == "EmrCluster"]
        if not run.cluster_up:
            if now < run.ready_at:
                return
            for cluster in clusters:
                self._report(pipeline, cluster, "RUNNING", run.ready_at)
            run.cluster_up = True
        while run.index < len(run.steps):
            step = run.steps[run.index]
            activity = run.instances.get(step.activity)
            if activity is None:
                run.index += 1
                continue
            assert run.free_at is not None
            if run.step_ends_at is None:
                if now < run.free_at:
                    return
                if not self._report(pipeline, activity, "RUNNING", run.free_at):
                    run.done = True  # cancelled by a re-activation
                    return
                self._report(pipeline, run.instances.get(step.input_id or ""), "FINISHED", run.free_at)
                run.step_ends_at = run.free_at + timedelta(seconds=self.step_seconds(step))
            if now < run.step_ends_at:
                return
            ended = run.step_ends_at
            error = self._finish(step)
            self._report(pipeline, activity, "FAILED" if error else "FINISHED", ended, error)
            self._report(
                pipeline, run.instances.get(step.output_id or ""), "CASCADE_FAILED" if error else "FINISHED", ended
            )
            if error:
                run.errors.append(f"{step.activity}: {error}")
            else:
                self.finished_tables[step.table] = ended
            run.index, run.step_ends_at, run.free_at = run.index + 1, None, ended
        for cluster in clusters:
            self._report(pipeline, cluster, "FINISHED", run.free_at)
        activated = run.ready_at - timedelta(seconds=self.settings.emr_bootstrap_seconds)
        self.cluster_seconds[run.pipeline_id] = ((run.free_at or now) - activated).total_seconds()
        run.done = True

    def step_seconds(self, step: _Step) -> float:
        """How long a table's export step takes, from the table's capacity as the step starts."""
        table = dynamodb_backends[self.account_id][self.region].get_table(step.table)
        if table.billing_mode == "PAY_PER_REQUEST":
            capacity = EXPORT_TOOL_ON_DEMAND_CAPACITY
        else:
            capacity = int(table.throughput["ReadCapacityUnits"])
        units_per_second = max(1, math.floor(capacity * step.percent))
        reading = self.sizes.get(step.table, 0) / (units_per_second * BYTES_PER_RCU_SECOND)
        return self.settings.activity_bootstrap_seconds + reading * self.slow_tables.get(step.table, 1.0)

    def _finish(self, step: _Step) -> str | None:
        if step.table in self.fail_tables:
            return f"export of {step.table} failed (injected fault)"
        bucket, prefix = split_s3_uri(step.directory if step.directory.endswith("/") else step.directory + "/")
        # Written straight into the in-memory bucket: the cluster's writes are not calls of the
        # night's functions, and at 10,000 tables going through a client would triple the
        # harness's S3 work for nothing the night can see.
        s3 = s3_backends[self.account_id][PARTITION]
        name = "part-00000"
        sample = [{"pk": {"S": f"{step.table}#{n}"}} for n in range(SAMPLE_ITEMS)]
        s3.put_object(bucket, prefix + name, data_file(sample))
        entries = [{"url": f"s3://{bucket}/{prefix}{name}", "mandatory": True}]
        manifest = {"name": "DynamoDB-export", "version": 3, "entries": entries}
        s3.put_object(bucket, prefix + MANIFEST, json.dumps(manifest).encode())
        s3.put_object(bucket, prefix + SUCCESS_MARKER, b"")
        return None

    @staticmethod
    def _report(
        pipeline: Pipeline, instance: Instance | None, status: str, at: datetime | None, error: str | None = None
    ) -> bool:
        return instance is not None and pipeline_runs.set_status(pipeline, instance.id, status, error, at=at)


def _scheduled(run: _ClusterRun) -> str:
    return next(iter(run.instances.values())).scheduled_start


def _ref(fields: Mapping[str, Any], key: str) -> str | None:
    ref = fields.get(key)
    return str(ref["ref"]) if isinstance(ref, dict) else None


def _steps(pipeline: Pipeline) -> list[_Step]:
    """The pipeline's export activities in definition order, with what each reads and writes."""
    objects = objects_by_id(obj.to_json() for obj in pipeline.objects)
    steps = []
    for object_id, fields in objects.items():
        if fields.get("type") != "EmrActivity":
            continue
        source = objects.get(_ref(fields, "input") or "", {})
        target = objects.get(_ref(fields, "output") or "", {})
        steps.append(
            _Step(
                activity=object_id,
                table=str(source.get("tableName", "")),
                percent=float(source.get("readThroughputPercent", 0.25)),
                directory=str(target.get("directoryPath", "")),
                input_id=_ref(fields, "input"),
                output_id=_ref(fields, "output"),
            )
        )
    return steps
