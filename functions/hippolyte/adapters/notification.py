"""Publishing the run's report to the stack's SNS topic (email subscribers get it as mail)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from hippolyte.adapters.run_store import load_stored, store
from hippolyte.models import PublishedReport

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_sns import SNSClient

SNS_MESSAGE_LIMIT = 256 * 1024  # SNS: a message is at most 256 KB


def publish_report(sns: SNSClient, topic_arn: str, subject: str, body: str) -> str | None:
    """Publish one message; a body too long for SNS is cut, saying where the full report is."""
    if not topic_arn:
        return None
    encoded = body.encode()
    if len(encoded) > SNS_MESSAGE_LIMIT:
        tail = b"\n... (cut: the full report is in the backup bucket, see the run's report.txt)\n"
        body = encoded[: SNS_MESSAGE_LIMIT - len(tail) - 1024].decode(errors="ignore") + tail.decode()
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=body)["MessageId"]


ReportT = TypeVar("ReportT", bound=PublishedReport)


def publish_report_once(
    sns: SNSClient, s3: S3Client, topic_arn: str, report: ReportT, body: str, sent_at: tuple[str, str] | None
) -> ReportT:
    """Publish a report unless an earlier attempt did; returns what was sent.

    ``sent_at`` is the (bucket, key) where the sent report is kept, so that a notify Step Functions
    retries after it published (the Lambda failed on the way back) finds it instead of sending the
    same message twice. None publishes without keeping it (a run that left nothing in the account).
    """
    if sent_at is not None:
        sent = load_stored(s3, *sent_at, type(report))
        if sent is not None:
            return sent
    report = report.model_copy(update={"message_id": publish_report(sns, topic_arn, report.subject, body)})
    if sent_at is not None:
        store(s3, *sent_at, report)
    return report
