"""Data Pipeline's side of a run, which moto does not model: the instances an activation creates,
their statuses, the pipeline's health, and what a second ActivatePipeline does.

moto stores definitions and sets ``@pipelineState`` to SCHEDULED on activation, nothing more: it
has no QueryObjects, and its DescribeObjects knows only the definition's components. What AWS
documents, and what :func:`installed` makes moto answer:

* "A pipeline has a SCHEDULED status if it is ready (the pipeline definition passed validation),
  currently performing work, or finished performing work" (Developer Guide, "Interpreting Pipeline
  Status Codes"): ``@pipelineState`` stays SCHEDULED after the run; nothing here changes it.
* When it runs a pipeline, Data Pipeline "compiles the pipeline components to create a set of
  actionable instances" (Developer Guide, "Pipeline Components, Instances, and Attempts"). Each
  activation here creates one instance per activity, data node and resource, with AWS's fields
  (``@componentParent``, ``@sphere`` INSTANCE, ``type``, ``@status``, ``@scheduledStartTime``,
  ``@actualStartTime``, ``@actualEndTime``, ``errorMessage``) and an id ``@<component>_<time>``
  (the AWS CLI's own list-runs fixtures show these). Activities start WAITING_FOR_RUNNER (their
  inputs have no preconditions), data nodes and resources WAITING_ON_DEPENDENCIES ("Scheduling
  Pipelines": resources wait until an activity is scheduled). QueryObjects (sphere INSTANCE or
  COMPONENT) lists ids and DescribeObjects describes components and instances alike.
* A component's health is HEALTHY when its last instance to end FINISHED (or MARK_FINISHED), ERROR
  when it ended FAILED, TIMEDOUT or CANCELED; the pipeline's ``@healthStatus`` (in
  DescribePipelines) is ERROR when any component's is, HEALTHY otherwise once a component has one,
  and absent before ("Interpreting Pipeline and Component Health State").
* "If you activate an on-demand pipeline that is already running, it will cancel all running
  objects and re-run the pipeline" (API Reference, ActivatePipeline): a second activation sets
  every unfinished instance CANCELED and creates a new set of instances, which the EMR emulation
  then runs again.

The EMR emulation (:mod:`hippolyte_local.emr`) moves instances along with :func:`set_status`.
:func:`installed` patches moto's internals (``DataPipelineBackend.activate_pipeline``,
``DataPipelineResponse.describe_objects``, a ``query_objects`` handler, ``Pipeline.to_json``), which
is why the ``local`` extra pins moto exactly. It is re-entrant: the EMR emulation and the tests'
StrictAws both install it, and the patches stay until the last one leaves. Run state is kept per
moto ``Pipeline`` object, so a deleted pipeline, or a new ``mock_aws()``, starts clean.

Not modelled: attempts (sphere ATTEMPT lists nothing), retries of a failed activity, the up to five
minutes a pipeline's health may lag behind its components', components' own runtime fields
(``@healthStatus`` on a component), instances of preconditions and actions, QueryObjects
selectors other than EQ and REF_EQ, DeactivatePipeline, and scheduled (cron or time-series)
pipelines: every activation runs once, as an on-demand one.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from moto.core.exceptions import JsonRESTError
from moto.datapipeline.models import DataPipelineBackend, Pipeline
from moto.datapipeline.responses import DataPipelineResponse

from hippolyte_local.shared_patches import SharedPatches

WAITING_FOR_RUNNER = "WAITING_FOR_RUNNER"
WAITING_ON_DEPENDENCIES = "WAITING_ON_DEPENDENCIES"
CANCELED = "CANCELED"
# Developer Guide, "Interpreting Pipeline Status Details": statuses after which an instance does
# no more work. MARK_FINISHED is a FINISHED set by a person ("Interpreting Pipeline and Component
# Health State").
END_STATUSES = frozenset({"FINISHED", "MARK_FINISHED", "FAILED", "CASCADE_FAILED", CANCELED, "TIMEDOUT", "SKIPPED"})
# "Interpreting Pipeline and Component Health State": what makes a component HEALTHY or ERROR.
HEALTHY_STATUSES = frozenset({"FINISHED", "MARK_FINISHED"})
ERROR_STATUSES = frozenset({"FAILED", "TIMEDOUT", CANCELED})
RESOURCE_TYPES = frozenset({"EmrCluster", "Ec2Resource"})
# An instance's fields that refer to another object (DescribeObjects gives them as refValue).
REFERENCE_FIELDS = frozenset({"@componentParent", "parent"})
SPHERES = frozenset({"COMPONENT", "INSTANCE", "ATTEMPT"})
# QueryObjects API reference: "The default value is 100."
DEFAULT_QUERY_LIMIT = 100
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
# What instances' times are read from: the local session sets its own clock, so that a simulated
# night's pipelines start and end on the night's time.
CLOCK: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


@dataclass
class Instance:
    """One instance of a pipeline component, as DescribeObjects shows it."""

    id: str
    component: str
    type: str
    status: str
    scheduled_start: str
    actual_start: str | None = None
    actual_end: str | None = None
    error_message: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the instance does no more work."""
        return self.status in END_STATUSES

    @property
    def is_activity(self) -> bool:
        """Activities are the components that do a pipeline's work (EmrActivity here)."""
        return self.type.endswith("Activity")

    def field_values(self) -> dict[str, str]:
        """The instance's fields, by key, in the order DescribeObjects lists them (unset ones left out)."""
        return {key: value for key, read in _INSTANCE_FIELDS if (value := read(self))}

    def field(self, key: str) -> str | None:
        """One field's value (``name`` is the instance's id, as QueryObjects' selectors see it)."""
        if key == "name":
            return self.id
        read = _INSTANCE_FIELD.get(key)
        return read(self) if read is not None else None

    def to_json(self) -> dict[str, Any]:
        """The instance as a DescribeObjects pipeline object."""
        fields = [
            {"key": key, "refValue" if key in REFERENCE_FIELDS else "stringValue": value}
            for key, value in self.field_values().items()
        ]
        return {"id": self.id, "name": self.id, "fields": fields}


