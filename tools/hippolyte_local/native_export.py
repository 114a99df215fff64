"""Playing DynamoDB's native export in the local run, with the files AWS really writes.

moto 5.2.5's ExportTableToPointInTime (``moto.dynamodb.models.table_export.TableExport``) writes
one gzip file of ``{"Item": ...}`` lines under ``<prefix>/AWSDynamoDB/<uuid>/data/`` and nothing
else: no ``manifest-summary.json``, no ``manifest-files.json``, an export ARN that embeds the table
ARN under ``/import/``, no ClientToken idempotency and no ``ExportManifest`` in DescribeExport.
Hippolyte verifies exports through those manifests, so :class:`LocalNativeExports` replaces two
actions of moto's DynamoDB handler (``DynamoHandler.export_table_to_point_in_time`` and
``DynamoHandler.describe_export``) with an emulation that writes AWS's documented layout
(DynamoDB developer guide, "DynamoDB table export output format")::

    <prefix>/AWSDynamoDB/<ExportId>/_started
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz        gzipped lines {"Item": {...}}
        (DynamoDB JSON as the API writes it: binary as base64 text, {"B": "AP8="}, {"BS": [...]})
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json        one line per data file:
        {"itemCount", "md5Checksum" (base64 MD5), "etag", "dataFileS3Key" (the full key)}
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json      itemCount, manifestFilesS3Key, ...
    (and a .checksum next to each manifest)

and answers with AWS's shapes: ARNs ``table/<name>/export/<14 digits>-<8 hex>``, a ClientToken
that returns the same export for the same parameters (IdempotentParameterMismatchException
otherwise), PITR required, ``ExportManifest`` naming the summary's key. The export runs in a
thread, IN_PROGRESS until its files are written, then COMPLETED (or FAILED for a table in
``fail_tables``). ``corrupt_tables`` writes a wrong MD5 in the files manifest, as a damaged export
would look. Exports are kept in moto's backend (``table_exports``), so ListExports sees them.

Not emulated: ExportTime in the past (the export reads the table as it is), incremental exports,
ION, KMS, another account's bucket, the 300-exports quota, and the exact content of the
``.checksum`` files (hex MD5 of the manifest here).

ImportTable is moto's (``TableImport``): it creates the table with its keys and global indexes and
loads every ``{"Item": ...}`` line under the given S3KeyPrefix, which is what AWS does with an
export's ``data/`` directory. moto 5.2.5 reads those lines with py_partiql_parser's JsonParser,
which keeps escapes as they are (``\\n`` stays two characters, ``\\"`` ends the string) and
drops a line holding an empty map; while entered, :class:`LocalNativeExports` has each line read
as JSON instead (``TableImport._process_s3_files`` replaced; the table is created as moto does).
Its ClientToken is added too: a repeated call with the same token and parameters returns the
first import, as AWS documents (moto ignores the token and fails the repeat).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import boto3
from hippolyte.export_format import export_data_line, item_from_export_line
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, PointInTimeRecoveryUnavailable, TableNotFoundException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table_import import TableImport
from moto.dynamodb.responses import DynamoHandler

ITEMS_PER_DATA_FILE = 200
_NAME_CHARS = string.ascii_lowercase + string.digits


def _error(name: str, message: str) -> JsonRESTError:
    return JsonRESTError(ERROR_TYPE_PREFIX + name, message)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


class LocalExport:
    """One export: its request, its state, and what DescribeExport reports."""

    def __init__(self, arn: str, table: Any, request: dict[str, Any], start_time: datetime) -> None:
        self.arn, self.table, self.request = arn, table, request
        self.export_id = arn.rsplit("/", 1)[1]
        self.status = "IN_PROGRESS"
        self.export_type = "FULL_EXPORT"
        self.start_time = start_time
        self.export_time = self.start_time
        self.end_time: datetime | None = None
        self.item_count = 0
        self.billed_size_bytes = 0
        self.failure_code: str | None = None
        self.failure_message: str | None = None
        prefix = request.get("S3Prefix") or ""
        self.root = (
            f"{prefix.rstrip('/')}/AWSDynamoDB/{self.export_id}/" if prefix else f"AWSDynamoDB/{self.export_id}/"
        )

    @property
    def summary_key(self) -> str:
        """Key of the export's manifest-summary.json."""
        return self.root + "manifest-summary.json"

    def response(self) -> dict[str, Any]:
        """DescribeExport's ``ExportDescription``."""
        result: dict[str, Any] = {
            "ExportArn": self.arn,
            "ExportStatus": self.status,
            "StartTime": self.start_time,
            "TableArn": self.table.table_arn,
            "ExportTime": self.export_time,
            "ClientToken": self.request.get("ClientToken"),
            "S3Bucket": self.request["S3Bucket"],
            "S3Prefix": self.request.get("S3Prefix") or "",
            "S3SseAlgorithm": self.request.get("S3SseAlgorithm", "AES256"),
            "ExportFormat": self.request.get("ExportFormat", "DYNAMODB_JSON"),
            "ExportType": self.export_type,
        }
        if self.status == "COMPLETED":
            result.update(
                {
                    "EndTime": self.end_time,
                    "ExportManifest": self.summary_key,
                    "ItemCount": self.item_count,
                    "BilledSizeBytes": self.billed_size_bytes,
                }
            )
        if self.status == "FAILED":
            result.update(
                {
                    "EndTime": self.end_time,
                    "FailureCode": self.failure_code,
                    "FailureMessage": self.failure_message,
                }
            )
        return {key: value for key, value in result.items() if value is not None}


