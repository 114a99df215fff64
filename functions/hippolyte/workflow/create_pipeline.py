"""CreatePipeline (one CreatePipelines iteration): create and activate one batch's pipeline, or start its exports.

Each attempt stores its own result (workflow/batch_starts.py) before it returns, and a retried
attempt returns that stored result without calling Data Pipeline or DynamoDB again.
"""

from __future__ import annotations

from hippolyte.adapters.datapipeline import create_and_activate
from hippolyte.adapters.ledger import CapacityLedger
from hippolyte.adapters.tables import describe_table
from hippolyte.capacity import safe_read_percent
from hippolyte.errors import PipelineCreationError, PipelineLimitReachedError
from hippolyte.models import Batch, CreateBatchRequest, StartedBatch
from hippolyte.pipelines import build_pipeline_objects, pipeline_unique_id
from hippolyte.runtime import Runtime
from hippolyte.workflow.batch_starts import pipeline_name, store_start, stored_start
from hippolyte.workflow.native_export import start_exports
from hippolyte.workflow.pipeline_cluster import cluster_settings
from hippolyte.workflow.run_documents import load_batch


def read_percents(
    rt: Runtime, ledger: CapacityLedger | None, request: CreateBatchRequest, batch: Batch
) -> dict[str, float]:
    """Each table's read percentage for the capacity it really has now (boost applied or not).

    A table that is on-demand now (planned so, or switched since) is read at no more than the
    on-demand share: the export tool reads it as if it had 40,000 RCU, whatever the plan assumed.
    """
    dynamodb = rt.client("dynamodb")
    percents: dict[str, float] = {}
    for table in batch.tables:
        live = describe_table(dynamodb, table.name)
        if table.on_demand or (live or {}).get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST":
            percents[table.name] = safe_read_percent(
                0, 0, table.read_throughput_percent, rt.settings.on_demand_read_throughput_percent
            )
            continue
        current = (live or {}).get("ProvisionedThroughput", {}).get("ReadCapacityUnits", 0)
        entry = ledger.get(table.name, request.run.run_id) if ledger is not None and table.boosted else None
        # Without a ledger record the boost never happened: the table is read at the default share.
        original = entry.original.read_capacity_units if entry else current
        percents[table.name] = safe_read_percent(
            original, current, table.read_throughput_percent, rt.settings.read_throughput_percent
        )
    return percents


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
    """Create one pipeline (idempotent per run and batch), or start the batch's native exports."""
    batch = load_batch(rt, request.run, request.batch_id)
    if batch.engine == "export":
        return start_exports(rt, request, batch)
    ledger = rt.ledger() if any(t.boosted for t in batch.tables) else None
    objects = build_pipeline_objects(
        batch,
        request.run.bucket,
        request.run.started_at,
        cluster_settings(rt),
        read_percents(rt, ledger, request, batch),
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
