"""Playing the EMR clusters of the local run: every activated pipeline's activities, for real.

moto's Data Pipeline stores definitions and reports ``SCHEDULED`` after activation, then nothing
more happens. :mod:`hippolyte_local.pipeline_runs` adds what Data Pipeline does on activation: one
instance per activity, data node and cluster, whose statuses QueryObjects and DescribeObjects
report. :class:`LocalEmr` is the runner those instances wait for: it watches for activities
WAITING_FOR_RUNNER, reads the pipeline's definition back through the Data Pipeline API (the same
objects that would go to AWS), and runs each ``EmrActivity``'s step on its cluster, one after
another:

* ``DynamoDBExport``: scans the input ``DynamoDBDataNode``'s table and writes the export tool's
  files to the output ``S3DataNode``'s directory: data files of one item per line, each line
  byte for byte as DynamoDBExport 4.11.0 writes it (Gson's view of the SDK v1 AttributeValue:
  ``{"s":...}``, ``{"b":"<base64>"}``, ``{"nULLValue":true}``; see
  :mod:`hippolyte.emr_export_format` for the rules and their sources), a ``manifest`` listing
  them and Hadoop's empty ``_SUCCESS`` marker last;
* ``DynamoDBImport``: reads such a directory back into the output table, line by line as the
  tool does, and fails where it would: a line in standard DynamoDB JSON (``{"S": ...}``) fails
  the activity, as DynamoDB refuses the empty values Gson reads from it.

It reports as Data Pipeline would: the cluster's instance RUNNING while it works, then FINISHED;
each activity's instance RUNNING, then FINISHED, or FAILED with an ``errorMessage`` (a wrong ref,
an unknown step class, a missing table or a bad ``readThroughputPercent`` fail it, as on EMR);
its input data node FINISHED when the step starts, its output FINISHED, or CASCADE_FAILED after a
failure. The pipeline's ``@pipelineState`` stays SCHEDULED, as AWS documents for an on-demand
pipeline that has finished its work; its ``@healthStatus`` follows the instances. A pipeline
activated again gets new instances (the old ones CANCELED), and its activities run again.

It also plays the emr engine's own clusters (:mod:`hippolyte_local.job_flows` makes moto's EMR
keep them STARTING and their steps PENDING), not on a thread but in :meth:`LocalEmr.run_job_flows`,
which the local session calls before every Lambda invocation: each handler then sees the clusters
as they stand on the session's clock, whatever the machine's speed. A cluster comes up WAITING
``bootstrap_seconds`` after its creation (or fails its bootstrap, TERMINATED_WITH_ERRORS, when
named in ``fail_clusters``), runs its PENDING steps in order with the same tools (a step's
``MainClass`` is the tool, its ``Args`` the tool's arguments), ends each one COMPLETED or FAILED
with its FailureDetails, and waits for more (KeepJobFlowAliveWhenNoSteps) until it is terminated,
or its AutoTerminationPolicy's IdleTimeout passes on the session's clock. A step of a table in
``stuck_tables`` starts and never ends, as a scan throttled to a crawl would not within the window.

What is not emulated: the read rate (exports run as fast as moto answers), EMR bootstrap time,
retries of a failed activity, attempt objects, and concurrent steps (a cluster whose
StepConcurrencyLevel is above 1 still runs one step at a time here).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import boto3
from hippolyte.adapters.backup_files import MANIFEST, SUCCESS_MARKER, split_s3_uri
from hippolyte.emr_export_format import data_file, parse_item_line, split_lines
from hippolyte.errors import InvalidExportLineError, UnexportableItemError
from hippolyte.models import MAX_READ_THROUGHPUT_PERCENT, MIN_READ_THROUGHPUT_PERCENT
from hippolyte.pipelines import EXPORT_TOOL_CLASS, IMPORT_TOOL_CLASS, objects_by_id
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datapipeline.models import Pipeline, datapipeline_backends
from moto.emr.models import Cluster, Step, emr_backends

from hippolyte_local import job_flows, pipeline_runs
from hippolyte_local.pipeline_runs import WAITING_FOR_RUNNER, Instance

ITEMS_PER_DATA_FILE = 500
StepHook = Callable[[str, str, str], None]
_EXPRESSION = re.compile(r"#\{(input|output)\.(\w+)\}")


class ActivityFailedError(Exception):
    """An activity's step could not run (its instance ends FAILED, the pipeline's health ERROR)."""


class LocalEmr:
    """A background thread that runs activated pipelines, like EMR clusters would."""

    def __init__(
        self,
        region: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        table_delay_seconds: float = 0.0,
        fail_tables: set[str] | None = None,
        hold: Callable[[str], bool] | None = None,
        runs_pipelines: bool = True,
        fail_clusters: set[str] | None = None,
        bootstrap_seconds: float = 0.0,
        stuck_tables: set[str] | None = None,
    ) -> None:
        self.region, self.account_id = region, account_id
        self.table_delay_seconds = table_delay_seconds
        self.fail_tables = fail_tables if fail_tables is not None else set()
        # Names of clusters whose bootstrap fails (they end TERMINATED_WITH_ERRORS, never WAITING).
        self.fail_clusters = fail_clusters if fail_clusters is not None else set()
        self.bootstrap_seconds = bootstrap_seconds
        self.stuck_tables = stuck_tables if stuck_tables is not None else set()
        self._job_flows_lock = threading.Lock()
        # ``hold(pipeline_id)`` true keeps a pipeline (or a cluster, by its id) waiting (tests stop
        # executions mid-run).
        self.hold = hold
        # False: another runner plays the pipelines (the simulated EMR of a night at scale), and
        # no thread watches for them here.
        self.runs_pipelines = runs_pipelines
        # Called with (directory, table, percent) as each export or import step starts, so that
        # tests can look at the account, or change it, while a table's step runs.
        self.before_export: StepHook | None = None
        self.before_import: StepHook | None = None
        # How each pipeline's last run ended (FINISHED or FAILED), and its activities' errors.
        self.finished: dict[str, str] = {}
        self.errors: dict[str, list[str]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._patches = ExitStack()
        self._datapipeline = boto3.client("datapipeline", region_name=region)
        self._dynamodb = boto3.client("dynamodb", region_name=region)
        self._s3 = boto3.client("s3", region_name=region)

    def __enter__(self) -> LocalEmr:
        self._patches.enter_context(pipeline_runs.installed())
        self._patches.enter_context(job_flows.installed())
        if self.runs_pipelines:
            self._thread = threading.Thread(target=self._loop, name="local-emr", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._patches.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_activated()
            self._stop.wait(0.02)

    def run_job_flows(self) -> None:
        """Move every cluster of the emr engine to where it stands now: up, its steps run, ended idle.

        Not when another runner plays the clusters (the simulated EMR of a night at scale).
        """
        if not self.runs_pipelines:
            return
        with self._job_flows_lock:
            for cluster in job_flows.clusters(emr_backends[self.account_id][self.region]):
                self._move_cluster(cluster)

    def _move_cluster(self, cluster: Cluster) -> None:
        if cluster.state == "STARTING":
            up_at = cluster.creation_datetime + timedelta(seconds=self.bootstrap_seconds)
            if job_flows.now() < up_at:
                return
        if self.hold is not None and self.hold(cluster.id):
            return
        if cluster.state == "STARTING":
            if cluster.name in self.fail_clusters:
                job_flows.set_cluster_state(
                    cluster,
                    "TERMINATED_WITH_ERRORS",
                    "BOOTSTRAP_FAILURE",
                    "On the master instance, application provisioning failed (injected fault)",
                )
                return
            job_flows.set_cluster_state(cluster, "WAITING")
        # Its steps run one after another, all now, as the pipelines' activities do: a small
        # table's export takes seconds on EMR, far less than a poll.
        while cluster.state in ("WAITING", "RUNNING"):
            pending = [step for step in cluster.steps if step.state == "PENDING"]
            if not pending or any(step.state == "RUNNING" for step in cluster.steps):
                break
            self._run_step(cluster, pending[0])
        job_flows.end_if_idle(cluster, job_flows.now())

    def _run_step(self, cluster: Cluster, step: Step) -> None:
        job_flows.set_step_state(step, "RUNNING")
        job_flows.set_cluster_state(cluster, "RUNNING")
        if len(step.args) >= 2 and step.args[1] in self.stuck_tables:
            return  # it never ends: the cluster stays RUNNING until it is terminated
        error: str | None = None
        try:
            self._run_tool(str(step.jar), job_flows.step_run(step).main_class, [str(arg) for arg in step.args])
        except ActivityFailedError as failure:
            error = str(failure)
        except Exception as failure:
            error = f"{type(failure).__name__}: {failure}"
        if cluster.state not in ("WAITING", "RUNNING") or step.state != "RUNNING":
            return  # terminated meanwhile: the step was cancelled with its cluster
        job_flows.set_step_state(step, "FAILED" if error else "COMPLETED", error or "")
        if not job_flows.active_steps(cluster):
            if cluster.keep_job_flow_alive_when_no_steps:
                job_flows.set_cluster_state(cluster, "WAITING")
            else:
                job_flows.set_cluster_state(cluster, "TERMINATED", "ALL_STEPS_COMPLETED", "Steps completed")

    def _run_tool(self, jar: str, main_class: str, args: list[str]) -> None:
        """A custom-jar step: the export or import tool, as EMR runs ``hadoop jar <jar> <class> <args>``."""
        if not jar.startswith("s3://") or not jar.endswith(".jar"):
            raise ActivityFailedError(f"jar {jar!r} is not an S3 path to a .jar")
        if len(args) < 3:
            raise ActivityFailedError(f"{main_class} needs <directory> <table> <ratio>, got {args}")
        if main_class == EXPORT_TOOL_CLASS:
            self._export(directory=args[0], table=args[1], percent=args[2])
        elif main_class == IMPORT_TOOL_CLASS:
            self._import(directory=args[0], table=args[1], percent=args[2])
        else:
            raise ActivityFailedError(f"unknown tool class {main_class!r}")

    def _pipeline(self, pipeline_id: str) -> Pipeline | None:
        return datapipeline_backends[self.account_id][self.region].pipelines.get(pipeline_id)

    def run_activated(self) -> None:
        """Run every pipeline whose activities wait for a runner (one pipeline at a time)."""
        backend = datapipeline_backends[self.account_id][self.region]
        for pipeline_id, pipeline in sorted(list(backend.pipelines.items())):
            waiting = [
                i for i in pipeline_runs.current_instances(pipeline) if i.is_activity and i.status == WAITING_FOR_RUNNER
            ]
            if not waiting or (self.hold is not None and self.hold(pipeline_id)):
                continue
            self.run_pipeline(pipeline_id)

    def run_pipeline(self, pipeline_id: str) -> str:
        """Run the waiting activities of a pipeline's latest activation, in definition order.

        Returns how they ended: FINISHED, FAILED, CANCELED when an activation cancelled them
        meanwhile (its new instances run next), or DELETED.
        """
        pipeline = self._pipeline(pipeline_id)
        try:
            definition = self._datapipeline.get_pipeline_definition(pipelineId=pipeline_id)["pipelineObjects"]
        except Exception:
            return "DELETED"
        if pipeline is None:
            return "DELETED"
        objects = objects_by_id(definition)
        instances = {i.component: i for i in pipeline_runs.current_instances(pipeline)}
        activities = [
            object_id
            for object_id, fields in objects.items()
            if fields.get("type") == "EmrActivity"
            and object_id in instances
            and instances[object_id].status == WAITING_FOR_RUNNER
        ]
        clusters = [i for i in instances.values() if i.type == "EmrCluster"]
        for cluster in clusters:
            self._report(pipeline, cluster, "RUNNING")
        errors: list[str] = []
        for object_id in activities:
            fields = objects[object_id]
            if not self._report(pipeline, instances[object_id], "RUNNING"):
                return "CANCELED"
            self._report(pipeline, instances.get(self._ref(fields, "input")), "FINISHED")
            error: str | None = None
            try:
                self._run_activity(objects, object_id, fields)
            except ActivityFailedError as failure:
                error = str(failure)
            except Exception as failure:
                error = f"{type(failure).__name__}: {failure}"
            if self._stop.is_set() or self._pipeline(pipeline_id) is None:
                return "DELETED"
            if error is not None:
                errors.append(f"{object_id}: {error}")
            if not self._report(pipeline, instances[object_id], "FAILED" if error else "FINISHED", error):
                return "CANCELED"
            output = instances.get(self._ref(fields, "output"))
            self._report(pipeline, output, "CASCADE_FAILED" if error else "FINISHED")
        for cluster in clusters:
            self._report(pipeline, cluster, "FINISHED")
        state = "FAILED" if errors else "FINISHED"
        self.errors[pipeline_id] = errors
        self.finished[pipeline_id] = state
        return state

    @staticmethod
    def _ref(fields: dict[str, Any], key: str) -> str:
        ref = fields.get(key)
        return str(ref["ref"]) if isinstance(ref, dict) else ""

    @staticmethod
    def _report(pipeline: Pipeline, instance: Instance | None, status: str, error: str | None = None) -> bool:
        """Report an instance's status to Data Pipeline; False when it had ended (cancelled)."""
        return instance is not None and pipeline_runs.set_status(pipeline, instance.id, status, error)

    def _resolve(
        self, objects: dict[str, dict[str, Any]], fields: dict[str, Any], key: str, kind: str
    ) -> dict[str, Any]:
        ref = fields.get(key)
        if not isinstance(ref, dict) or ref["ref"] not in objects:
            raise ActivityFailedError(f"{key} does not refer to an object of the pipeline")
        target = objects[ref["ref"]]
        if target.get("type") != kind:
            raise ActivityFailedError(f"{key} refers to a {target.get('type')}, not a {kind}")
        return target

    def _run_activity(self, objects: dict[str, dict[str, Any]], activity_id: str, fields: dict[str, Any]) -> None:
        self._resolve(objects, fields, "runsOn", "EmrCluster")
        step = str(fields.get("step", "")).split(",")
        if len(step) < 5 or not step[0].startswith("s3://") or not step[0].endswith(".jar"):
            raise ActivityFailedError(f"step {fields.get('step')!r} is not '<s3 jar>,<class>,<args>'")
        tool = step[1]
        if tool == EXPORT_TOOL_CLASS:
            source = self._resolve(objects, fields, "input", "DynamoDBDataNode")
            target = self._resolve(objects, fields, "output", "S3DataNode")
            args = [self._expand(arg, source, target) for arg in step[2:5]]
            self._export(directory=args[0], table=args[1], percent=args[2])
        elif tool == IMPORT_TOOL_CLASS:
            source = self._resolve(objects, fields, "input", "S3DataNode")
            target = self._resolve(objects, fields, "output", "DynamoDBDataNode")
            args = [self._expand(arg, source, target) for arg in step[2:5]]
            self._import(directory=args[0], table=args[1], percent=args[2])
        else:
            raise ActivityFailedError(f"unknown tool class {tool!r}")

    @staticmethod
    def _expand(argument: str, source: dict[str, Any], target: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            node = source if match.group(1) == "input" else target
            if match.group(2) not in node:
                raise ActivityFailedError(f"{match.group(0)} has no value")
            return str(node[match.group(2)])

        return _EXPRESSION.sub(value, argument)

    @staticmethod
    def _check_percent(percent: str, low: float = 0.0, high: float = 1.5) -> None:
        """Fail the activity on a ratio outside ``(low, high]`` (``[low, high]`` when low > 0)."""
        try:
            value = float(percent)
        except ValueError:
            raise ActivityFailedError(f"throughput percent {percent!r} is not a number") from None
        if not (low <= value <= high and value > 0):
            raise ActivityFailedError(f"throughput percent {percent} is out of range")

    def _export(self, directory: str, table: str, percent: str) -> None:
        if self.before_export is not None:
            self.before_export(directory, table, percent)
        # The export's ratio is its DynamoDBDataNode's readThroughputPercent, "a double between 0.1
        # and 1.0, inclusively" (AWS Data Pipeline Developer Guide, DynamoDBDataNode).
        self._check_percent(percent, MIN_READ_THROUGHPUT_PERCENT, MAX_READ_THROUGHPUT_PERCENT)
        bucket, prefix = split_s3_uri(directory if directory.endswith("/") else directory + "/")
        try:
            pages = list(self._dynamodb.get_paginator("scan").paginate(TableName=table))
        except self._dynamodb.exceptions.ResourceNotFoundException:
            raise ActivityFailedError(f"table {table} does not exist") from None
        items = [item for page in pages for item in page.get("Items", [])]
        if self.table_delay_seconds:
            time.sleep(self.table_delay_seconds)
        entries = []
        for part in range(0, max(len(items), 1), ITEMS_PER_DATA_FILE):
            chunk = items[part : part + ITEMS_PER_DATA_FILE]
            if not chunk and part:
                break
            name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{directory}{part}"))
            try:
                body = data_file(chunk)
            except UnexportableItemError as error:
                raise ActivityFailedError(f"export of {table}: {error}") from None
            self._s3.put_object(Bucket=bucket, Key=prefix + name, Body=body)
            entries.append({"url": f"s3://{bucket}/{prefix}{name}", "mandatory": True})
        if table in self.fail_tables:
            raise ActivityFailedError(f"export of {table} failed (injected fault)")
        manifest = {"name": "DynamoDB-export", "version": 3, "entries": entries}
        self._s3.put_object(Bucket=bucket, Key=prefix + MANIFEST, Body=json.dumps(manifest).encode())
        self._s3.put_object(Bucket=bucket, Key=prefix + SUCCESS_MARKER, Body=b"")

    def _import(self, directory: str, table: str, percent: str) -> None:
        if self.before_import is not None:
            self.before_import(directory, table, percent)
        self._check_percent(percent)  # the connector accepts up to 1.5
        bucket, prefix = split_s3_uri(directory if directory.endswith("/") else directory + "/")
        manifest = json.loads(self._s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read())
        try:
            self._dynamodb.describe_table(TableName=table)
        except self._dynamodb.exceptions.ResourceNotFoundException:
            raise ActivityFailedError(f"table {table} does not exist") from None
        for entry in manifest["entries"]:
            data_bucket, key = split_s3_uri(entry["url"])
            body = self._s3.get_object(Bucket=data_bucket, Key=key)["Body"].read()
            # Items are written as they are read, so a bad line fails the import after the lines
            # before it were written, as the tool's mapper does.
            for number, line in enumerate(split_lines(body), start=1):
                try:
                    item = parse_item_line(line)
                except InvalidExportLineError as error:
                    raise ActivityFailedError(f"import of {entry['url']} line {number}: {error}") from None
                self._dynamodb.put_item(TableName=table, Item=item)
