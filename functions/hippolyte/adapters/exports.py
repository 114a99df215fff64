"""DynamoDB's native export: start one (idempotently), describe it, read and check its files.

Data files are streamed (hashed chunk by chunk), never read whole: an export's files add up to
hundreds of MB, far more than a Lambda function should hold.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from hippolyte.adapters.aws_errors import error_code, error_message
from hippolyte.adapters.backup_catalog import list_prefix
from hippolyte.errors import ExportLimitReachedError, ExportRefusedError
from hippolyte.export_format import SUMMARY_NAME, ExportCheck, check_export, export_root

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import ExportDescriptionTypeDef, ExportTableToPointInTimeInputTypeDef
    from types_boto3_s3 import S3Client

# The data files' MD5s are recomputed (the export read back in full) up to this total size;
# beyond it the check relies on the ETags S3 reports, which the files manifest lists too.
MD5_CHECK_UP_TO_BYTES = 512 * 1024**2
# Objects are read this much at a time (StreamingBody.iter_chunks / iter_lines), never whole: a
# Lambda function's memory holds one chunk of a data file, however large the file.
STREAM_CHUNK_BYTES = 1024**2


def start_export(
    dynamodb: DynamoDBClient, table_arn: str, bucket: str, prefix: str, client_token: str, kms_key_arn: str = ""
) -> str:
    """ExportTableToPointInTime of the table as it is now, into ``s3://bucket/prefix/``; returns the ARN.

    The same ``client_token`` with the same parameters returns the same export (for 8 hours,
    DynamoDB API reference), so a retried state never starts a second export. A refusal raises
    :class:`ExportLimitReachedError` at the account's limit of exports in flight (its
    LimitExceededException: 300 exports, or 100 TB, DynamoDB service quotas), and
    :class:`ExportRefusedError` otherwise (PITR off, the table gone, ...). With ``kms_key_arn`` the
    export's files are encrypted with that key (S3SseAlgorithm KMS), as the bucket's own are.
    """
    request: ExportTableToPointInTimeInputTypeDef = {
        "TableArn": table_arn,
        "ClientToken": client_token,
        "S3Bucket": bucket,
        "S3Prefix": prefix,
        "S3SseAlgorithm": "KMS" if kms_key_arn else "AES256",
        "ExportFormat": "DYNAMODB_JSON",
        "ExportType": "FULL_EXPORT",
    }
    if kms_key_arn:
        request["S3SseKmsKeyId"] = kms_key_arn
    try:
        description = dynamodb.export_table_to_point_in_time(**request)["ExportDescription"]
    except ClientError as error:
        code = error_code(error)
        refusal = ExportLimitReachedError if code == "LimitExceededException" else ExportRefusedError
        raise refusal(code, error_message(error)) from error
    return str(description["ExportArn"])


def describe_export(dynamodb: DynamoDBClient, export_arn: str) -> ExportDescriptionTypeDef:
    """DescribeExport's ``ExportDescription``."""
    return dynamodb.describe_export(ExportArn=export_arn)["ExportDescription"]


def _md5_base64(body: StreamingBody) -> str:
    """The base64 MD5 of an object's content, hashed chunk by chunk as it streams in."""
    digest = hashlib.md5()
    for chunk in body.iter_chunks(STREAM_CHUNK_BYTES):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def read_export(
    s3: S3Client, description: Mapping[str, Any], md5_up_to_bytes: int = MD5_CHECK_UP_TO_BYTES
) -> ExportCheck:
    """Read a COMPLETED export's manifests and listing, and check it (see export_format)."""
    bucket, arn = description["S3Bucket"], description["ExportArn"]
    root = export_root(description.get("S3Prefix", ""), arn)
    summary_key = description.get("ExportManifest") or root + SUMMARY_NAME
    listing = list_prefix(s3, bucket, root)
    if summary_key not in listing:
        return ExportCheck(complete=False, reason=f"{summary_key} is missing")
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
    files_key = summary.get("manifestFilesS3Key")
    if not isinstance(files_key, str) or files_key not in listing:
        return ExportCheck(complete=False, reason=f"the files manifest {files_key} is missing")
    lines = s3.get_object(Bucket=bucket, Key=files_key)["Body"].iter_lines(STREAM_CHUNK_BYTES)
    try:
        files = [json.loads(line) for line in lines if line.strip()]
    except ValueError:  # not JSON, or not UTF-8
        return ExportCheck(complete=False, reason=f"{files_key} is not JSON lines")
    keys = [entry.get("dataFileS3Key") for entry in files if isinstance(entry, dict)]
    md5s = None
    if sum(listing.get(key, (0, ""))[0] for key in keys if isinstance(key, str)) <= md5_up_to_bytes:
        md5s = {
            key: _md5_base64(s3.get_object(Bucket=bucket, Key=key)["Body"])
            for key in keys
            if isinstance(key, str) and key in listing
        }
    return check_export(summary_key, summary, files, listing, md5s)
