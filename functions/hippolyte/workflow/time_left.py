"""Whether an invocation still has time for one more table before Lambda stops it.

The loops over a run's tables (raising, restoring, verifying) each wait on AWS for a while per
table; with thousands of tables one invocation cannot do them all inside Lambda's 15 minutes
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html). Each loop asks here
before it starts a table, stops in time, and leaves the rest for the next invocation, which the
state machine brings back (the next poll, or the failure path's own loop).
"""

from __future__ import annotations

from hippolyte.adapters.capacity import ACTIVE_POLL_SECONDS, ACTIVE_POLLS
from hippolyte.runtime import Runtime

# The longest one table can take: waiting for ACTIVE gives up after ACTIVE_POLLS polls
# (DynamoDB takes one update at a time, so every change waits for it), plus a few calls of its
# own (DescribeTable, the ledger, UpdateTable or RegisterScalableTarget with their retries).
TABLE_SECONDS = ACTIVE_POLLS * ACTIVE_POLL_SECONDS + 15.0
# The longest verifying one table's backup can take: a native export's files are read back in
# full to recompute their MD5s, up to 512 MiB (exports.MD5_CHECK_UP_TO_BYTES), streamed from S3 at
# some tens of MB/s in a Lambda function, plus a listing and the manifests.
VERIFY_SECONDS = 60.0


def has_time_for_tables(rt: Runtime, tables: int = 1, seconds_each: float = TABLE_SECONDS) -> bool:
    """Whether the invocation can still handle ``tables`` more tables and return before its timeout.

    >>> from hippolyte.settings import StackSettings
    >>> settings = StackSettings(BACKUP_BUCKET="backups")
    >>> rt = Runtime(settings=settings, region="eu-west-1", remaining_seconds=lambda: 100.0)
    >>> has_time_for_tables(rt), has_time_for_tables(rt, 2), has_time_for_tables(rt, seconds_each=VERIFY_SECONDS)
    (True, False, True)
    """
    return rt.has_time_for(tables * seconds_each)