# An instance's fields as DescribeObjects lists them, in its order: the key, and where its value is.
_INSTANCE_FIELDS: tuple[tuple[str, Callable[[Instance], str | None]], ...] = (
    ("@componentParent", lambda instance: instance.component),
    ("parent", lambda instance: instance.component),
    ("@sphere", lambda _instance: "INSTANCE"),
    ("type", lambda instance: instance.type),
    ("@version", lambda _instance: "1"),
    ("@status", lambda instance: instance.status),
    ("@scheduledStartTime", lambda instance: instance.scheduled_start),
    ("@actualStartTime", lambda instance: instance.actual_start),
    ("@actualEndTime", lambda instance: instance.actual_end),
    ("errorMessage", lambda instance: instance.error_message),
)
_INSTANCE_FIELD = dict(_INSTANCE_FIELDS)


@dataclass
class _Run:
    """Every instance of one pipeline, over all its activations, in creation order."""

    instances: list[Instance]
    current: list[Instance]
    scheduled: datetime
    # The same instances by id: a night's pipelines hold hundreds, read and moved one id at a time.
    by_id: dict[str, Instance] = field(default_factory=dict)

    def add(self, created: list[Instance], scheduled: datetime) -> None:
        """Take on one activation's instances, scheduled at ``scheduled``, as the current ones."""
        self.instances.extend(created)
        self.by_id.update((instance.id, instance) for instance in created)
        self.current, self.scheduled = created, scheduled

    def component_health(self) -> dict[str, str]:
        health: dict[str, str] = {}
        ended = sorted((i for i in self.instances if i.actual_end), key=lambda i: i.actual_end or "")
        for instance in ended:
            if instance.status in HEALTHY_STATUSES:
                health[instance.component] = "HEALTHY"
            elif instance.status in ERROR_STATUSES:
                health[instance.component] = "ERROR"
        return health


