"""The backups in the bucket: each one's Hippolyte manifest, written, read and listed.

A table's backups are the directories ``<table>/<YYYY-MM-DD-HH-MM-SS>/`` of the backup bucket.
One ListObjectsV2 pass over ``<table>/`` (the trailing slash keeps ``orders`` from matching
``orders-archive``) gives every file's size and ETag, so checking that each backup is still what
was verified reads no data: only each backup's small manifest is fetched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from hippolyte.adapters.run_store import load_stored
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


def list_backups(s3: S3Client, bucket: str, table: str) -> list[BackupListing]:
    """Every backup directory of a table, newest first, each with whether it can be restored."""
    prefix = f"{table}/"
    listing = list_prefix(s3, bucket, prefix)
    directories: dict[str, list[str]] = {}
    for key in listing:
        name = key[len(prefix) :].split("/", 1)[0]
        if timestamp_of(name) is not None:
            directories.setdefault(name, []).append(key)
    backups: list[BackupListing] = []
    for name, keys in directories.items():
        location = f"s3://{bucket}/{prefix}{name}/"
        manifest_key = f"{prefix}{name}/{MANIFEST_NAME}"
        manifest = get_manifest(s3, bucket, manifest_key) if manifest_key in listing else None
        time = timestamp_of(name)
        assert time is not None  # filtered above
        if manifest is None:
            backups.append(
                BackupListing(
                    table=table,
                    time=time,
                    location=location,
                    engine=_guess_engine(keys),
                    bytes=sum(listing[key][0] for key in keys),
                    problem=f"no {MANIFEST_NAME}: the backup did not complete or failed its verification",
                )
            )
            continue
        facts = manifest.backup
        problem = intact_problem(manifest, listing)
        if problem is None and manifest.table is None:
            problem = "its manifest holds no table schema (the table was gone when it was verified)"
        backups.append(
            BackupListing(
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
        )
    return sorted(backups, key=lambda backup: backup.time, reverse=True)


def read_table_schema_parts(
    dynamodb: DynamoDBClient, table_name: str
) -> tuple[TableDescriptionTypeDef, TimeToLiveDescriptionTypeDef, dict[str, str]] | None:
    """DescribeTable's ``Table``, DescribeTimeToLive's description and the tags; None when gone."""
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": table["TableArn"]}
        while True:
            page = dynamodb.list_tags_of_resource(**kwargs)
            tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise
    return table, ttl, tags
