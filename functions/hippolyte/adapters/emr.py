"""Amazon EMR calls of the emr engine: start a batch's cluster (once), add steps (once each),
read a cluster's state and its steps, and terminate clusters.

RunJobFlow and AddJobFlowSteps take no idempotency token (EMR API Reference), and Step Functions
runs a Task again when its Lambda fails after doing its work. So each call first looks for what an
earlier attempt made: a cluster by its name among the active ones created since the run began,
and a step by its table among the cluster's steps. Nothing is started twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from hippolyte.emr_job_flows import CLUSTER_ACTIVE_STATES, STEP_ENDED_STATES, step_table
from hippolyte.errors import ClusterCreationError, StepRefusedError

if TYPE_CHECKING:
    from types_boto3_emr import EMRClient
    from types_boto3_emr.literals import ClusterStateType
    from types_boto3_emr.type_defs import RunJobFlowInputTypeDef, StepConfigTypeDef

# TerminateJobFlows takes a list of ids (the EMR API Reference sets no count); ten per call keeps
# one id EMR refuses from holding up many others.
TERMINATE_CHUNK = 10
# EMR's answer for a cluster id it does not know (EMR API Reference, DescribeCluster).
UNKNOWN_CLUSTER_CODES = ("InvalidRequestException", "ValidationException")


@dataclass(frozen=True)
class ClusterStatus:
    """A cluster's state, and why it changed last (EMR's StateChangeReason)."""

    state: str
    reason_code: str = ""
    reason: str = ""

    def describe(self) -> str:
        """The state with its reason, for a report: ``TERMINATED_WITH_ERRORS (BOOTSTRAP_FAILURE: ...)``."""
        detail = ": ".join(part for part in (self.reason_code, self.reason) if part)
        return f"{self.state} ({detail})" if detail else self.state


@dataclass(frozen=True)
class StepStatus:
    """One export step: its table, state, and the failure EMR gave."""

    step_id: str
    table: str
    state: str
    reason: str = ""

    @property
    def ended(self) -> bool:
        """True once the step does no more work."""
        return self.state in STEP_ENDED_STATES


def find_clusters(emr: EMRClient, name_prefix: str, created_after: datetime | None) -> dict[str, str]:
    """Active clusters (created since ``created_after``, when given) whose name starts with
    ``name_prefix``: name -> id."""
    found: dict[str, str] = {}
    paginator = emr.get_paginator("list_clusters")
    states = cast("list[ClusterStateType]", list(CLUSTER_ACTIVE_STATES))
    pages = (
        paginator.paginate(ClusterStates=states)
        if created_after is None
        else paginator.paginate(CreatedAfter=created_after, ClusterStates=states)
    )
    for page in pages:
        for cluster in page.get("Clusters", []):
            name = cluster.get("Name", "")
            if name.startswith(name_prefix) and "Id" in cluster:
                found.setdefault(name, cluster["Id"])
    return found


def start_cluster(emr: EMRClient, request: Mapping[str, Any], created_after: datetime | None) -> str:
    """Start a cluster with its first steps, unless one of the same name is already up; returns its id.

    EMR refusing the request (a role it cannot assume, an instance type it lacks, a release that
    does not exist) raises :class:`ClusterCreationError` with EMR's message.
    """
    name = str(request["Name"])
    earlier = find_clusters(emr, name, created_after).get(name)
    if earlier is not None:
        return earlier
    try:
        return emr.run_job_flow(**cast("RunJobFlowInputTypeDef", dict(request)))["JobFlowId"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ValidationException", "InvalidRequestException"):
            raise ClusterCreationError(f"RunJobFlow refused: {error.response['Error'].get('Message', '')}") from error
        raise


def cluster_status(emr: EMRClient, cluster_id: str) -> ClusterStatus | None:
    """The cluster's state now, or None when EMR does not know the id."""
    try:
        status = emr.describe_cluster(ClusterId=cluster_id)["Cluster"]["Status"]
    except ClientError as error:
        if error.response["Error"]["Code"] in UNKNOWN_CLUSTER_CODES:
            return None
        raise
    reason = status.get("StateChangeReason", {})
    return ClusterStatus(state=status["State"], reason_code=reason.get("Code", ""), reason=reason.get("Message", ""))


def cluster_steps(emr: EMRClient, cluster_id: str) -> dict[str, StepStatus]:
    """The cluster's export steps by table; for a table with several, the newest (ListSteps lists
    newest first)."""
    steps: dict[str, StepStatus] = {}
    for page in emr.get_paginator("list_steps").paginate(ClusterId=cluster_id):
        for step in page.get("Steps", []):
            table = step_table(list(step.get("Config", {}).get("Args", [])))
            if table is None or table in steps:
                continue
            status = step.get("Status", {})
            failure = status.get("FailureDetails", {})
            reason = "; ".join(
                part
                for part in (
                    status.get("StateChangeReason", {}).get("Message", ""),
                    failure.get("Reason", ""),
                    failure.get("Message", ""),
                )
                if part
            )
            steps[table] = StepStatus(step.get("Id", ""), table, status.get("State", ""), reason)
    return steps


def add_steps(emr: EMRClient, cluster_id: str, steps: Sequence[Mapping[str, Any]]) -> None:
    """Add export steps the cluster does not have yet (a retried call adds none twice).

    EMR refusing them (the cluster has ended, too many steps are pending) raises
    :class:`StepRefusedError`.
    """
    have = {table for table, step in cluster_steps(emr, cluster_id).items() if step.state != "CANCELLED"}
    missing = [step for step in steps if step_table(list(step["HadoopJarStep"]["Args"])) not in have]
    if not missing:
        return
    try:
        emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=cast("Sequence[StepConfigTypeDef]", list(missing)))
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ValidationException", "InvalidRequestException"):
            raise StepRefusedError(
                f"cluster {cluster_id} refused steps: {error.response['Error'].get('Message', '')}"
            ) from error
        raise


def terminate_clusters(emr: EMRClient, cluster_ids: Iterable[str]) -> None:
    """Terminate clusters; one EMR no longer knows is taken as ended."""
    ids = sorted(set(cluster_ids))
    for start in range(0, len(ids), TERMINATE_CHUNK):
        chunk = ids[start : start + TERMINATE_CHUNK]
        try:
            emr.terminate_job_flows(JobFlowIds=chunk)
        except ClientError as error:
            if error.response["Error"]["Code"] not in UNKNOWN_CLUSTER_CODES:
                raise
            for cluster_id in chunk:
                try:
                    emr.terminate_job_flows(JobFlowIds=[cluster_id])
                except ClientError as single:
                    if single.response["Error"]["Code"] not in UNKNOWN_CLUSTER_CODES:
                        raise
