"""Verifying a large backup streams its data files: counts and checksums come chunk by chunk.

A data file of several MB (generated) is verified through an S3 client whose bodies record every
read: the adapters never read a data file whole (``read()`` without a size), only in chunks of
at most STREAM_CHUNK_BYTES, and the results are those of reading it whole.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from hippolyte.adapters import backup_files, exports
from hippolyte.adapters.backup_files import inspect_backup
from hippolyte.adapters.exports import read_export
from moto import mock_aws

REGION = "us-east-1"
BUCKET = "hippolyte-dev-backups"
EXPORT_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/01700000000000-abcdef12"
LARGE_BYTES = 6 * 1024**2


class RecordingBody(StreamingBody):
    """botocore's StreamingBody, recording the size asked for by every read."""

    def __init__(self, body: StreamingBody, reads: list[int | None]) -> None:
        super().__init__(body._raw_stream, body._content_length)
        self.reads = reads

    def read(self, amt: int | None = None) -> bytes:
        self.reads.append(amt)
        return super().read(amt)


class RecordingS3:
    """An S3 client whose GetObject bodies record their reads, by key."""

    def __init__(self, s3: Any) -> None:
        self._s3 = s3
        self.reads: dict[str, list[int | None]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def get_object(self, **kwargs: Any) -> Any:
        response = self._s3.get_object(**kwargs)
        response["Body"] = RecordingBody(response["Body"], self.reads.setdefault(kwargs["Key"], []))
        return response


@pytest.fixture
def s3() -> Iterator[RecordingS3]:
    with mock_aws():
        client = boto3.client("s3", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        yield RecordingS3(client)


def assert_streamed(s3: RecordingS3, key: str, chunk: int) -> None:
    reads = s3.reads[key]
    assert reads, f"{key} was never read"
    assert None not in reads, f"{key} was read whole"
    assert max(size for size in reads if size is not None) <= chunk


def test_a_large_emr_data_file_is_counted_line_by_line_without_reading_it_whole(s3: RecordingS3) -> None:
    # GIVEN an EMR export directory whose data file holds several MB of items
    prefix = "orders/2026-11-28-00-10-00/"
    lines, size, number = [], 0, 0
    while size < LARGE_BYTES:
        number += 1
        line = f'{{"id":{{"s":"order-{number}"}},"note":{{"s":"{"x" * 200}"}}}}'
        lines.append(line)
        size += len(line) + 1
    s3.put_object(Bucket=BUCKET, Key=prefix + "part-0", Body=("\n".join(lines) + "\n").encode())
    manifest = {"name": "DynamoDB-export", "version": 3, "entries": [{"url": f"s3://{BUCKET}/{prefix}part-0"}]}
    s3.put_object(Bucket=BUCKET, Key=prefix + "manifest", Body=json.dumps(manifest).encode())
    s3.put_object(Bucket=BUCKET, Key=prefix + "_SUCCESS", Body=b"")
    # WHEN the directory is verified
    check = inspect_backup(s3, f"s3://{BUCKET}/{prefix}")  # type: ignore[arg-type]
    # THEN every item is counted, as reading the file whole would count them
    assert check.complete and check.items == number and check.bytes == size
    # AND the data file was streamed in bounded chunks, never read whole
    assert_streamed(s3, prefix + "part-0", backup_files.STREAM_CHUNK_BYTES)


def write_native_export(s3: RecordingS3, data: bytes, md5: str) -> dict[str, Any]:
    """A native export's layout (AWS's documented one) around one data file; its DescribeExport."""
    root = "orders/2026-11-28-00-10-00/AWSDynamoDB/01700000000000-abcdef12/"
    data_key = root + "data/a1b2c3.json.gz"
    s3.put_object(Bucket=BUCKET, Key=data_key, Body=data)
    entry = {"itemCount": 1000, "md5Checksum": md5, "etag": "", "dataFileS3Key": data_key}
    s3.put_object(Bucket=BUCKET, Key=root + "manifest-files.json", Body=(json.dumps(entry) + "\n").encode())
    summary = {"itemCount": 1000, "manifestFilesS3Key": root + "manifest-files.json"}
    s3.put_object(Bucket=BUCKET, Key=root + "manifest-summary.json", Body=json.dumps(summary).encode())
    return {"S3Bucket": BUCKET, "ExportArn": EXPORT_ARN, "S3Prefix": "orders/2026-11-28-00-10-00"}


def test_a_large_native_export_is_checksummed_chunk_by_chunk(s3: RecordingS3) -> None:
    # GIVEN a native export whose data file is several MB, with its MD5 in the files manifest
    data = random.Random(7).randbytes(LARGE_BYTES)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    description = write_native_export(s3, data, md5)
    # WHEN it is read back and checked
    check = read_export(s3, description)  # type: ignore[arg-type]
    # THEN the recomputed MD5 matches, as hashing the whole file would
    assert check.complete, check.reason
    assert check.items == 1000 and check.bytes == LARGE_BYTES
    # AND the data file was hashed in bounded chunks, never read whole
    assert_streamed(
        s3,
        description["S3Prefix"] + "/AWSDynamoDB/01700000000000-abcdef12/data/a1b2c3.json.gz",
        exports.STREAM_CHUNK_BYTES,
    )


def test_a_large_native_export_with_a_wrong_checksum_is_refused(s3: RecordingS3) -> None:
    # GIVEN the same export, its files manifest listing another MD5
    data = random.Random(7).randbytes(LARGE_BYTES)
    wrong = base64.b64encode(hashlib.md5(data + b"x").digest()).decode()
    # WHEN it is checked
    check = read_export(s3, write_native_export(s3, data, wrong))  # type: ignore[arg-type]
    # THEN the mismatch is found, streamed as it is
    assert not check.complete and "checksum mismatch" in check.reason
