"""AWS Data Pipeline calls: create (idempotently), define, activate, describe, delete."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError

DESCRIBE_CHUNK = 25  # DescribePipelines accepts at most 25 pipeline ids per call
TERMINAL_STATES = frozenset(
    {"FINISHED", "FAILED", "CASCADE_FAILED", "CANCELED", "TIMEDOUT", "INACTIVE", "PAUSED", "SKIPPED"}
)
SUCCESS_STATES = frozenset({"FINISHED"})


def create_and_activate(
    datapipeline: Any, name: str, unique_id: str, objects: list[dict[str, Any]], tags: dict[str, str]
) -> str:
    """Create (or find again, by uniqueId), define and activate a pipeline; returns its id.

    A retried call with the same uniqueId gets the same pipeline, and defining and activating an
    already active pipeline again is harmless, so the whole call is idempotent.
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
        result = datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=objects)
        if not result.get("errored"):
            datapipeline.activate_pipeline(pipelineId=pipeline_id)
            return pipeline_id
    except ClientError as error:
        # An inactive pipeline left behind would count against the account's pipeline limit.
        delete_pipeline(datapipeline, pipeline_id)
        raise PipelineCreationError(
            f"pipeline {pipeline_id} could not be defined or activated: {error.response['Error'].get('Message', '')}"
        ) from error
    errors = "; ".join(
        f"{item.get('id')}: {', '.join(item.get('errors', []))}" for item in result.get("validationErrors", [])
    )
    delete_pipeline(datapipeline, pipeline_id)
    raise PipelineCreationError(f"pipeline definition rejected: {errors or 'no detail'}")


def pipeline_states(datapipeline: Any, pipeline_ids: Iterable[str]) -> Iterator[tuple[str, str | None]]:
    """(pipeline id, @pipelineState) for each id, in chunks of 25; None when the pipeline is gone."""
    ids = list(pipeline_ids)
    for start in range(0, len(ids), DESCRIBE_CHUNK):
        chunk = ids[start : start + DESCRIBE_CHUNK]
        try:
            described = datapipeline.describe_pipelines(pipelineIds=chunk)["pipelineDescriptionList"]
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("PipelineNotFoundException", "PipelineDeletedException"):
                raise
            # One unknown id fails the whole call: fall back to one id at a time.
            described = []
            for pipeline_id in chunk:
                described.extend(_describe_one(datapipeline, pipeline_id))
        found = {
            item["pipelineId"]: next(
                (field["stringValue"] for field in item["fields"] if field["key"] == "@pipelineState"), None
            )
            for item in described
        }
        for pipeline_id in chunk:
            yield pipeline_id, found.get(pipeline_id)


def _describe_one(datapipeline: Any, pipeline_id: str) -> list[dict[str, Any]]:
    try:
        return datapipeline.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    except ClientError:
        return []


def pipeline_ids_by_name(datapipeline: Any, prefix: str) -> dict[str, str]:
    """Pipelines whose name starts with ``prefix`` (a run's), by name; ListPipelines pages by 50."""
    found: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = datapipeline.list_pipelines(**kwargs)
        found.update({p["name"]: p["id"] for p in page.get("pipelineIdList", []) if p["name"].startswith(prefix)})
        if not page.get("hasMoreResults"):
            return found
        kwargs["marker"] = page["marker"]


def delete_pipeline(datapipeline: Any, pipeline_id: str) -> None:
    """Delete a pipeline; one already gone is fine."""
    try:
        datapipeline.delete_pipeline(pipelineId=pipeline_id)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("PipelineNotFoundException", "PipelineDeletedException"):
            raise
