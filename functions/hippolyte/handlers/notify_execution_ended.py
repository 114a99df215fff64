"""NotifyExecutionEnded: the EventBridge rule's target for executions that failed, timed out or stopped."""

from __future__ import annotations

from typing import Any

from hippolyte.execution_alert import parse_event
from hippolyte.handlers.observability import lambda_entry, logger
from hippolyte.runtime import Runtime
from hippolyte.workflow.notify_execution_ended import notify_execution_ended


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: a "Step Functions Execution Status Change" event; output: :class:`ExecutionAlert`."""
    change = parse_event(event)
    logger.set_correlation_id(change.name)
    alert = notify_execution_ended(Runtime.from_environment(context), change)
    logger.info(
        "execution end reported" if alert.already_reported_by is None else "execution end was reported already",
        status=alert.status,
        reported_by=alert.already_reported_by,
    )
    return alert.model_dump(mode="json")
