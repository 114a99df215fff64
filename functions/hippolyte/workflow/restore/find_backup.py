"""FindBackup: validate the restore's input, choose the backup, check the target. Creates nothing.

Every refusal happens here, before any table or pipeline exists: a bad input
(InvalidRestoreRequestError, naming the field), a table with no backup at all
(UnknownTableError), no verified backup at or before the time (BackupNotFoundError), a target
that exists without ``into_existing`` or is not empty (RestoreTargetExistsError), or a backup the
chosen path cannot restore (BackupNotRestorableError).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from hippolyte.adapters.backup_catalog import get_manifest, list_backups
from hippolyte.adapters.tables import describe_table, has_items
from hippolyte.errors import (
    BackupNotFoundError,
    BackupNotRestorableError,
    InvalidRestoreRequestError,
    RestoreTargetExistsError,
    UnknownTableError,
)
from hippolyte.models import first_error
from hippolyte.restore_models import BackupListing, RestoreContext, RestoreRequest
from hippolyte.restore_plan import capacity_from_description, choose_backup, split_backup_uri
from hippolyte.runtime import Runtime


def parse_restore_request(raw: Any) -> RestoreRequest:
    """Validate the execution input; the error names the field at fault."""
    try:
        return RestoreRequest.model_validate(raw if raw is not None else {})
    except ValidationError as error:
        field, message = first_error(error)
        raise InvalidRestoreRequestError(f"restore input {field}: {message}") from None


def _named_backup(request: RestoreRequest, bucket: str, backups: list[BackupListing]) -> BackupListing:
    assert request.backup is not None
    try:
        uri_bucket, table, _ = split_backup_uri(request.backup)
    except ValueError as error:
        raise InvalidRestoreRequestError(f"restore input backup: {error}") from None
    if uri_bucket != bucket:
        raise InvalidRestoreRequestError(f"restore input backup: {request.backup} is not in the backup bucket {bucket}")
    if table != request.table:
        raise InvalidRestoreRequestError(
            f"restore input backup: {request.backup} is a backup of {table}, not of {request.table}"
        )
    chosen = next((backup for backup in backups if backup.location == request.backup), None)
    if chosen is None:
        raise BackupNotFoundError(f"there is no backup at {request.backup}")
    if not chosen.verified:
        raise BackupNotFoundError(f"{request.backup} cannot be restored: {chosen.problem or 'not verified'}")
    return chosen


def _check_existing_target(
    rt: Runtime, request: RestoreRequest, backup: BackupListing, key_schema: list[Any], table: Mapping[str, Any]
) -> None:
    name = request.target
    if not request.into_existing:
        raise RestoreTargetExistsError(
            f"table {name} already exists: restore into a new table, or pass "
            "--into-existing (into_existing) to restore into it when it is empty"
        )
    if backup.engine == "export":
        raise RestoreTargetExistsError(
            f"table {name} already exists, and a native export is restored with "
            "ImportTable, which only creates new tables: restore into a new table"
        )
    existing_keys = sorted((k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", []))
    if existing_keys != sorted((k.attribute_name, k.key_type) for k in key_schema):
        raise RestoreTargetExistsError(
            f"table {name} has the key schema {existing_keys}, not the backup's: it cannot hold the backup's items"
        )
    if has_items(rt.client("dynamodb"), name):
        raise RestoreTargetExistsError(f"table {name} is not empty: --into-existing only restores into an empty table")


def find_backup(rt: Runtime, raw_input: Any, execution_id: str, execution_name: str) -> RestoreContext:
    """Choose the backup to restore and check that it can go where it was asked to."""
    request = parse_restore_request(raw_input)
    bucket = rt.settings.backup_bucket
    s3 = rt.client("s3")
    backups = list_backups(s3, bucket, request.table)
    if not backups:
        raise UnknownTableError(
            f"restore input table: no table named {request.table} has a backup in s3://{bucket}/ (is the name right?)"
        )
    chosen = (
        _named_backup(request, bucket, backups) if request.backup else choose_backup(request.table, backups, request.at)
    )
    manifest = get_manifest(s3, bucket, chosen.manifest_key or "")
    if manifest is None or manifest.table is None:
        raise BackupNotRestorableError(f"{chosen.location}: its manifest holds no table schema")
    if chosen.engine == "export" and manifest.table.local_secondary_indexes:
        raise BackupNotRestorableError(
            f"{chosen.location} is a native export of a table with local secondary indexes: ImportTable "
            "cannot create those, and a table's local indexes can only be made when it is created"
        )
    existing = describe_table(rt.client("dynamodb"), request.target)
    if existing is not None:
        _check_existing_target(rt, request, chosen, manifest.table.key_schema, existing)
    return RestoreContext(
        request=request,
        execution_id=execution_id,
        execution_name=execution_name,
        bucket=bucket,
        backup=chosen,
        target_exists=existing is not None,
        final_capacity=capacity_from_description(existing) if existing is not None else None,
    )
