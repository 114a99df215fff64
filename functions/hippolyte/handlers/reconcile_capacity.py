"""ReconcileCapacity: the hourly job that finishes capacity restores a run could not."""

from __future__ import annotations

from typing import Any

from hippolyte.handlers.observability import TABLES_WITHOUT_FRESH_BACKUP, lambda_entry, logger, metrics
from hippolyte.runtime import Runtime
from hippolyte.workflow.reconcile_capacity import reconcile_capacity


@lambda_entry
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Input: the schedule's event (ignored); output: :class:`ReconcileReport`."""
    report = reconcile_capacity(Runtime.from_environment(context))
    logger.info("reconciled", restored=len(report.restored), pending=len(report.pending))
    metrics.add_metric(name="TablesPendingRestore", unit="Count", value=len(report.pending))
    if report.without_fresh_backup is not None:
        metrics.add_metric(name=TABLES_WITHOUT_FRESH_BACKUP, unit="Count", value=report.without_fresh_backup)
    return report.model_dump(mode="json")
