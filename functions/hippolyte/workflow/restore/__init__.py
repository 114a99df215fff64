"""The restore's steps: one module per state of statemachine/restore.asl.json, named after it.

FindBackup decides everything that can be refused (bad input, no such table, no verified backup,
a target that exists) before anything is created. Then either CreateTargetTable,
RaiseWriteCapacity and ImportData (an EMR import pipeline, for Data Pipeline backups) or
ImportTable (for native exports, which creates the table itself), the WaitForImport /
CheckImport loop, VerifyItemCount, RestoreCapacityAndTtl and NotifyRestored.

This module holds what several states share: the chosen backup's manifest and the tags a
restored table carries. ``target_table`` and ``report`` hold what the target-table states and the
two notify states share.
"""

from __future__ import annotations

from hippolyte.adapters.backup_catalog import get_manifest
from hippolyte.backup_manifest import BackupManifest, TableSchema
from hippolyte.errors import BackupNotRestorableError
from hippolyte.restore_models import RestoreContext
from hippolyte.runtime import Runtime

RESTORED_FROM_TAG = "hippolyte:restored-from"
RESTORE_EXECUTION_TAG = "hippolyte:restore-execution"


def load_manifest(rt: Runtime, context: RestoreContext) -> tuple[BackupManifest, TableSchema]:
    """The chosen backup's manifest and its table schema (FindBackup checked both exist)."""
    key = context.backup.manifest_key or ""
    manifest = get_manifest(rt.client("s3"), context.bucket, key)
    if manifest is None or manifest.table is None:
        raise BackupNotRestorableError(f"s3://{context.bucket}/{key}: the backup's manifest or its schema is gone")
    return manifest, manifest.table


def restored_from(context: RestoreContext) -> str:
    """The value of the tag a restored table carries: ``<table>/<backup directory>``.

    >>> from datetime import datetime, timezone
    >>> from hippolyte.restore_models import BackupListing, RestoreRequest
    >>> b = BackupListing(table="orders", time=datetime(2026, 11, 28, tzinfo=timezone.utc),
    ...                   location="s3://b/orders/2026-11-28-00-10-00/")
    >>> c = RestoreContext(request=RestoreRequest(table="orders", target="orders-2"), execution_id="x",
    ...                    execution_name="r1", bucket="b", backup=b)
    >>> restored_from(c)
    'orders/2026-11-28-00-10-00'
    """
    return context.backup.location.removeprefix(f"s3://{context.bucket}/").strip("/")
