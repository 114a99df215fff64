"""The sample events in events/ stay valid: each one validates against the model its handler
parses, so a model change that would break a saved console test event fails here first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hippolyte.execution_alert import ExecutionStatusEvent
from hippolyte.models import CreateBatchRequest, ExecutionInput, FailureContext, RunContext
from pydantic import BaseModel

from tests.functional.restore_event_models import RESTORE_EVENT_MODELS

EVENTS = Path(__file__).resolve().parents[2] / "events"


class DiscoverTablesEvent(BaseModel):
    """What the ASL passes DiscoverTables: the execution input and the execution's identity."""

    input: ExecutionInput
    execution_id: str
    execution_name: str
    started_at: str


class EmptyEvent(BaseModel):
    """A scheduled invocation's payload, which the handler ignores."""


MODELS: dict[str, type[BaseModel]] = {
    "discover_tables": DiscoverTablesEvent,
    "manual_rerun": ExecutionInput,
    "plan_batches": RunContext,
    "scale_up_read_capacity": RunContext,
    "create_pipeline": CreateBatchRequest,
    "check_pipelines": RunContext,
    "scale_down_read_capacity": RunContext,
    "notify_result": RunContext,
    "restore_capacity_after_failure": FailureContext,
    "notify_failure": FailureContext,
    "reconcile_capacity": EmptyEvent,
    # EventBridge's envelope: its fields beyond the ones read are ignored (AWS adds fields to events).
    "notify_execution_ended": ExecutionStatusEvent,
}


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.stem)
def test_every_sample_event_validates_against_its_handler_model(path: Path) -> None:
    # GIVEN a sample event, and the model of the handler it is for
    models = {**MODELS, **RESTORE_EVENT_MODELS}
    assert path.stem in models, f"events/{path.name} has no model mapped in this test"
    document: Any = json.loads(path.read_text())
    # THEN it validates (unknown fields are errors in every model)
    models[path.stem].model_validate(document)
