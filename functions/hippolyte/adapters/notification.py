"""Publishing the run's report to the stack's SNS topic (email subscribers get it as mail)."""

from __future__ import annotations

from typing import Any

SNS_MESSAGE_LIMIT = 256 * 1024  # SNS: a message is at most 256 KB


def publish_report(sns: Any, topic_arn: str, subject: str, body: str) -> str | None:
    """Publish one message; a body too long for SNS is cut, saying where the full report is."""
    if not topic_arn:
        return None
    encoded = body.encode()
    if len(encoded) > SNS_MESSAGE_LIMIT:
        tail = b"\n... (cut: the full report is in the backup bucket, see the run's report.txt)\n"
        body = encoded[: SNS_MESSAGE_LIMIT - len(tail) - 1024].decode(errors="ignore") + tail.decode()
    return sns.publish(TopicArn=topic_arn, Subject=subject, Message=body)["MessageId"]
