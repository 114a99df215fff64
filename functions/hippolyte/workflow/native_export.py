"""The native export engine: ExportTableToPointInTime per table, polled and verified like a pipeline.

Used by CreatePipelines (:func:`start_exports`, one Map iteration per export batch) and by
CheckPipelines (:func:`check_exports`). An export reads the table's PITR data, not the table, so
it uses no read capacity: the planner never raises an export table's capacity (its
``PlannedTable.boosted`` is False), and nothing here changes capacity either.

Each export writes under the same directory the EMR engine uses, ``s3://<bucket>/<table>/<timestamp>/``
(S3Prefix ``<table>/<timestamp>``), with DynamoDB's own layout below it (see export_format). A table
counts as backed up only when its export is COMPLETED and its files pass the check: both
manifests present, every listed data file present with its ETag and MD5, item counts adding up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hippolyte.adapters.exports import describe_export, read_export, start_export
from hippolyte.adapters.run_store import document_exists, load_document, save_document
from hippolyte.adapters.tables import describe_table
from hippolyte.errors import ExportLimitReachedError, ExportRefusedError
from hippolyte.export_format import export_client_token, export_id
from hippolyte.models import (
    Batch,
    BatchProgress,
    CreateBatchRequest,
    Model,
    RunContext,
    RunProgress,
    StartedBatch,
    TableOutcome,
)
from hippolyte.pipelines import backup_timestamp, output_directory
from hippolyte.runtime import Runtime
from hippolyte.workflow.backup_manifest import write_backup_manifest
from hippolyte.workflow.time_left import VERIFY_SECONDS, has_time_for_tables

# An export refused at the account's limit (ExportLimitReachedError: at most 300 exports, or
# 100 TB, in flight, DynamoDB service quotas) makes the batch wait like one at the pipeline limit.
LIMIT_ERROR = "PipelineLimitReachedError"
START_ERROR = "ExportStartError"


class ExportStartFailures(Model):
    """Tables of one export batch whose export DynamoDB refused to start, with the reason."""

    failures: dict[str, str]


def _failures_document(batch_id: str) -> str:
    # One document per batch: Map iterations run at once and must not write the same object.
    return f"exports/{batch_id}-refused"


def start_exports(rt: Runtime, request: CreateBatchRequest, batch: Batch) -> StartedBatch:
    """Start (or find again, by ClientToken) the export of every table of the batch."""
    dynamodb = rt.client("dynamodb")
    run = request.run
    arns: dict[str, str] = {}
    failures: dict[str, str] = {}
    for table in batch.tables:
        description = describe_table(dynamodb, table.name)
        if description is None:
            failures[table.name] = "the table was deleted before its export started"
            continue
        try:
            arns[table.name] = start_export(
                dynamodb,
                description["TableArn"],
                run.bucket,
                f"{table.name}/{backup_timestamp(run.started_at)}",
                export_client_token(run.run_id, table.name),
                rt.settings.kms_key_arn,
            )
        except ExportLimitReachedError as error:
            return StartedBatch(
                batch_id=batch.id,
                error=LIMIT_ERROR,
                cause=f"ExportTableToPointInTime refused {table.name}: {error.reason}",
            )
        except ExportRefusedError as error:
            failures[table.name] = f"ExportTableToPointInTime refused: {error}"
    if failures:
        save_document(rt.client("s3"), run, _failures_document(batch.id), ExportStartFailures(failures=failures))
    if not arns:
        cause = "; ".join(f"{name}: {reason}" for name, reason in sorted(failures.items()))
        return StartedBatch(batch_id=batch.id, error=START_ERROR, cause=cause[:2000])
    return StartedBatch(batch_id=batch.id, export_arns=arns)


def _start_failures(rt: Runtime, context: RunContext, batch_id: str) -> dict[str, str]:
    s3 = rt.client("s3")
    name = _failures_document(batch_id)
    if not document_exists(s3, context.run, name):
        return {}
    return load_document(s3, context.run, name, ExportStartFailures).failures


def _verify(
    rt: Runtime, context: RunContext, progress: RunProgress, table: str, description: Mapping[str, Any]
) -> None:
    check = read_export(rt.client("s3"), description)
    if not check.complete:
        progress.outcomes[table] = TableOutcome(
            name=table, status="failed", engine="export", reason=f"export verification failed: {check.reason}"
        )
        return
    outcome = TableOutcome(
        name=table,
        status="backed_up",
        engine="export",
        items=check.items,
        bytes=check.bytes,
        s3_path=output_directory(context.run.bucket, table, context.run.started_at),
    )
    write_backup_manifest(rt, context.run, outcome, export=check, export_arn=description["ExportArn"])
    progress.outcomes[table] = outcome


def check_exports(
    rt: Runtime,
    context: RunContext,
    progress: RunProgress,
    batches: dict[str, Batch],
    states: dict[str, BatchProgress],
    past_deadline: bool,
    now: datetime,
) -> None:
    """Poll every running export batch; record each table's outcome as its export ends.

    Stops when the invocation runs short of time: tables without an outcome are checked on the
    next poll.
    """
    dynamodb = rt.client("dynamodb")
    for batch_id, state in states.items():
        batch = batches[batch_id]
        refused: dict[str, str] | None = None
        for table in batch.tables:
            if table.name in progress.outcomes:
                continue
            if not has_time_for_tables(rt, seconds_each=VERIFY_SECONDS):
                # The invocation is running short of time: the rest are checked on the next poll.
                return
            arn = state.export_arns.get(table.name)
            if arn is None:
                refused = refused if refused is not None else _start_failures(rt, context, batch_id)
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name,
                    status="failed",
                    engine="export",
                    reason=refused.get(table.name, "its export was never started"),
                )
                continue
            description = describe_export(dynamodb, arn)
            status = description.get("ExportStatus")
            if status == "COMPLETED":
                _verify(rt, context, progress, table.name, description)
            elif status == "FAILED":
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name,
                    status="failed",
                    engine="export",
                    reason=f"export {export_id(arn)} failed: {description.get('FailureCode') or 'no code'}: "
                    f"{description.get('FailureMessage') or 'no message'}",
                )
            elif past_deadline:
                # There is no API to cancel an export: it ends on its own, unrecorded.
                progress.outcomes[table.name] = TableOutcome(
                    name=table.name,
                    status="failed",
                    engine="export",
                    reason=f"export {export_id(arn)} did not finish inside the window (still {status} at the deadline)",
                )
        if all(table.name in progress.outcomes for table in batch.tables):
            state.status, state.ended_at = "ended", now
