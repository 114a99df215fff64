"""Checking one table's backup directory in S3.

A table is backed up only if its own directory (``<table>/<timestamp>/``, with the trailing slash,
so that ``orders`` never matches ``orders-archive``) holds the export's ``_SUCCESS`` marker and
its ``manifest``. The 2017 tool looked under the bare prefix ``<table>``, where one table's name
could match another's.

Items are counted one per line, and the first item line of every data file is read as
DynamoDBImport would read it (:mod:`hippolyte.emr_export_format`): a backup in another format,
such as standard DynamoDB JSON, could not be restored, so it is not a backup. Only the first line
of each file is read so: parsing every line would parse up to COUNT_ITEMS_UP_TO_BYTES of JSON per
table in CheckPipelines (about 15 MB/s in CPython), where counting lines only streams them. Data
files are streamed line by line, never read whole.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pydantic import BaseModel

from hippolyte.backup_manifest import DataFile, normalise_etag
from hippolyte.emr_export_format import count_items as count_item_lines
from hippolyte.errors import InvalidExportLineError
from hippolyte.models import NonNegativeInt

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

SUCCESS_MARKER = "_SUCCESS"
MANIFEST = "manifest"
# Items are counted by reading the data files back when they are small enough for a Lambda to
# stream them in seconds; beyond this the report gives DynamoDB's own ItemCount instead.
COUNT_ITEMS_UP_TO_BYTES = 512 * 1024**2
# Data files are streamed this much at a time (StreamingBody.iter_lines), never read whole: a
# Lambda function holds one chunk (and the line it is in), however large the file; a larger
# chunk than botocore's 1 KB default keeps the calls few.
STREAM_CHUNK_BYTES = 1024**2


class BackupCheck(BaseModel):
    """What one backup directory holds."""

    complete: bool
    reason: str = ""
    items: NonNegativeInt | None = None
    bytes: NonNegativeInt = 0
    data_files: list[str] = []
    # The data files as listed when checked (key, size, ETag), so that the backup's manifest
    # records them without listing the directory and reading the tool's manifest again.
    listed_files: list[DataFile] = []


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` as (bucket, key).

    >>> split_s3_uri("s3://b/orders/2026/")
    ('b', 'orders/2026/')
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def list_directory(s3: S3Client, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """Object keys (relative to the directory) with their size and ETag, directly or deeper under a prefix."""
    found: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = (obj["Size"], obj.get("ETag", ""))
    return found


def manifest_urls(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    """The data files (``s3://`` URLs) the EMR export's ``manifest`` under ``prefix`` lists."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read())
    return [entry["url"] for entry in manifest.get("entries", [])]


def inspect_backup(s3: S3Client, directory_uri: str, count_items: bool = True) -> BackupCheck:
    """Check a table's export directory: marker, manifest, data files (and items when small)."""
    bucket, prefix = split_s3_uri(directory_uri if directory_uri.endswith("/") else directory_uri + "/")
    files = list_directory(s3, bucket, prefix)
    if SUCCESS_MARKER not in files:
        return BackupCheck(complete=False, reason=f"no {SUCCESS_MARKER} marker in {directory_uri}")
    if MANIFEST not in files:
        return BackupCheck(complete=False, reason=f"no manifest in {directory_uri}")
    data_files = manifest_urls(s3, bucket, prefix)
    missing = [url for url in data_files if split_s3_uri(url)[1][len(prefix) :] not in files]
    if missing:
        return BackupCheck(complete=False, reason=f"manifest lists {len(missing)} missing data file(s)")
    listed = [
        DataFile(key=prefix + relative, size=files[relative][0], etag=normalise_etag(files[relative][1]))
        for relative in (split_s3_uri(url)[1][len(prefix) :] for url in data_files)
    ]
    size = sum(file.size for file in listed)
    items = None
    if count_items and size <= COUNT_ITEMS_UP_TO_BYTES:
        items = 0
        for url in data_files:
            lines = s3.get_object(Bucket=bucket, Key=split_s3_uri(url)[1])["Body"].iter_lines(STREAM_CHUNK_BYTES)
            try:
                items += count_item_lines(lines, check_first=1)
            except InvalidExportLineError as error:
                return BackupCheck(
                    complete=False, reason=f"data file {url} cannot be restored by DynamoDBImport: {error}"
                )
    return BackupCheck(complete=True, items=items, bytes=size, data_files=data_files, listed_files=listed)
