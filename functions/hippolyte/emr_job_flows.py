"""The emr engine's clusters and steps, as EMR's API takes them: one cluster per batch, one step per table.

Pure: it builds RunJobFlow's request and AddJobFlowSteps' steps, and decides which of a batch's
tables go to its cluster together. The adapters send them (adapters/emr.py).

A batch's cluster runs the same export tool as a Data Pipeline pipeline, with the same arguments
(``DynamoDBExport <directory> <table> <read ratio>``, awslabs/emr-dynamodb-connector,
emr-dynamodb-tools/.../DynamoDBExport.java), so its files land where and as the datapipeline
engine's do. What changes is when each boost is held: Data Pipeline raises no capacity per table,
so a pipeline's boosts are raised before it starts and held while the tables before them are read.
Here a boosted table's capacity is raised, and its step added, only when the steps before it have
ended (:func:`step_groups`): the boost is held while its own table is read.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hippolyte.models import Batch, PlannedTable
from hippolyte.pipelines import EXPORT_TOOL_CLASS, IMPORT_TOOL_CLASS, percent_field

# EMR's cluster states (EMR API Reference, ClusterStatus): a cluster starts STARTING, then
# BOOTSTRAPPING, runs steps RUNNING, waits for more WAITING (KeepJobFlowAliveWhenNoSteps), and ends
# TERMINATING, then TERMINATED or TERMINATED_WITH_ERRORS.
CLUSTER_ACTIVE_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")
CLUSTER_ENDED_STATES = frozenset({"TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"})
# A step's states (EMR API Reference, StepStatus). CANCEL_PENDING still ends CANCELLED.
STEP_ENDED_STATES = frozenset({"COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"})
STEP_SUCCEEDED = "COMPLETED"
# "Continue to the next step" on failure: a failed table must not end the cluster's other tables,
# and it is the only value EMR accepts once a cluster runs steps concurrently (EMR API Reference,
# StepConfig and RunJobFlow's StepConcurrencyLevel).
ACTION_ON_FAILURE = "CONTINUE"
# EMR's auto-termination policy takes an idle timeout of 60 seconds to 7 days (EMR API Reference,
# AutoTerminationPolicy).
MIN_IDLE_TIMEOUT_SECONDS = 60
MAX_IDLE_TIMEOUT_SECONDS = 7 * 24 * 3600
# A step's name is at most 256 characters (EMR API Reference, StepConfig).
MAX_STEP_NAME = 256
# The first releases with what the engine uses: auto-termination from 5.30.0 (and 6.1.0 on the 6.x
# line), StepConcurrencyLevel from 5.28.0 (EMR Management Guide; aws-facts).
AUTO_TERMINATION_RELEASES = ((5, 30, 0), (6, 1, 0))
_RELEASE = re.compile(r"^emr-(\d+)\.(\d+)\.(\d+)$")


class EmrClusterSettings(BaseModel):
    """What every cluster of the emr engine looks like (the stack's EMR parameters)."""

    model_config = ConfigDict(frozen=True)

    release_label: str = "emr-5.36.2"
    master_instance_type: str = "m5.xlarge"
    core_instance_type: str = "m5.xlarge"
    core_instance_count: int = Field(default=1, ge=1)
    subnet_id: str = ""
    jar: str
    service_role: str
    instance_profile: str
    # The cluster ends itself after this long without a step: the safety net for a run that died
    # while its cluster waited for the next table.
    idle_timeout_seconds: int = Field(default=3600, ge=MIN_IDLE_TIMEOUT_SECONDS, le=MAX_IDLE_TIMEOUT_SECONDS)


def release_version(release_label: str) -> tuple[int, int, int] | None:
    """The release's version numbers, or None for a label that is not ``emr-X.Y.Z``.

    >>> release_version("emr-5.36.2"), release_version("emr-6.1.0"), release_version("latest")
    ((5, 36, 2), (6, 1, 0), None)
    """
    match = _RELEASE.match(release_label)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def supports_auto_termination(release_label: str) -> bool:
    """True for releases with an auto-termination policy: 5.30.0 and later 5.x, 6.1.0 and later.

    >>> [supports_auto_termination(label) for label in ("emr-5.23.0", "emr-5.36.2", "emr-6.0.0", "emr-7.2.0")]
    [False, True, False, True]
    """
    version = release_version(release_label)
    if version is None:
        return False
    if version[0] == 5:
        return version >= AUTO_TERMINATION_RELEASES[0]
    return version >= AUTO_TERMINATION_RELEASES[1]


def idle_timeout_seconds(poll_seconds: int) -> int:
    """How long a cluster may sit idle before it ends itself: two poll intervals and a quarter hour,
    at least an hour, so a live run always adds the next step first.

    >>> idle_timeout_seconds(300), idle_timeout_seconds(3600)
    (3600, 8100)
    """
    return min(max(3600, 2 * poll_seconds + 900), MAX_IDLE_TIMEOUT_SECONDS)


def step_groups(batch: Batch) -> list[list[PlannedTable]]:
    """The batch's tables in the runs that go to its cluster together, in order.

    A new run starts at each boosted table but the first table: its boost is raised, and its
    run's steps added, once every step before it has ended. The first run's steps go with the
    cluster's creation (its boost, if the first table has one, is raised just before).

    >>> t = lambda name, extra=0: PlannedTable(name=name, size_bytes=1, original_read_capacity_units=10,
    ...     read_capacity_units=10 + extra, read_throughput_percent=0.5, estimated_seconds=1)
    >>> batch = Batch(id="b0001", estimated_seconds=1, tables=[t("a", 5), t("b"), t("c", 5), t("d")])
    >>> [[table.name for table in run] for run in step_groups(batch)]
    [['a', 'b'], ['c', 'd']]
    """
    groups: list[list[PlannedTable]] = []
    for position, table in enumerate(batch.tables):
        if not groups or (table.boosted and position > 0):
            groups.append([])
        groups[-1].append(table)
    return groups


def boosts_at_start(batch: Batch) -> list[PlannedTable]:
    """The boosts raised before the batch starts: all of a pipeline's (Data Pipeline raises none
    per table), only the first run's on an emr cluster, none for native exports.

    >>> t = lambda name, extra=0: PlannedTable(name=name, size_bytes=1, original_read_capacity_units=10,
    ...     read_capacity_units=10 + extra, read_throughput_percent=0.5, estimated_seconds=1)
    >>> tables = [t("a", 5), t("b"), t("c", 5)]
    >>> [x.name for x in boosts_at_start(Batch(id="b0001", estimated_seconds=1, tables=tables))]
    ['a', 'c']
    >>> [x.name for x in boosts_at_start(Batch(id="b0001", engine="emr", estimated_seconds=1, tables=tables))]
    ['a']
    """
    if batch.engine == "emr":
        return [table for table in step_groups(batch)[0] if table.boosted]
    return [table for table in batch.tables if table.boosted]


def just_in_time_boosts(batch: Batch) -> int:
    """How many of the batch's boosts are raised after its cluster starts (each one a trip round
    the state machine's loop).

    >>> t = lambda name, extra=0: PlannedTable(name=name, size_bytes=1, original_read_capacity_units=10,
    ...     read_capacity_units=10 + extra, read_throughput_percent=0.5, estimated_seconds=1)
    >>> just_in_time_boosts(Batch(id="b0001", engine="emr", estimated_seconds=1, tables=[t("a", 5), t("b", 5)]))
    1
    """
    return len(step_groups(batch)) - 1 if batch.engine == "emr" else 0


# EMR's v2 managed service policy (AmazonEMRServicePolicy_v2) acts only on resources tagged so
# (EMR Management Guide, "Service role for Amazon EMR"); a cluster's tags go to its instances.
MANAGED_POLICY_TAG = {"for-use-with-amazon-emr-managed-policies": "true"}


def cluster_tags(stage: str, run_id: str, batch_id: str) -> dict[str, str]:
    """The tags every batch's cluster carries: the stack's IAM policies are scoped by
    ``hippolyte:stage``, a person finds a run's clusters by ``hippolyte:run``, and EMR's managed
    policy needs its own tag."""
    return {"hippolyte:stage": stage, "hippolyte:run": run_id, "hippolyte:batch": batch_id, **MANAGED_POLICY_TAG}


def job_flow_request(
    name: str,
    cluster: EmrClusterSettings,
    log_uri: str,
    tags: dict[str, str],
    steps: list[dict[str, Any]],
    keep_alive: bool = True,
) -> dict[str, Any]:
    """RunJobFlow's request for one batch's cluster (or a restore's), with its first steps.

    A batch's cluster stays up between steps (KeepJobFlowAliveWhenNoSteps) so later tables can be
    added when their turn comes; the run terminates it when its last table ends, and its idle
    timeout ends it if the run dies. A restore's cluster (``keep_alive`` false) ends with its one
    step. One step runs at a time (StepConcurrencyLevel 1): the plan reads a batch's tables one
    after another, at the rates it chose for them.
    """
    instances: dict[str, Any] = {
        "MasterInstanceType": cluster.master_instance_type,
        "SlaveInstanceType": cluster.core_instance_type,
        "InstanceCount": 1 + cluster.core_instance_count,
        "KeepJobFlowAliveWhenNoSteps": keep_alive,
        "TerminationProtected": False,
    }
    if cluster.subnet_id:
        instances["Ec2SubnetId"] = cluster.subnet_id
    request: dict[str, Any] = {
        "Name": name[:256],
        "LogUri": log_uri,
        "ReleaseLabel": cluster.release_label,
        "Applications": [{"Name": "Hadoop"}],
        "Instances": instances,
        "Steps": steps,
        "ServiceRole": cluster.service_role,
        "JobFlowRole": cluster.instance_profile,
        "VisibleToAllUsers": True,
        "StepConcurrencyLevel": 1,
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }
    if supports_auto_termination(cluster.release_label):
        request["AutoTerminationPolicy"] = {"IdleTimeout": cluster.idle_timeout_seconds}
    return request


def export_step(jar: str, directory: str, table: str, read_percent: float) -> dict[str, Any]:
    """One table's export step: DynamoDBExport writing the table to its backup directory.

    >>> step = export_step("s3://tools/emr-dynamodb-tools.jar", "s3://b/orders/2026-11-28-00-10-00/", "orders", 0.5)
    >>> step["HadoopJarStep"]["MainClass"], step["HadoopJarStep"]["Args"]
    ('org.apache.hadoop.dynamodb.tools.DynamoDBExport', ['s3://b/orders/2026-11-28-00-10-00/', 'orders', '0.500000'])
    """
    return _tool_step("export", EXPORT_TOOL_CLASS, jar, directory, table, read_percent)


def import_step(jar: str, directory: str, table: str, write_percent: float) -> dict[str, Any]:
    """A restore's step: DynamoDBImport writing a backup directory into its target table.

    >>> step = import_step("s3://tools/t.jar", "s3://b/orders/2026-11-28-00-10-00/", "orders-copy", 0.9)
    >>> step["HadoopJarStep"]["MainClass"]
    'org.apache.hadoop.dynamodb.tools.DynamoDBImport'
    >>> step["HadoopJarStep"]["Args"]
    ['s3://b/orders/2026-11-28-00-10-00/', 'orders-copy', '0.900000']
    """
    return _tool_step("import", IMPORT_TOOL_CLASS, jar, directory, table, write_percent)


def _tool_step(verb: str, main_class: str, jar: str, directory: str, table: str, percent: float) -> dict[str, Any]:
    """A custom-jar step running one of the connector's tools: ``<directory> <table> <ratio>``."""
    return {
        "Name": f"{verb} {table}"[:MAX_STEP_NAME],
        "ActionOnFailure": ACTION_ON_FAILURE,
        "HadoopJarStep": {"Jar": jar, "MainClass": main_class, "Args": [directory, table, percent_field(percent)]},
    }


def step_table(step_args: list[str]) -> str | None:
    """The table an export step reads: its second argument.

    >>> step_table(["s3://b/orders/x/", "orders", "0.5"]), step_table([])
    ('orders', None)
    """
    return step_args[1] if len(step_args) >= 2 else None