class LocalNativeExports:
    """While entered, ExportTableToPointInTime and DescribeExport behave as on AWS (see module doc)."""

    def __init__(
        self,
        region: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        delay_seconds: float = 0.0,
        fail_tables: set[str] | None = None,
        corrupt_tables: set[str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.region, self.account_id, self.delay_seconds = region, account_id, delay_seconds
        # The run's time source: exports start and end on the same clock as the handlers.
        self.clock = clock or (lambda: datetime.now(UTC))
        self.fail_tables = fail_tables if fail_tables is not None else set()
        self.corrupt_tables = corrupt_tables if corrupt_tables is not None else set()
        self.exports: dict[str, LocalExport] = {}
        self._tokens: dict[str, tuple[str, tuple[Any, ...]]] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._rng = random.Random(11)
        self._s3 = boto3.client("s3", region_name=region)
        self._dynamodb = boto3.client("dynamodb", region_name=region)
        self._patches: list[Any] = []

    def __enter__(self) -> LocalNativeExports:
        emulation = self

        def export_table_to_point_in_time(handler: DynamoHandler) -> ActionResult:
            return ActionResult({"ExportDescription": emulation.start(handler.body).response()})

        def describe_export(handler: DynamoHandler) -> ActionResult:
            export = emulation.exports.get(handler.body["ExportArn"])
            if export is None:
                raise _error("ExportNotFoundException", f"Export not found: {handler.body['ExportArn']}")
            return ActionResult({"ExportDescription": export.response()})

        original_import_table = DynamoHandler.import_table
        import_tokens: dict[str, tuple[str, str]] = {}

        def import_table(handler: DynamoHandler) -> ActionResult:
            # ImportTable's ClientToken makes the call idempotent: "multiple identical calls have
            # the same effect as one single call"; the same token with other parameters is an
            # IdempotentParameterMismatchException (DynamoDB API Reference, ImportTable). moto
            # ignores the token and fails the repeat with "Table already exists".
            token = handler.body.get("ClientToken")
            parameters = json.dumps({k: v for k, v in handler.body.items() if k != "ClientToken"}, sort_keys=True)
            with emulation._lock:
                if token and token in import_tokens:
                    arn, earlier = import_tokens[token]
                    if earlier != parameters:
                        raise _error(
                            "IdempotentParameterMismatchException", "ClientToken was used with different parameters"
                        )
                    table_import = handler.dynamodb_backend.describe_import(arn)
                    return ActionResult({"ImportTableDescription": table_import.response()})
                result = original_import_table(handler)
                if token:
                    description = result.result["ImportTableDescription"]  # type: ignore[index]
                    import_tokens[token] = (description["ImportArn"], parameters)
                return result

        self._patches = [
            mock.patch.object(DynamoHandler, "export_table_to_point_in_time", export_table_to_point_in_time),
            mock.patch.object(DynamoHandler, "describe_export", describe_export),
            mock.patch.object(DynamoHandler, "import_table", import_table),
            mock.patch.object(TableImport, "_process_s3_files", _import_json_lines),
        ]
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=10)
        for patch in reversed(self._patches):
            patch.stop()

    def start(self, body: dict[str, Any]) -> LocalExport:
        """Start an export (or return the one a repeated ClientToken names)."""
        backend = dynamodb_backends[self.account_id][self.region]
        table_arn = body["TableArn"]
        table = next((t for t in backend.tables.values() if t.table_arn == table_arn), None)
        if table is None:
            raise TableNotFoundException(name=table_arn)
        if table.continuous_backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] != "ENABLED":
            raise PointInTimeRecoveryUnavailable(name=table.name)
        token = body.get("ClientToken")
        parameters = (
            table_arn,
            body["S3Bucket"],
            body.get("S3Prefix") or "",
            body.get("ExportFormat", "DYNAMODB_JSON"),
        )
        with self._lock:
            if token and token in self._tokens:
                arn, earlier = self._tokens[token]
                if earlier != parameters:
                    raise _error(
                        "IdempotentParameterMismatchException",
                        "ClientToken was used with different parameters",
                    )
                return self.exports[arn]
            started = self.clock()
            export_id = f"{int(started.timestamp() * 1000):014d}-{self._rng.getrandbits(32):08x}"
            arn = f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{table.name}/export/{export_id}"
            export = LocalExport(arn, table, dict(body), started)
            self.exports[arn] = export
            backend.table_exports[arn] = export  # type: ignore[assignment]
            if token:
                self._tokens[token] = (arn, parameters)
        thread = threading.Thread(target=self._run, args=(export,), name=f"local-export-{export_id}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return export

    def _put(self, bucket: str, key: str, body: bytes) -> str:
        etag = self._s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")["ETag"]
        return str(etag).strip('"')

    def _run(self, export: LocalExport) -> None:
        try:
            self._write(export)
        except Exception as error:
            export.status, export.failure_code, export.failure_message = "FAILED", "InternalError", str(error)
            export.end_time = self.clock()

    def _write(self, export: LocalExport) -> None:
        bucket, root, name = export.request["S3Bucket"], export.root, export.table.name
        if self.delay_seconds:
            self._stop.wait(self.delay_seconds)
        if self._stop.is_set():
            return
        try:
            self._s3.head_bucket(Bucket=bucket)
        except Exception:
            export.status, export.failure_code = "FAILED", "S3NoSuchBucket"
            export.failure_message, export.end_time = "The specified bucket does not exist", self.clock()
            return
        self._put(bucket, root + "_started", b"")
        pages = self._dynamodb.get_paginator("scan").paginate(TableName=name)
        items = [item for page in pages for item in page.get("Items", [])]
        if name in self.fail_tables:
            export.status, export.failure_code = "FAILED", "InternalError"
            export.failure_message, export.end_time = (
                f"export of {name} failed (injected fault)",
                self.clock(),
            )
            return
        lines = []
        # An empty table still gets one (empty) data file, as an empty partition does on AWS.
        for start in range(0, max(len(items), 1), ITEMS_PER_DATA_FILE):
            chunk = items[start : start + ITEMS_PER_DATA_FILE]
            body = gzip.compress("".join(export_data_line(item) + "\n" for item in chunk).encode(), mtime=0)
            key = f"{root}data/{''.join(self._rng.choice(_NAME_CHARS) for _ in range(26))}.json.gz"
            etag = self._put(bucket, key, body)
            md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
            if name in self.corrupt_tables and start == 0:
                md5 = base64.b64encode(hashlib.md5(b"not the file").digest()).decode()
            lines.append({"itemCount": len(chunk), "md5Checksum": md5, "etag": etag, "dataFileS3Key": key})
            export.billed_size_bytes += len(body)
        files_body = "".join(json.dumps(line) + "\n" for line in lines).encode()
        self._put(bucket, root + "manifest-files.json", files_body)
        self._put(bucket, root + "manifest-files.checksum", hashlib.md5(files_body).hexdigest().encode())
        export.item_count, export.end_time = len(items), self.clock()
        summary = {
            "version": "2020-06-30",
            "exportArn": export.arn,
            "startTime": _iso(export.start_time),
            "endTime": _iso(export.end_time),
            "tableArn": export.table.table_arn,
            "tableId": None,
            "exportTime": _iso(export.export_time),
            "s3Bucket": bucket,
            "s3Prefix": export.request.get("S3Prefix"),
            "s3SseAlgorithm": export.request.get("S3SseAlgorithm", "AES256"),
            "s3SseKmsKeyId": None,
            "manifestFilesS3Key": root + "manifest-files.json",
            "billedSizeBytes": export.billed_size_bytes,
            "itemCount": len(items),
            "outputFormat": "DYNAMODB_JSON",
            "exportType": "FULL_EXPORT",
        }
        summary_body = json.dumps(summary).encode()
        self._put(bucket, export.summary_key, summary_body)
        self._put(bucket, root + "manifest-summary.checksum", hashlib.md5(summary_body).hexdigest().encode())
        if not self._stop.is_set():
            export.status = "COMPLETED"


def _import_json_lines(self: TableImport, s3_backend: Any, bucket: Any) -> None:
    """TableImport's loading with each line read as JSON (see the module's docstring)."""
    backend = dynamodb_backends[self.account_id][self.region_name]
    self.table = backend.create_table(
        name=self.table_name,
        billing_mode=self.billing_mode,
        throughput=self.throughput,
        schema=self.key_schema,
        global_indexes=self.global_indexes,
        indexes=None,
        attr=self.attrs,
        sse_specification=None,
        streams=None,
        tags=[],
        deletion_protection_enabled=False,
        warm_throughput=None,
    )
    keys, _, _, _ = s3_backend.list_objects(
        bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None, marker=None, max_keys=None
    )
    for key in keys:
        body = gzip.decompress(key.value) if self.compression_type == "GZIP" else key.value
        # JSON lines: "\n" ends a line (str.splitlines would also split on U+2028 and others).
        for line in body.split(b"\n"):
            if not line.strip():
                continue
            self.processed_count += 1
            self.processed_bytes += len(line)
            try:
                self.table.put_item(item_attrs=json.loads(line)["Item"])
                self.imported_count += 1
            except Exception as error:  # one bad line is counted, as ImportTable's ErrorCount does
                self.failure_message = str(error)
                self.error_count += 1
    self.status = "COMPLETED" if self.error_count == 0 else "FAILED"


def export_items(s3: Any, directory: str) -> list[dict[str, Any]]:
    """Every item of a native export under a backup directory, read through its files manifest.

    The counterpart of :func:`hippolyte_local.verify.backup_items` for the export engine's layout.
    """
    bucket, _, prefix = directory.removeprefix("s3://").partition("/")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    ]
    summaries = [key for key in keys if key.endswith("/manifest-summary.json")]
    if len(summaries) != 1:
        raise ValueError(f"{directory} holds {len(summaries)} exports, not one")
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summaries[0])["Body"].read())
    files = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read().decode()
    items: list[dict[str, Any]] = []
    for line in filter(None, files.splitlines()):
        body = gzip.decompress(s3.get_object(Bucket=bucket, Key=json.loads(line)["dataFileS3Key"])["Body"].read())
        items.extend(item_from_export_line(record) for record in body.decode().splitlines() if record)
    return items
