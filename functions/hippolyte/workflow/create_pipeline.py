"""CreatePipeline (one CreatePipelines iteration): create and activate one batch's pipeline, start its
EMR cluster (the emr engine), or start its exports.

Each attempt stores its own result (workflow/batch_starts.py) before it returns, and a retried
attempt returns that stored result without calling Data Pipeline, EMR or DynamoDB again.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import create_and_activate
from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError
from hippolyte.models import CreateBatchRequest, StartedBatch
from hippolyte.pipelines import build_pipeline_objects, pipeline_unique_id
from hippolyte.runtime import Runtime
from hippolyte.workflow.batch_starts import pipeline_name, store_start, stored_start
from hippolyte.workflow.emr_clusters import start_batch_cluster
from hippolyte.workflow.native_export import start_exports
from hippolyte.workflow.pipeline_cluster import cluster_settings
from hippolyte.workflow.run_documents import load_batch
from hippolyte.workflow.table_read_percents import read_percents


def start_batch(rt: Runtime, request: CreateBatchRequest) -> StartedBatch:
    """Start one batch once per attempt, and store the result; a refusal is returned, not raised."""
    s3 = rt.client("s3")
    earlier = stored_start(s3, request.run, request.batch_id, request.attempt)
    if earlier is not None:
        return earlier
    started = _start(rt, request)
    store_start(s3, request.run, request.attempt, started)
    return started


def _start(rt: Runtime, request: CreateBatchRequest) -> StartedBatch:
    """Create one pipeline or cluster (idempotent per run and batch), or start the batch's native exports."""
    batch = load_batch(rt, request.run, request.batch_id)
    if batch.engine == "export":
        return start_exports(rt, request, batch)
    if batch.engine == "emr":
        return start_batch_cluster(rt, request, batch)
    ledger = rt.ledger() if any(t.boosted for t in batch.tables) else None
    objects = build_pipeline_objects(
        batch,
        request.run.bucket,
        request.run.started_at,
        cluster_settings(rt),
        read_percents(rt, ledger, request.run, batch.tables),
        log_uri=f"s3://{request.run.bucket}/{request.run.prefix}logs/",
    )
    name = pipeline_name(rt.settings.stage, request.run.run_id, batch.id)
    try:
        pipeline_id = create_and_activate(
            rt.client("datapipeline"),
            name,
            pipeline_unique_id(request.run.run_id, batch.id),
            objects,
            # hippolyte:stage is what the stack's IAM policies scope Data Pipeline by (template.yaml).
            {"hippolyte:stage": rt.settings.stage, "hippolyte:run": request.run.run_id, "hippolyte:batch": batch.id},
        )
    except (PipelineLimitReachedError, PipelineCreationError) as error:
        return StartedBatch(batch_id=batch.id, error=type(error).__name__, cause=str(error))
    return StartedBatch(batch_id=batch.id, pipeline_id=pipeline_id)
