"""AWS Data Pipeline calls: create (idempotently), define, activate, follow a run, delete."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError

if TYPE_CHECKING:
    from types_boto3_datapipeline import DataPipelineClient
    from types_boto3_datapipeline.type_defs import (
        PipelineDescriptionTypeDef,
        PipelineObjectOutputTypeDef,
        PipelineObjectTypeDef,
    )

DESCRIBE_CHUNK = 25  # DescribePipelines and DescribeObjects accept at most 25 ids per call
GONE = ("PipelineNotFoundException", "PipelineDeletedException")
# "A pipeline has a PENDING status if it is not activated or not able to perform work" (Developer
# Guide, "Interpreting Pipeline Status Codes").
NOT_ACTIVATED = "PENDING"
# @pipelineState values after which a pipeline does no more work. An on-demand pipeline does not
# reach them by finishing: it reads SCHEDULED "if it is ready ..., currently performing work, or
# finished performing work" (same page), so its end is read from its instances.
ENDED_PIPELINE_STATES = frozenset(
    {"FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "INACTIVE", "PAUSED", "SKIPPED"}
)
# An instance's @status after which it does no more work (Developer Guide, "Interpreting Pipeline
# Status Details"); MARK_FINISHED is a FINISHED set by a person ("Interpreting Pipeline and
# Component Health State").
INSTANCE_END_STATUSES = frozenset(
    {"FINISHED", "MARK_FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "SKIPPED"}
)
INSTANCE_SUCCESS_STATUSES = frozenset({"FINISHED", "MARK_FINISHED"})
# Statuses of an instance still to do, or doing, its work (same page). A poll first asks for the
# instances in these (QueryObjects takes several values for EQ) and stops at the first activity
# among them: two calls a pipeline while it runs, instead of describing its ~100 instances, as
# QueryObjects and DescribeObjects allow 2 calls a second, bursts of 100 ("AWS Data Pipeline
# Limits"). Only a run with no activity left in them is read whole.
WORKING_STATUSES = (
    "ACTIVATING",
    "DEACTIVATING",
    "PAUSED",
    "PENDING",
    "RUNNING",
    "SCHEDULED",
    "SHUTTING_DOWN",
    "VALIDATING",
    "WAITING_FOR_RUNNER",
    "WAITING_ON_DEPENDENCIES",
)
# Which failure names an ended run when several activities ended badly.
_FAILURE_ORDER = ("FAILED", "TIMEDOUT", "CASCADE_FAILED", "CANCELED", "SKIPPED")


@dataclass(frozen=True)
class ActivityInstance:
    """The latest instance of one activity of a pipeline: its status and, if it failed, why."""

    component: str
    status: str
    error: str | None = None


@dataclass(frozen=True)
class PipelineRun:
    """Where one activated pipeline's run stands.

    ``state`` is ``@pipelineState`` and ``health`` ``@healthStatus`` (None until a component has
    completed: "Interpreting Pipeline and Component Health State"). ``activities`` holds the latest
    instance of each activity (QueryObjects with sphere INSTANCE, then DescribeObjects); while some
    are still working, only the working ones the poll read before it knew the run goes on.

    >>> run = PipelineRun("df-1", "SCHEDULED", "ERROR",
    ...                   (ActivityInstance("Export1", "FINISHED"), ActivityInstance("Export2", "FAILED", "boom")))
    >>> run.ended, run.succeeded, run.status
    (True, False, 'FAILED')
    >>> run.describe()
    'FAILED (health ERROR; Export2 FAILED: boom)'
    >>> PipelineRun("df-1", "SCHEDULED", None, (ActivityInstance("Export1", "RUNNING"),)).ended
    False
    """

    pipeline_id: str
    state: str
    health: str | None = None
    activities: tuple[ActivityInstance, ...] = ()

    @property
    def ended(self) -> bool:
        """Nothing more will run: the pipeline stopped, or every activity's instance has ended."""
        if self.state in ENDED_PIPELINE_STATES:
            return True
        return bool(self.activities) and all(a.status in INSTANCE_END_STATUSES for a in self.activities)

    @property
    def succeeded(self) -> bool:
        """Ended with every activity finished and the pipeline's health not ERROR."""
        return (
            self.ended
            and self.health != "ERROR"
            and bool(self.activities)
            and all(a.status in INSTANCE_SUCCESS_STATUSES for a in self.activities)
        )

    @property
    def status(self) -> str:
        """One word for the run: RUNNING, FINISHED, or how it ended otherwise."""
        if not self.ended:
            return "RUNNING"
        if self.succeeded:
            return "FINISHED"
        if self.state in ENDED_PIPELINE_STATES and self.state != "FINISHED":
            return self.state
        statuses = {a.status for a in self.activities}
        return next((status for status in _FAILURE_ORDER if status in statuses), "FAILED")

    def describe(self) -> str:
        """The status with what explains it: the health and the activities that did not finish."""
        details = [f"health {self.health}"] if self.health == "ERROR" else []
        for activity in self.activities:
            if activity.status not in INSTANCE_SUCCESS_STATUSES:
                details.append(
                    f"{activity.component} {activity.status}" + (f": {activity.error}" if activity.error else "")
                )
        if self.ended and not self.activities:
            details.append(f"no activity instance (pipeline {self.state})")
        return f"{self.status} ({'; '.join(details)})" if details else self.status


