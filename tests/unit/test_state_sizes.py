"""What travels between states stays far below Step Functions' 256 KB payload limit, even for an
account of 10,000 tables: the documents stay in S3, and states pass references and ids."""

from __future__ import annotations

from datetime import UTC, datetime

from hippolyte.models import (
    CreateBatchRequest,
    PlannerSettings,
    RunContext,
    RunRef,
    StartedBatch,
    TableSnapshot,
    WaveItem,
)
from hippolyte.planning import plan_batches

STEP_FUNCTIONS_PAYLOAD_LIMIT = 256 * 1024  # bytes, Step Functions quotas


def test_the_largest_state_of_a_10000_table_night_is_a_small_fraction_of_the_limit() -> None:
    # GIVEN the plan of 10,000 tables (several hundred batches)
    tables = [
        TableSnapshot(
            name=f"table-{n:05d}-with-a-long-descriptive-name",
            read_capacity_units=5 + n % 500,
            size_bytes=(n * 7919) % 50_000_000_000,
        )
        for n in range(10_000)
    ]
    plan = plan_batches(tables, PlannerSettings())
    run = RunRef(
        run_id="nightly-" + "x" * 70,
        execution_id="arn:aws:states:eu-west-1:123456789012:execution:hippolyte-prod-backup:nightly-" + "x" * 70,
        bucket="hippolyte-prod-backupbucket-" + "x" * 30,
        started_at=datetime(2026, 11, 28, 0, 10, tzinfo=UTC),
    )
    # WHEN every batch starts in one wave (each start stores its own result in S3, not in the payload)
    context = RunContext(
        run=run,
        poll_seconds=300,
        wave=[WaveItem(batch_id=batch.id, attempt=99) for batch in plan.batches],
    )
    # THEN the biggest document a state passes (the loop's context with the whole wave) is small
    size = len(context.model_dump_json().encode())
    assert len(plan.batches) > 300
    assert size < STEP_FUNCTIONS_PAYLOAD_LIMIT / 4, size
    # AND one Map iteration's input does not grow with the account
    assert len(CreateBatchRequest(run=run, batch_id="b0313", attempt=99).model_dump_json()) < 1024
    # AND what one iteration returns (kept out of the payload by ResultPath null) is small too
    assert len(StartedBatch(batch_id="b0313", pipeline_id="df-" + "0" * 21).model_dump_json()) < 1024
