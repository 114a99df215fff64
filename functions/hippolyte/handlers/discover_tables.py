"""DiscoverTables: validate input and configuration, list and filter the account's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hippolyte.handlers.observability import lambda_entry, logger, metrics
from hippolyte.runtime import Runtime
from hippolyte.workflow.discover_tables import discover_tables


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: ``{"input": <execution input>, "execution_id", "execution_name", "started_at"}``."""
    result = discover_tables(
        Runtime.from_environment(context),
        event.get("input"),
        execution_id=event["execution_id"],
        execution_name=event["execution_name"],
        started_at=datetime.fromisoformat(event["started_at"].replace("Z", "+00:00")),
    )
    logger.info("tables discovered", run_id=result.run.run_id)
    metrics.add_metric(name="RunsStarted", unit="Count", value=1)
    return result.model_dump(mode="json")
