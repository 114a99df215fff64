"""VerifyItemCount: the restored table holds as many items as the backup's manifest says.

For an import pipeline the table is counted with a parallel Scan (``Select=COUNT``), at the read
capacity RaiseWriteCapacity added for it. For ImportTable the count is the one DynamoDB reports
(DescribeImport's ImportedItemCount, with ErrorCount 0): ImportTable uses no capacity, and a scan
at the original's capacity could take hours.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hippolyte.errors import RestoreVerificationError
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime

MAX_SEGMENTS = 16
BYTES_PER_SEGMENT = 1024**3


def count_items(dynamodb: Any, table: str, size_bytes: int) -> int:
    """Every item of a table, counted by a parallel Scan (one segment per GiB, at most 16)."""
    segments = max(1, min(MAX_SEGMENTS, size_bytes // BYTES_PER_SEGMENT))

    def count(segment: int) -> int:
        total = 0
        kwargs: dict[str, Any] = {
            "TableName": table,
            "Select": "COUNT",
            "Segment": segment,
            "TotalSegments": segments,
        }
        while True:
            page = dynamodb.scan(**kwargs)
            total += page.get("Count", 0)
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return sum(pool.map(count, range(segments)))


def verify_item_count(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Compare the target's item count with the manifest's; RestoreVerificationError when they differ."""
    target, expected = context.request.target, context.backup.items
    dynamodb = rt.client("dynamodb")
    if context.backup.engine == "export":
        description = dynamodb.describe_import(ImportArn=context.import_id or "")["ImportTableDescription"]
        if description.get("ErrorCount"):
            raise RestoreVerificationError(
                f"ImportTable could not load {description['ErrorCount']} item(s) into "
                f"{target} (see its CloudWatch log group)"
            )
        found = int(description.get("ImportedItemCount", 0))
    else:
        found = count_items(dynamodb, target, context.backup.bytes or 0)
    if expected is None:
        note = f"{target} holds {found} items; the backup's manifest has no item count to compare with"
        return context.model_copy(update={"items_restored": found, "notes": [*context.notes, note]})
    if found != expected:
        raise RestoreVerificationError(f"{target} holds {found} items, the backup {expected}")
    return context.model_copy(update={"items_restored": found})
