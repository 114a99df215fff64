"""The restore's report, which NotifyRestored and NotifyRestoreFailed send: one SNS message per
restore, to the backup report's topic.

A published report is stored under the restore's ``runs/restore-<execution>/`` prefix; a retried
notify (Step Functions re-runs it when the Lambda fails after publishing) finds it and returns it
instead of sending the same message twice.
"""

from __future__ import annotations

from hippolyte.adapters.notification import publish_report_once
from hippolyte.report import SUBJECT_LIMIT
from hippolyte.restore_models import RestoreReport
from hippolyte.runtime import Runtime


def report_subject(rt: Runtime, table: str | None, target: str | None, outcome: str) -> str:
    """The report's subject: the stage, the table, the target and the outcome."""
    # SNS subjects are ASCII, on one line, under 100 characters (SNS Publish API reference).
    subject = f"Hippolyte {rt.settings.stage} restore {table or '?'} -> {target or '?'}: {outcome}"
    return subject.encode("ascii", "replace").decode()[: SUBJECT_LIMIT - 1]


def _sent_key(execution_name: str, outcome: str) -> str:
    return f"runs/restore-{execution_name}/sent/{outcome.lower()}.json"


def publish_once(rt: Runtime, execution_name: str, report: RestoreReport, body: str) -> RestoreReport:
    """Publish a restore's report unless an earlier attempt did; returns what was sent."""
    bucket = rt.settings.backup_bucket
    sent_at = (bucket, _sent_key(execution_name, report.outcome)) if bucket else None
    return publish_report_once(rt.client("sns"), rt.client("s3"), rt.settings.topic_arn, report, body, sent_at)
