"""DiscoverTables: validate input and configuration, list and filter the account's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hippolyte.discovery_pages import DiscoveryUnfinished
from hippolyte.handlers.observability import lambda_entry, logger, metrics
from hippolyte.runtime import Runtime
from hippolyte.workflow.discover_tables import discover_tables


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: ``{"input": <execution input>, "execution_id", "execution_name", "started_at"}``.

    On later pages ``input`` is the last page's answer, which the run's documents supersede.
    """
    result = discover_tables(
        Runtime.from_environment(context),
        event.get("input"),
        execution_id=event["execution_id"],
        execution_name=event["execution_name"],
        started_at=datetime.fromisoformat(event["started_at"].replace("Z", "+00:00")),
    )
    if isinstance(result, DiscoveryUnfinished):
        logger.info("tables left to discover", run_id=result.run.run_id, tables_left=result.tables_left)
        return result.model_dump(mode="json")
    logger.info("tables discovered", run_id=result.run.run_id)
    metrics.add_metric(name="RunsStarted", unit="Count", value=1)
    return result.model_dump(mode="json")
