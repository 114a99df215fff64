"""EMR's clusters and steps as EMR runs them, which moto does not model.

moto's EMR makes a cluster WAITING the moment RunJobFlow returns, starts its first step RUNNING and
leaves every later one PENDING for ever, accepts steps on a terminated cluster, and ignores
AutoTerminationPolicy. :func:`installed` makes it behave as the EMR API Reference and the EMR
Management Guide document, and :class:`~hippolyte_local.emr.LocalEmr` then plays the clusters:

* a new cluster is STARTING (``ClusterStatus``: STARTING, BOOTSTRAPPING, RUNNING, WAITING,
  TERMINATING, TERMINATED, TERMINATED_WITH_ERRORS) until the runner brings it up: WAITING, or
  TERMINATED_WITH_ERRORS with the reason BOOTSTRAP_FAILURE for a cluster told to fail;
* every step is added PENDING (``StepStatus``: PENDING, CANCEL_PENDING, RUNNING, COMPLETED,
  CANCELLED, FAILED, INTERRUPTED); the runner starts them in order, at most
  ``StepConcurrencyLevel`` at once, and the cluster is RUNNING while one runs, WAITING when none
  does (KeepJobFlowAliveWhenNoSteps) or TERMINATED (ALL_STEPS_COMPLETED) without it;
* TerminateJobFlows ends the cluster (reason USER_REQUEST) and cancels the steps that have not
  ended (API Reference, TerminateJobFlows: "any step not yet completed is canceled");
* EMR refuses what it documents refusing: AddJobFlowSteps on a cluster that has ended ("A job flow
  that is shutting down, terminated, or finished may not be modified."), more than 256 steps
  PENDING or RUNNING (API Reference, AddJobFlowSteps), a StepConcurrencyLevel above 1 before
  release 5.28.0 or outside 1-256, an ActionOnFailure other than CONTINUE when steps run
  concurrently (API Reference, StepConfig), and an AutoTerminationPolicy before 5.30.0 (6.1.0 on
  the 6.x line) or with an IdleTimeout outside 60 seconds to 7 days (API Reference,
  AutoTerminationPolicy; EMR Management Guide, "Using an auto-termination policy").

Times come from :data:`hippolyte_local.pipeline_runs.CLOCK`, the local session's clock, so that
ListClusters' CreatedAfter sees the run's own time. :func:`installed` patches moto's ``Cluster``
and ``ElasticMapReduceResponse``, which is why the ``local`` extra pins moto exactly.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from hippolyte.emr_job_flows import (
    ACTION_ON_FAILURE,
    MAX_IDLE_TIMEOUT_SECONDS,
    MIN_IDLE_TIMEOUT_SECONDS,
    release_version,
    supports_auto_termination,
)
from moto.emr.exceptions import ValidationException
from moto.emr.models import Cluster, ElasticMapReduceBackend, Step
from moto.emr.responses import ElasticMapReduceResponse

from hippolyte_local import pipeline_runs
from hippolyte_local.shared_patches import SharedPatches

# AddJobFlowSteps: "A maximum of 256 steps are allowed in each job flow" PENDING or RUNNING.
MAX_ACTIVE_STEPS = 256
# StepConcurrencyLevel: from release 5.28.0, between 1 and 256 (API Reference, RunJobFlow).
CONCURRENT_STEPS_RELEASE = (5, 28, 0)
MAX_STEP_CONCURRENCY = 256
ENDED_CLUSTER_MESSAGE = "A job flow that is shutting down, terminated, or finished may not be modified."
CLUSTER_ENDED = frozenset({"TERMINATING", "TERMINATED", "TERMINATED_WITH_ERRORS"})
STEP_ENDED = frozenset({"COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"})


@dataclass
class ClusterRun:
    """What EMR knows of a cluster beyond moto's model: why it changed state, and its idleness."""

    reason_code: str = ""
    reason: str = ""
    idle_timeout: int | None = None
    idle_since: datetime | None = None


@dataclass
class StepRun:
    """What EMR knows of a step beyond moto's model: its tool class, why it changed state, its failure."""

    main_class: str = ""
    reason: str = ""
    failure: dict[str, str] = field(default_factory=dict)


class _Installation(SharedPatches):
    """The patches and the clusters' and steps' runs, shared by every :func:`installed` context."""

    def __init__(self) -> None:
        super().__init__()
        self.clusters: weakref.WeakKeyDictionary[Cluster, ClusterRun] = weakref.WeakKeyDictionary()
        self.steps: weakref.WeakKeyDictionary[Step, StepRun] = weakref.WeakKeyDictionary()


_STATE = _Installation()


def now() -> datetime:
    """The session's clock as moto's EMR keeps time: naive UTC (moto.core.utils.utcnow), so that
    ListClusters' CreatedAfter and the timelines compare with what moto parses from requests."""
    return pipeline_runs.CLOCK().astimezone(UTC).replace(tzinfo=None)


def cluster_run(cluster: Cluster) -> ClusterRun:
    """The cluster's run (made on first use)."""
    with _STATE.lock:
        return _STATE.clusters.setdefault(cluster, ClusterRun())