def create_and_activate(
    datapipeline: DataPipelineClient, name: str, unique_id: str, objects: list[dict[str, Any]], tags: dict[str, str]
) -> str:
    """Create (or find again, by uniqueId), define and activate a pipeline; returns its id.

    Idempotent: a retried call gets the same pipeline back by its uniqueId, and a pipeline that is
    already activated is left as it is. Defining and activating it again would not be harmless:
    "If you activate an on-demand pipeline that is already running, it will cancel all running
    objects and re-run the pipeline" (API Reference, ActivatePipeline), so its exports would start
    over. Step Functions retries a Task whose Lambda failed after doing its work, so this happens.
    """
    try:
        pipeline_id: str = datapipeline.create_pipeline(
            name=name[:1024], uniqueId=unique_id, tags=[{"key": k, "value": v} for k, v in tags.items()]
        )["pipelineId"]
    except ClientError as error:
        message = error.response["Error"].get("Message", "")
        if "limit" in message.lower() or error.response["Error"]["Code"] == "LimitExceededException":
            raise PipelineLimitReachedError(f"CreatePipeline refused: {message}") from error
        raise PipelineCreationError(f"CreatePipeline failed: {message}") from error
    try:
        if _pipeline_state(datapipeline, pipeline_id) != NOT_ACTIVATED:
            return pipeline_id
        # pipelines.py builds the objects as plain dicts (id, name, fields), the API's shape.
        definition = cast("list[PipelineObjectTypeDef]", objects)
        result = datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=definition)
        if not result.get("errored"):
            datapipeline.activate_pipeline(pipelineId=pipeline_id)
            return pipeline_id
    except ClientError as error:
        # An inactive pipeline left behind would count against the account's pipeline limit, and
        # one that runs unaccounted for would go on reading its tables' capacity.
        delete_pipeline(datapipeline, pipeline_id)
        raise PipelineCreationError(
            f"pipeline {pipeline_id} could not be defined or activated: {error.response['Error'].get('Message', '')}"
        ) from error
    errors = "; ".join(
        f"{item.get('id')}: {', '.join(item.get('errors', []))}" for item in result.get("validationErrors", [])
    )
    delete_pipeline(datapipeline, pipeline_id)
    raise PipelineCreationError(f"pipeline definition rejected: {errors or 'no detail'}")


def _pipeline_state(datapipeline: DataPipelineClient, pipeline_id: str) -> str | None:
    described = datapipeline.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    return _fields(described[0]).get("@pipelineState") if described else None


