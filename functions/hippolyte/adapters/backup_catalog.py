"""The backups in the bucket: each one's Hippolyte manifest, written, read and listed.

A table's backups are the directories ``<table>/<YYYY-MM-DD-HH-MM-SS>/`` of the backup bucket.
One ListObjectsV2 pass over ``<table>/`` (the trailing slash keeps ``orders`` from matching
``orders-archive``) gives every file's size and ETag, so checking that each backup is still what
was verified reads no data: only each backup's small manifest is fetched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from hippolyte.adapters.run_store import load_stored
from hippolyte.adapters.tables import table_tags
from hippolyte.backup_manifest import MANIFEST_NAME, BackupManifest, intact_problem
from hippolyte.models import Engine
from hippolyte.restore_models import BackupListing
from hippolyte.restore_plan import timestamp_of

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import TableDescriptionTypeDef, TimeToLiveDescriptionTypeDef
    from types_boto3_s3 import S3Client


def list_prefix(s3: S3Client, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """Every object under a prefix: key -> (size, ETag)."""
    found: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = (obj["Size"], obj.get("ETag", ""))
    return found


def put_manifest(s3: S3Client, bucket: str, key: str, manifest: BackupManifest) -> None:
    """Write a backup's manifest (AES256 like the bucket's default encryption)."""
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=manifest.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )


def get_manifest(s3: S3Client, bucket: str, key: str) -> BackupManifest | None:
    """A backup's manifest, or None when it has none.

    Backups outlive versions: a manifest written by a newer version (fields it added) still reads.
    """
    return load_stored(s3, bucket, key, BackupManifest)


def _guess_engine(keys: list[str]) -> Engine | None:
    if any("/AWSDynamoDB/" in key for key in keys):
        return "export"
    if any(key.endswith("/_SUCCESS") or key.endswith("/manifest") for key in keys):
        return "datapipeline"
    return None


def _directories(listing: dict[str, tuple[int, str]], prefix: str) -> dict[str, list[str]]:
    """The listing's backup directories (``<YYYY-MM-DD-HH-MM-SS>``) under ``prefix``, each with its keys."""
    directories: dict[str, list[str]] = {}
    for key in listing:
        name = key[len(prefix) :].split("/", 1)[0]
        if timestamp_of(name) is not None:
            directories.setdefault(name, []).append(key)
    return directories


def _backup(
    s3: S3Client, bucket: str, table: str, name: str, keys: list[str], listing: dict[str, tuple[int, str]]
) -> BackupListing:
    """One backup directory, with whether it can be restored (reads its manifest, if it has one)."""
    prefix = f"{table}/"
    location = f"s3://{bucket}/{prefix}{name}/"
    manifest_key = f"{prefix}{name}/{MANIFEST_NAME}"
    manifest = get_manifest(s3, bucket, manifest_key) if manifest_key in listing else None
    time = timestamp_of(name)
    assert time is not None  # only backup directories are passed
    if manifest is None:
        return BackupListing(
            table=table,
            time=time,
            location=location,
            engine=_guess_engine(keys),
            bytes=sum(listing[key][0] for key in keys),
            problem=f"no {MANIFEST_NAME}: the backup did not complete or failed its verification",
        )
    facts = manifest.backup
    problem = intact_problem(manifest, listing)
    if problem is None and manifest.table is None:
        problem = "its manifest holds no table schema (the table was gone when it was verified)"
    return BackupListing(
        table=table,
        time=time,  # the directory's name, to the second, as --at and --backup name it
        location=location,
        engine=facts.engine,
        items=facts.items,
        bytes=facts.bytes,
        verified=facts.verified and problem is None,
        problem=problem,
        manifest_key=manifest_key,
    )


def list_backups(s3: S3Client, bucket: str, table: str) -> list[BackupListing]:
    """Every backup directory of a table, newest first, each with whether it can be restored."""
    listing = list_prefix(s3, bucket, f"{table}/")
    backups = [
        _backup(s3, bucket, table, name, keys, listing) for name, keys in _directories(listing, f"{table}/").items()
    ]
    return sorted(backups, key=lambda backup: backup.time, reverse=True)


def newest_verified_backup(s3: S3Client, bucket: str, table: str) -> BackupListing | None:
    """A table's newest backup that can be restored, or None when it has none.

    The same verdict as :func:`list_backups`, but manifests are read newest first and only until
    one is verified: one listing and, most nights, one small GetObject per table.
    """
    listing = list_prefix(s3, bucket, f"{table}/")
    directories = _directories(listing, f"{table}/")
    for name in sorted(directories, reverse=True):  # the names sort as the times they are
        backup = _backup(s3, bucket, table, name, directories[name], listing)
        if backup.verified:
            return backup
    return None


def read_table_schema_parts(
    dynamodb: DynamoDBClient, table_name: str, pace_tags: Callable[[], None] | None = None
) -> tuple[TableDescriptionTypeDef, TimeToLiveDescriptionTypeDef, dict[str, str]] | None:
    """DescribeTable's ``Table``, DescribeTimeToLive's description and the tags; None when gone
    (``pace_tags``: see :func:`hippolyte.adapters.tables.table_tags`)."""
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
        tags = table_tags(dynamodb, table["TableArn"], pace_tags)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return table, ttl, tags