class _Installation(SharedPatches):
    """The patches and the run state, shared by every :func:`installed` context."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: weakref.WeakKeyDictionary[Pipeline, _Run] = weakref.WeakKeyDictionary()


_STATE = _Installation()


@contextmanager
def installed() -> Iterator[None]:
    """Make moto answer Data Pipeline's run-time calls as AWS documents (see the module docstring)."""
    with _STATE.applied(_patch):
        yield


def _patch(stack: ExitStack) -> None:
    stack.enter_context(mock.patch.object(DataPipelineBackend, "activate_pipeline", _activate_pipeline))
    stack.enter_context(mock.patch.object(DataPipelineResponse, "describe_objects", _describe_objects))
    # moto has no QueryObjects: its dispatcher finds handlers by name on the response class.
    stack.enter_context(mock.patch.object(DataPipelineResponse, "query_objects", _query_objects, create=True))
    stack.enter_context(mock.patch.object(Pipeline, "to_json", _pipeline_to_json(Pipeline.to_json)))


def current_instances(pipeline: Pipeline) -> list[Instance]:
    """Copies of the instances of the pipeline's latest activation ([] before the first)."""
    with _STATE.lock:
        run = _STATE.runs.get(pipeline)
        return [replace(instance) for instance in run.current] if run else []


def current_activation(pipeline: Pipeline) -> str | None:
    """The scheduled start of the pipeline's latest activation (None before the first): a cheap
    way to tell whether it was activated again since it was last read."""
    with _STATE.lock:
        run = _STATE.runs.get(pipeline)
        return run.current[0].scheduled_start if run and run.current else None


def set_status(
    pipeline: Pipeline, instance_id: str, status: str, error_message: str | None = None, at: datetime | None = None
) -> bool:
    """Move an instance to ``status``, as its runner reports it; False when the instance has ended
    already (a re-activation cancelled it, say) or is unknown, and then nothing changes.

    ``at`` is when it happened (by default now): a runner that catches up on simulated time
    reports each change at the moment it happened, not when it was noticed.
    """
    with _STATE.lock:
        run = _STATE.runs.get(pipeline)
        instance = run.by_id.get(instance_id) if run else None
        if instance is None or instance.ended:
            return False
        now = at.astimezone(UTC).strftime(TIME_FORMAT) if at is not None else _now()
        instance.status = status
        if status == "RUNNING" and instance.actual_start is None:
            instance.actual_start = now
        if instance.ended:
            instance.actual_start = instance.actual_start or now
            instance.actual_end = now
            instance.error_message = error_message
        return True


def pipeline_health(pipeline: Pipeline) -> str | None:
    """The pipeline's ``@healthStatus``: ERROR, HEALTHY, or None before any component has one."""
    with _STATE.lock:
        run = _STATE.runs.get(pipeline)
        health = set(run.component_health().values()) if run else set()
    if "ERROR" in health:
        return "ERROR"
    return "HEALTHY" if health else None


def _now() -> str:
    return CLOCK().strftime(TIME_FORMAT)


def _fields(objects: list[Any]) -> dict[str, dict[str, Any]]:
    by_id: dict[str, dict[str, Any]] = {}
    for obj in objects:
        by_id[obj.object_id] = {
            entry["key"]: entry.get("stringValue", entry.get("refValue")) for entry in obj.fields or []
        }
    return by_id


def _instance_status(component_type: str) -> str | None:
    if component_type.endswith("Activity"):
        return WAITING_FOR_RUNNER
    if component_type.endswith("DataNode") or component_type in RESOURCE_TYPES:
        return WAITING_ON_DEPENDENCIES
    return None


