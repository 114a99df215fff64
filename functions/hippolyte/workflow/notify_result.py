"""NotifyResult: the run ended; email its report (every table: backed up, failed or skipped)."""

from __future__ import annotations

from hippolyte.models import RunContext, RunReport
from hippolyte.runtime import Runtime
from hippolyte.workflow.run_report import notify_run


def notify_result(rt: Runtime, context: RunContext) -> RunReport:
    """Send the night's report (once) and give the run's tables back to the next run."""
    run = context.run
    return notify_run(rt, run, run.execution_id, run.run_id)
