"""VerifyItemCount: the restored table holds as many items as the backup's manifest says.

For an import pipeline the table is counted with a parallel Scan (``Select=COUNT``), at the read
capacity RaiseWriteCapacity added for it. For ImportTable the count is the one DynamoDB reports
(DescribeImport's ImportedItemCount, with ErrorCount 0): ImportTable uses no capacity, and a scan
at the original's capacity could take hours.
"""

from __future__ import annotations

from hippolyte.adapters.imports import describe_import
from hippolyte.adapters.tables import count_items
from hippolyte.errors import RestoreVerificationError
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime


def verify_item_count(rt: Runtime, context: RestoreContext) -> RestoreContext:
    """Compare the target's item count with the manifest's; RestoreVerificationError when they differ."""
    target, expected = context.request.target, context.backup.items
    dynamodb = rt.client("dynamodb")
    if context.backup.engine == "export":
        description = describe_import(dynamodb, context.import_id or "")
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
