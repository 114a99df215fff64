"""NotifyFailure: the run failed; email its report, with the error that ended it."""

from __future__ import annotations

from hippolyte.models import FailureContext, RunReport
from hippolyte.runtime import Runtime
from hippolyte.workflow.run_report import notify_run


def notify_failure(rt: Runtime, failure: FailureContext) -> RunReport:
    """Send the failed run's report (once), with the caught error; works for a run rejected at its start."""
    return notify_run(rt, failure.run, failure.execution_id, failure.execution_name, error=failure.error)
