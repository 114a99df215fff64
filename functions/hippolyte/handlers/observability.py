"""Powertools Logger, Tracer and Metrics shared by every handler.

The run's execution name is the correlation id, so one night's logs from every function can be
read together (CloudWatch Logs Insights: ``filter correlation_id = "<execution name>"``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "hippolyte"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Hippolyte", service=SERVICE)
# Expected tables whose newest verified backup is older than FreshnessHours: the stack alarms on it.
TABLES_WITHOUT_FRESH_BACKUP = "TablesWithoutFreshBackup"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def correlation_id_of(event: Any) -> str | None:
    """The execution name carried by an event, wherever the state put it."""
    if not isinstance(event, dict):
        return None
    run = event.get("run")
    if isinstance(run, dict) and run.get("run_id"):
        return str(run["run_id"])
    return event.get("execution_name")


def lambda_entry(handler: Handler) -> Handler:
    """Wrap a handler with context logging, tracing, metrics and the run's correlation id."""

    @wraps(handler)
    def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.set_correlation_id(correlation_id_of(event))
        return handler(event, context)

    return logger.inject_lambda_context(clear_state=True)(tracer.capture_lambda_handler(metrics.log_metrics(wrapped)))
