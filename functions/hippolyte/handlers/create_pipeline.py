"""CreatePipeline (one CreatePipelines iteration): create and activate one batch's pipeline, or start its exports."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger, metrics
from hippolyte.models import CreateBatchRequest
from hippolyte.runtime import Runtime
from hippolyte.workflow.create_pipeline import start_batch


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: :class:`CreateBatchRequest`; output: :class:`StartedBatch`."""
    result = start_batch(Runtime.from_environment(context), CreateBatchRequest.model_validate(event))
    logger.info("batch started", batch_id=result.batch_id, pipeline_id=result.pipeline_id, error=result.error)
    metrics.add_metric(name="BatchesRefused" if result.error else "BatchesStarted", unit="Count", value=1)
    return result.model_dump(mode="json")