def describe_pipelines(datapipeline: DataPipelineClient, pipeline_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each existing pipeline's fields (``@pipelineState``, ``@healthStatus``, ...) by id, from
    DescribePipelines, 25 ids a call; a pipeline that is gone is left out."""
    ids = list(pipeline_ids)
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), DESCRIBE_CHUNK):
        chunk = ids[start : start + DESCRIBE_CHUNK]
        try:
            described = datapipeline.describe_pipelines(pipelineIds=chunk)["pipelineDescriptionList"]
        except ClientError as error:
            if error.response["Error"]["Code"] not in GONE:
                raise
            # One unknown id fails the whole call: fall back to one id at a time.
            described = []
            for pipeline_id in chunk:
                described.extend(_describe_one(datapipeline, pipeline_id))
        found.update((item["pipelineId"], _fields(item)) for item in described)
    return found


def pipeline_runs(
    datapipeline: DataPipelineClient,
    pipeline_ids: Iterable[str],
    pace: Callable[[str], None] | None = None,
    described: Mapping[str, Mapping[str, str]] | None = None,
) -> Iterator[tuple[str, PipelineRun | None]]:
    """(pipeline id, its :class:`PipelineRun`) for each id, in order; None when the pipeline is gone.

    DescribePipelines, in chunks of 25, gives each pipeline's state and health (``described``,
    when the caller has just described them, saves those calls); each activated pipeline then
    costs one QueryObjects and a DescribeObjects per 25 of its instances. Each of those calls
    waits for ``pace(operation)`` first (a rate limiter per operation).
    """
    ids = list(pipeline_ids)
    found = described if described is not None else describe_pipelines(datapipeline, ids)
    for pipeline_id in ids:
        fields = found.get(pipeline_id)
        if fields is None:
            yield pipeline_id, None
            continue
        state = fields.get("@pipelineState", "")
        activities = () if state == NOT_ACTIVATED else _activity_instances(datapipeline, pipeline_id, pace)
        if activities is None:
            yield pipeline_id, None
            continue
        yield pipeline_id, PipelineRun(pipeline_id, state, fields.get("@healthStatus"), activities)


def _describe_one(datapipeline: DataPipelineClient, pipeline_id: str) -> list[PipelineDescriptionTypeDef]:
    try:
        return datapipeline.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    except ClientError:
        return []


def pipeline_ids_by_name(datapipeline: DataPipelineClient, prefix: str) -> dict[str, str]:
    """Pipelines whose name starts with ``prefix`` (a run's), by name; ListPipelines pages by 50."""
    found: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = datapipeline.list_pipelines(**kwargs)
        found.update({p["name"]: p["id"] for p in page.get("pipelineIdList", []) if p["name"].startswith(prefix)})
        if not page.get("hasMoreResults"):
            return found
        kwargs["marker"] = page["marker"]


def _fields(obj: Mapping[str, Any]) -> dict[str, str]:
    return {field["key"]: field.get("stringValue", field.get("refValue", "")) for field in obj.get("fields", [])}


def _activity_instances(
    datapipeline: DataPipelineClient, pipeline_id: str, pace: Callable[[str], None] | None = None
) -> tuple[ActivityInstance, ...] | None:
    """The latest instance of each activity of the pipeline (see :class:`PipelineRun`); None when
    the pipeline is gone."""
    try:
        working_ids = _instance_ids(datapipeline, pipeline_id, WORKING_STATUSES, pace)
        for objects in _described(datapipeline, pipeline_id, working_ids, pace):
            working = _latest_activities(objects)
            if working:
                return working
        everything: list[PipelineObjectOutputTypeDef] = []
        for objects in _described(datapipeline, pipeline_id, _instance_ids(datapipeline, pipeline_id, (), pace), pace):
            everything.extend(objects)
    except ClientError as error:
        if error.response["Error"]["Code"] in GONE:
            return None
        raise
    return _latest_activities(everything)


def _instance_ids(
    datapipeline: DataPipelineClient,
    pipeline_id: str,
    statuses: tuple[str, ...] = (),
    pace: Callable[[str], None] | None = None,
) -> list[str]:
    if pace is not None:
        pace("QueryObjects")
    kwargs: dict[str, Any] = {"pipelineId": pipeline_id, "sphere": "INSTANCE"}
    if statuses:
        kwargs["query"] = {
            "selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": list(statuses)}}]
        }
    return [
        object_id
        for page in datapipeline.get_paginator("query_objects").paginate(**kwargs)
        for object_id in page.get("ids", [])
    ]


def _described(
    datapipeline: DataPipelineClient, pipeline_id: str, ids: list[str], pace: Callable[[str], None] | None = None
) -> Iterator[list[PipelineObjectOutputTypeDef]]:
    """The objects, 25 ids a DescribeObjects call, one list per call."""
    for start in range(0, len(ids), DESCRIBE_CHUNK):
        if pace is not None:
            pace("DescribeObjects")
        objects: list[PipelineObjectOutputTypeDef] = []
        for page in datapipeline.get_paginator("describe_objects").paginate(
            pipelineId=pipeline_id, objectIds=ids[start : start + DESCRIBE_CHUNK]
        ):
            objects.extend(page.get("pipelineObjects", []))
        yield objects


def _latest_activities(objects: Sequence[Mapping[str, Any]]) -> tuple[ActivityInstance, ...]:
    latest: dict[str, dict[str, str]] = {}
    for obj in objects:
        fields = _fields(obj)
        if not fields.get("type", "").endswith("Activity"):
            continue
        component = fields.get("@componentParent") or obj["id"]
        if component not in latest or _newer(fields, latest[component]):
            latest[component] = fields
    return tuple(
        ActivityInstance(component, fields.get("@status", "UNKNOWN"), fields.get("errorMessage") or None)
        for component, fields in sorted(latest.items())
    )


def _newer(candidate: dict[str, str], current: dict[str, str]) -> bool:
    # A pipeline run again has an old instance (ended, CANCELED) and a new one per activity: an
    # instance still working wins, then the later scheduled start.
    def rank(fields: dict[str, str]) -> tuple[bool, str]:
        return fields.get("@status") not in INSTANCE_END_STATUSES, fields.get("@scheduledStartTime", "")

    return rank(candidate) > rank(current)


def delete_pipeline(datapipeline: DataPipelineClient, pipeline_id: str) -> None:
    """Delete a pipeline; one already gone is fine."""
    try:
        datapipeline.delete_pipeline(pipelineId=pipeline_id)
    except ClientError as error:
        if error.response["Error"]["Code"] not in GONE:
            raise
