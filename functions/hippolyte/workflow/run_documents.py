"""The run's plan and batch documents, as PlanBatches stores them and later states read them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hippolyte.adapters.run_store import load_document, load_written_once
from hippolyte.models import Batch, Plan, RunRef
from hippolyte.runtime import Runtime

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client


def batch_document(batch_id: str) -> str:
    """Name of one batch's document: each CreatePipeline iteration reads only its own.

    >>> batch_document("b0007")
    'batches/b0007'
    """
    return f"batches/{batch_id}"


def load_batch(rt: Runtime, run: RunRef, batch_id: str) -> Batch:
    """One batch's document."""
    return load_document(rt.client("s3"), run, batch_document(batch_id), Batch)


def load_plan(s3: S3Client, run: RunRef) -> Plan:
    """The run's plan, written once by PlanBatches: a warm container reads it again only when it
    changed (:func:`hippolyte.adapters.run_store.load_written_once`)."""
    return load_written_once(s3, run, "plan", Plan)