def step_run(step: Step) -> StepRun:
    """The step's run (made on first use)."""
    with _STATE.lock:
        return _STATE.steps.setdefault(step, StepRun())


def active_steps(cluster: Cluster) -> list[Step]:
    """The cluster's steps that are PENDING or RUNNING."""
    return [step for step in cluster.steps if step.state in ("PENDING", "RUNNING")]


def moto_time(at: datetime) -> datetime:
    """A moment as moto's EMR keeps it (naive UTC)."""
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at


def set_cluster_state(
    cluster: Cluster, state: str, code: str = "", message: str = "", at: datetime | None = None
) -> None:
    """Move a cluster to ``state`` (at the session's now, or ``at``), with the reason
    DescribeCluster gives (StateChangeReason)."""
    cluster.state = state
    run = cluster_run(cluster)
    run.reason_code, run.reason = code, message
    moment = moto_time(at) if at is not None else now()
    if state == "WAITING":
        run.idle_since = moment
        if cluster.ready_datetime is None:
            cluster.ready_datetime = moment
    if state in CLUSTER_ENDED:
        cluster.end_datetime = moment
        for step in cluster.steps:
            if step.state not in STEP_ENDED:
                set_step_state(step, "CANCELLED", "Cluster terminated.", at)


def end_if_idle(cluster: Cluster, moment: datetime) -> None:
    """Terminate a cluster that, by ``moment``, has waited with no step for longer than its
    AutoTerminationPolicy's IdleTimeout, as of the moment the timeout passed. EMR does not say
    which StateChangeReason code such a termination reports (API Reference, ClusterStateChangeReason
    lists the codes); ALL_STEPS_COMPLETED is this emulation's choice."""
    run = cluster_run(cluster)
    if cluster.state != "WAITING" or active_steps(cluster) or run.idle_timeout is None or run.idle_since is None:
        return
    ends = run.idle_since + timedelta(seconds=run.idle_timeout)
    if moto_time(moment) >= ends:
        message = f"Terminated by its auto-termination policy after {run.idle_timeout} s idle"
        set_cluster_state(cluster, "TERMINATED", "ALL_STEPS_COMPLETED", message, at=ends)


def set_step_state(step: Step, state: str, message: str = "", at: datetime | None = None) -> None:
    """Move a step to ``state`` (at the session's now, or ``at``), with its timeline and, for a
    failure, its FailureDetails."""
    moment = moto_time(at) if at is not None else now()
    step.state = state
    run = step_run(step)
    run.reason = message
    if state == "RUNNING":
        step.start_date_time = moment
    if state in STEP_ENDED:
        step.end_date_time = moment  # type: ignore[assignment]  # moto declares it None only
    if state == "FAILED":
        run.failure = {"Reason": "Step failed.", "Message": message}