def _activate_pipeline(self: DataPipelineBackend, pipeline_id: str) -> None:
    pipeline = self.get_pipeline(pipeline_id)
    with _STATE.lock:
        pipeline.activate()
        run = _STATE.runs.get(pipeline)
        now = CLOCK().astimezone(UTC).replace(microsecond=0)
        if run is not None:
            # An on-demand pipeline activated again: its unfinished objects are cancelled and the
            # pipeline runs again (API Reference, ActivatePipeline).
            for instance in run.current:
                if not instance.ended:
                    instance.status, instance.actual_end = CANCELED, now.strftime(TIME_FORMAT)
            # Instance ids carry the scheduled start to the second: a re-run within the same
            # second still gets ids of its own.
            now = max(now, run.scheduled + timedelta(seconds=1))
        scheduled = now.strftime(TIME_FORMAT)
        created = []
        for component, fields in _fields(pipeline.objects).items():
            status = _instance_status(str(fields.get("type", "")))
            if status is not None:
                created.append(
                    Instance(
                        id=f"@{component}_{scheduled}",
                        component=component,
                        type=str(fields["type"]),
                        status=status,
                        scheduled_start=scheduled,
                    )
                )
        if run is None:
            run = _STATE.runs[pipeline] = _Run(instances=[], current=[], scheduled=now)
        run.add(created, now)


def _query_objects(self: DataPipelineResponse) -> str:
    pipeline = self.datapipeline_backend.get_pipeline(self._get_param("pipelineId"))
    sphere = self._get_param("sphere")
    if sphere not in SPHERES:
        raise JsonRESTError("InvalidRequestException", f"sphere must be one of {sorted(SPHERES)}, got {sphere!r}")
    selectors = (self._get_param("query") or {}).get("selectors") or []
    if sphere == "COMPONENT":
        components = [(obj.object_id, _object_values(obj.to_json())) for obj in pipeline.objects]
        matching = [
            object_id
            for object_id, values in components
            if all(_matches(values.get(_selected_field(s), set()), s) for s in selectors)
        ]
    elif sphere == "INSTANCE":
        with _STATE.lock:
            run = _STATE.runs.get(pipeline)
            matching = [
                instance.id
                for instance in (run.instances if run else [])
                if all(_matches({instance.field(_selected_field(s))} - {None}, s) for s in selectors)
            ]
    else:
        matching = []
    marker = self._get_param("marker")
    start = int(marker) if marker else 0
    limit = int(self._get_param("limit") or DEFAULT_QUERY_LIMIT)
    page = matching[start : start + limit]
    more = start + limit < len(matching)
    return json.dumps({"ids": page, "hasMoreResults": more, "marker": str(start + limit) if more else None})


def _object_values(obj: dict[str, Any]) -> dict[str, set[str]]:
    """A pipeline object's values by field key (a component may list a key more than once); its
    ``name`` counts as a field, as QueryObjects' selectors see it."""
    values: dict[str, set[str]] = {"name": {obj["name"]}}
    for entry in obj["fields"]:
        values.setdefault(entry["key"], set()).add(entry.get("stringValue", entry.get("refValue")))
    return values


def _selected_field(selector: dict[str, Any]) -> str:
    return str(selector.get("fieldName"))


def _matches(values: AbstractSet[str | None], selector: dict[str, Any]) -> bool:
    """Whether a field with these values meets the selector's operator (EQ or REF_EQ)."""
    operator = selector.get("operator") or {}
    kind = operator.get("type")
    if kind not in ("EQ", "REF_EQ"):
        raise NotImplementedError(f"QueryObjects operator {kind} is not modelled by the local run")
    return bool(values & set(operator.get("values") or []))


def _describe_objects(self: DataPipelineResponse) -> str:
    pipeline = self.datapipeline_backend.get_pipeline(self._get_param("pipelineId"))
    # Only the objects asked for are written out (at most 25 of a pipeline's hundreds); an
    # instance's id shadows a component's, as an instance would.
    components = {obj.object_id: obj for obj in pipeline.objects}
    found = []
    with _STATE.lock:
        run = _STATE.runs.get(pipeline)
        instances = run.by_id if run else {}
        for object_id in self._get_param("objectIds") or []:
            if object_id in instances or object_id in components:
                found.append((instances.get(object_id) or components[object_id]).to_json())
    return json.dumps({"hasMoreResults": False, "marker": None, "pipelineObjects": found})


def _pipeline_to_json(original: Any) -> Any:
    def to_json(self: Pipeline) -> dict[str, Any]:
        description: dict[str, Any] = original(self)
        health = pipeline_health(self)
        if health is not None:
            description["fields"].append({"key": "@healthStatus", "stringValue": health})
        return description

    return to_json