def _new_cluster(original: Any) -> Any:
    def init(self: Cluster, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        moment = now()
        self.creation_datetime = self.start_datetime = moment
        self.ready_datetime = None
        for step in self.steps:
            step.creation_date_time, step.start_date_time = moment, None

    return init


def _whole_clusters(original: Any) -> Any:
    """moto registers a cluster in its backend before the cluster has a state, so ListClusters on
    another thread (CreatePipelines starts several batches at once) could meet one half made; EMR
    lists only whole clusters. Listing waits for a RunJobFlow in progress (see run_job_flow)."""

    def list_clusters(self: ElasticMapReduceBackend, *args: Any, **kwargs: Any) -> Any:
        with _STATE.lock:
            return original(self, *args, **kwargs)

    return list_clusters


def _stay_starting(self: Cluster) -> None:
    """RunJobFlow returns while the cluster is still STARTING: the runner brings it up later."""


def _add_steps(self: Cluster, steps: list[dict[str, Any]]) -> list[Step]:
    if getattr(self, "state", None) in CLUSTER_ENDED:
        raise ValidationException(ENDED_CLUSTER_MESSAGE)
    if len(active_steps(self)) + len(steps) > MAX_ACTIVE_STEPS:
        raise ValidationException(f"Maximum number of active steps(State = 'Running', 'Pending') is {MAX_ACTIVE_STEPS}")
    # RunJobFlow's own steps are added before moto sets the level: the request is checked instead.
    _check_actions_on_failure(getattr(self, "step_concurrency_level", 1), steps)
    added = [Step(state="PENDING", **step) for step in steps]
    moment = now()
    for step in added:
        step.creation_date_time = moment
        step_run(step).main_class = step.hadoop_jar_step.get("MainClass", "")
    self.steps.extend(added)
    return added


def _check_release_and_instances(backend: ElasticMapReduceBackend, release: str, instance_types: list[Any]) -> None:
    """RunJobFlow refuses a release the region does not offer, and an instance type the release
    does not support. moto ships both lists as AWS answers them (ListReleaseLabels and
    ListSupportedInstanceTypes, moto/emr/resources)."""
    if not release:
        return
    if release not in backend._release_labels:
        raise ValidationException(f"The release label {release} is not available in {backend.region_name}")
    supported = set(backend._get_instance_type_names(release))
    for instance_type in instance_types:
        if instance_type and instance_type not in supported:
            raise ValidationException(f"Instance type {instance_type} is not supported by release {release}")


def _check_actions_on_failure(level: int, steps: list[dict[str, Any]]) -> None:
    if level > 1:
        for step in steps:
            if step.get("action_on_failure", "TERMINATE_CLUSTER") != ACTION_ON_FAILURE:
                raise ValidationException(
                    "Steps of a cluster whose StepConcurrencyLevel is above 1 must have "
                    f"ActionOnFailure {ACTION_ON_FAILURE}"
                )


def _cluster_status(self: Cluster) -> dict[str, Any]:
    run = cluster_run(self)
    reason = {key: value for key, value in (("Code", run.reason_code), ("Message", run.reason)) if value}
    timeline = {
        key: value
        for key, value in (
            ("CreationDateTime", self.creation_datetime),
            ("ReadyDateTime", self.ready_datetime),
            ("EndDateTime", self.end_datetime),
        )
        if value is not None
    }
    return {"State": self.state, "StateChangeReason": reason, "Timeline": timeline}


def _step_status(self: Step) -> dict[str, Any]:
    run = step_run(self)
    status: dict[str, Any] = {
        "State": self.state,
        "StateChangeReason": {"Message": run.reason} if run.reason else {},
        "Timeline": {
            key: value
            for key, value in (
                ("CreationDateTime", self.creation_date_time),
                ("StartDateTime", self.start_date_time),
                ("EndDateTime", self.end_date_time),
            )
            if value is not None
        },
    }
    if run.failure:
        status["FailureDetails"] = run.failure
    return status


def _terminate(self: Cluster) -> None:
    if self.state not in CLUSTER_ENDED:
        set_cluster_state(self, "TERMINATED", "USER_REQUEST", "Terminated by user request")


def _checked_run_job_flow(original: Any) -> Any:
    def run_job_flow(self: ElasticMapReduceResponse) -> Any:
        release = self._get_param("ReleaseLabel") or ""
        version = release_version(release)
        level = int(self._get_param("StepConcurrencyLevel") or 1)
        if not 1 <= level <= MAX_STEP_CONCURRENCY:
            raise ValidationException(f"StepConcurrencyLevel must be between 1 and {MAX_STEP_CONCURRENCY}")
        if level > 1 and (version is None or version < CONCURRENT_STEPS_RELEASE):
            raise ValidationException(f"StepConcurrencyLevel is not supported by release {release or 'unspecified'}")
        _check_actions_on_failure(level, self._get_param("Steps", []))
        _check_release_and_instances(
            self.backend,
            release,
            [self._get_param("Instances.MasterInstanceType"), self._get_param("Instances.SlaveInstanceType")],
        )
        idle = self._get_param("AutoTerminationPolicy.IdleTimeout")
        if idle is not None:
            if not supports_auto_termination(release):
                raise ValidationException(f"Auto-termination is not available for release {release or 'unspecified'}")
            if not MIN_IDLE_TIMEOUT_SECONDS <= int(idle) <= MAX_IDLE_TIMEOUT_SECONDS:
                raise ValidationException(
                    f"IdleTimeout must be between {MIN_IDLE_TIMEOUT_SECONDS} and {MAX_IDLE_TIMEOUT_SECONDS} seconds"
                )
        with _STATE.lock:
            before = set(self.backend.clusters)
            result = original(self)
            for cluster_id in set(self.backend.clusters) - before:
                cluster_run(self.backend.clusters[cluster_id]).idle_timeout = int(idle) if idle is not None else None
        return result

    return run_job_flow


@contextmanager
def installed() -> Iterator[None]:
    """Make moto's EMR run clusters and steps as EMR documents (see the module docstring); re-entrant."""
    with _STATE.applied(_patch):
        yield


def _patch(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(Cluster, "__init__", _new_cluster(Cluster.__init__)))
    stack.enter_context(
        mock.patch.object(
            ElasticMapReduceBackend, "list_clusters", _whole_clusters(ElasticMapReduceBackend.list_clusters)
        )
    )
    stack.enter_context(mock.patch.object(Cluster, "run_bootstrap_actions", _stay_starting))
    stack.enter_context(mock.patch.object(Cluster, "add_steps", _add_steps))
    stack.enter_context(mock.patch.object(Cluster, "status", property(_cluster_status)))
    stack.enter_context(mock.patch.object(Cluster, "terminate", _terminate))
    stack.enter_context(mock.patch.object(Step, "status", property(_step_status)))
    stack.enter_context(
        mock.patch.object(
            ElasticMapReduceResponse, "run_job_flow", _checked_run_job_flow(ElasticMapReduceResponse.run_job_flow)
        )
    )


def clusters(backend: ElasticMapReduceBackend) -> list[Cluster]:
    """The backend's clusters, oldest first (only whole ones: see :func:`_whole_clusters`)."""
    # Under the lock RunJobFlow holds while moto builds a cluster: a half-made one has no times yet.
    with _STATE.lock:
        return sorted(backend.clusters.values(), key=lambda cluster: (cluster.creation_datetime, cluster.id))
