"""DynamoDB's native export (ExportTableToPointInTime): its S3 layout, and checking one export.

Pure: no AWS calls. An export to ``S3Prefix = <table>/<timestamp>`` writes (DynamoDB developer
guide, "DynamoDB table export output format")::

    <table>/<timestamp>/AWSDynamoDB/<ExportId>/_started
    <table>/<timestamp>/AWSDynamoDB/<ExportId>/manifest-summary.json   (+ .checksum)
    <table>/<timestamp>/AWSDynamoDB/<ExportId>/manifest-files.json     (+ .checksum)
    <table>/<timestamp>/AWSDynamoDB/<ExportId>/data/<name>.json.gz

``manifest-summary.json`` is one JSON object (``itemCount``, ``manifestFilesS3Key``, ``exportTime``
...). ``manifest-files.json`` is JSON lines, one per data file:
``{"itemCount", "md5Checksum" (base64 MD5 of the file), "etag", "dataFileS3Key" (the full key)}``.
Each data file is gzipped JSON lines of ``{"Item": {<DynamoDB JSON>}}``: "DynamoDB's standard
marshalled JSON format" (same page), the API's own, where binary is base64 text (DynamoDB API
reference, AttributeValue: ``B`` and ``BS`` are "Base64-encoded binary data"). See
:func:`export_data_line` and :func:`item_from_export_line`.

An export is verified when every data file the files manifest lists exists with the listed ETag
(and, when the export is small enough to read, the listed MD5), the per-file item counts add up
to the summary's ``itemCount``, and both manifests are there.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hippolyte.backup_manifest import DataFile, Listing, normalise_etag
from hippolyte.errors import InvalidExportLineError
from hippolyte.models import NonNegativeInt

EXPORT_DIRECTORY = "AWSDynamoDB"
SUMMARY_NAME = "manifest-summary.json"
FILES_NAME = "manifest-files.json"


class ExportCheck(BaseModel):
    """What one completed export holds, or why it cannot be trusted."""

    complete: bool
    reason: str = ""
    items: NonNegativeInt | None = None
    bytes: NonNegativeInt = 0
    data_files: list[DataFile] = Field(default_factory=list)
    required_files: list[str] = Field(default_factory=list)
    export_time: datetime | None = None


def export_client_token(run_id: str, table: str) -> str:
    """ExportTableToPointInTime's ClientToken: the same for a retried start of the same run and table.

    DynamoDB treats a repeated token with the same parameters as the same export for 8 hours.

    >>> export_client_token("nightly-1", "orders") == export_client_token("nightly-1", "orders")
    True
    >>> export_client_token("nightly-1", "orders") != export_client_token("nightly-2", "orders")
    True
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hippolyte:export:{run_id}:{table}"))


def export_id(export_arn: str) -> str:
    """The ExportId of an export's ARN.

    >>> export_id("arn:aws:dynamodb:us-east-1:123456789012:table/T/export/01692350182719-6de2c037")
    '01692350182719-6de2c037'
    """
    return export_arn.rsplit("/export/", 1)[-1]


def export_root(prefix: str, export_arn: str) -> str:
    """The key prefix of one export's files (with a trailing slash).

    >>> export_root("orders/2026-11-28-00-10-00", "arn:aws:dynamodb:r:1:table/orders/export/0169-ab")
    'orders/2026-11-28-00-10-00/AWSDynamoDB/0169-ab/'
    """
    return f"{prefix.rstrip('/')}/{EXPORT_DIRECTORY}/{export_id(export_arn)}/"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_export(
    summary_key: str,
    summary: Mapping[str, Any],
    files: list[Mapping[str, Any]],
    listing: Listing,
    md5s: Mapping[str, str] | None = None,
) -> ExportCheck:
    """Verify one export from its two manifests, the S3 listing of its files and (optionally) their MD5s.

    ``listing`` maps keys to (size, ETag); ``md5s`` maps data file keys to the base64 MD5 of
    their content, for the files that were read.

    >>> root = "p/AWSDynamoDB/1/"
    >>> summary = {"itemCount": 2, "manifestFilesS3Key": root + "manifest-files.json"}
    >>> data = root + "data/a.json.gz"
    >>> files = [{"itemCount": 2, "md5Checksum": "bQ==", "etag": "e1", "dataFileS3Key": data}]
    >>> listing = {root + "manifest-summary.json": (10, "s"), root + "manifest-files.json": (5, "f"),
    ...            data: (40, '"e1"')}
    >>> check_export(root + "manifest-summary.json", summary, files, listing).items
    2
    >>> check_export(root + "manifest-summary.json", summary, files, listing, {data: "xx"}).reason
    'data file p/AWSDynamoDB/1/data/a.json.gz: MD5 xx, the files manifest says bQ== (checksum mismatch)'
    """
    files_key = summary.get("manifestFilesS3Key")
    if not isinstance(files_key, str) or not files_key:
        return ExportCheck(complete=False, reason=f"{summary_key} names no manifestFilesS3Key")
    for required in (summary_key, files_key):
        if required not in listing:
            return ExportCheck(complete=False, reason=f"{required} is missing")
    data_files: list[DataFile] = []
    for position, entry in enumerate(files):
        key, count = entry.get("dataFileS3Key"), entry.get("itemCount")
        if not isinstance(key, str) or not isinstance(count, int) or count < 0:
            return ExportCheck(complete=False, reason=f"{files_key} line {position + 1} is not a data file entry")
        found = listing.get(key)
        if found is None:
            return ExportCheck(complete=False, reason=f"data file {key} is missing")
        size, etag = found
        listed_etag = str(entry.get("etag", ""))
        if listed_etag and normalise_etag(etag) != normalise_etag(listed_etag):
            return ExportCheck(complete=False, reason=f"data file {key}: ETag differs from the files manifest")
        md5 = str(entry.get("md5Checksum", ""))
        if md5s is not None and key in md5s and md5s[key] != md5:
            return ExportCheck(
                complete=False,
                reason=f"data file {key}: MD5 {md5s[key]}, the files manifest says {md5} (checksum mismatch)",
            )
        data_files.append(DataFile(key=key, size=size, etag=normalise_etag(etag), md5=md5 or None, items=count))
    total = sum(data_file.items or 0 for data_file in data_files)
    expected = summary.get("itemCount")
    if isinstance(expected, int) and expected != total:
        return ExportCheck(complete=False, reason=f"the data files hold {total} items, the summary says {expected}")
    return ExportCheck(
        complete=True,
        items=total,
        bytes=sum(data_file.size for data_file in data_files),
        data_files=data_files,
        required_files=[summary_key, files_key],
        export_time=_parse_time(summary.get("exportTime")),
    )


def _to_json_value(attribute: Mapping[str, Any]) -> dict[str, Any]:
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {kind: base64.b64encode(value).decode("ascii")}
    if kind == "BS":
        return {kind: [base64.b64encode(member).decode("ascii") for member in value]}
    if kind == "M":
        return {kind: {name: _to_json_value(inner) for name, inner in value.items()}}
    if kind == "L":
        return {kind: [_to_json_value(inner) for inner in value]}
    return {kind: value}


def _from_json_value(attribute: Any, where: str) -> dict[str, Any]:
    if not isinstance(attribute, dict) or len(attribute) != 1:
        raise InvalidExportLineError(f"{where}: {attribute!r} is not an attribute value with one type")
    ((kind, value),) = attribute.items()
    try:
        if kind == "B":
            return {kind: base64.b64decode(value, validate=True)}
        if kind == "BS":
            return {kind: [base64.b64decode(member, validate=True) for member in value]}
    except (binascii.Error, TypeError, ValueError):
        raise InvalidExportLineError(f"{where}: {kind} is not base64") from None
    if kind == "M":
        return {kind: {name: _from_json_value(inner, f"{where}.{name}") for name, inner in value.items()}}
    if kind == "L":
        return {kind: [_from_json_value(inner, f"{where}[{n}]") for n, inner in enumerate(value)]}
    return {kind: value}


def export_data_line(item: Mapping[str, Any]) -> str:
    """One item (as boto3's low-level client gives it: binary as bytes) as a DYNAMODB_JSON export line.

    >>> export_data_line({"id": {"B": b"\\x00\\xff"}, "tags": {"BS": [b"a"]}, "n": {"L": [{"N": "1"}]}})
    '{"Item": {"id": {"B": "AP8="}, "tags": {"BS": ["YQ=="]}, "n": {"L": [{"N": "1"}]}}}'
    """
    return json.dumps({"Item": {name: _to_json_value(value) for name, value in item.items()}})


def item_from_export_line(line: str | bytes) -> dict[str, Any]:
    """The item of a DYNAMODB_JSON export line, with binary as bytes (InvalidExportLineError otherwise).

    >>> item_from_export_line('{"Item": {"id": {"B": "AP8="}, "m": {"M": {"x": {"BS": ["YQ=="]}}}}}')
    {'id': {'B': b'\\x00\\xff'}, 'm': {'M': {'x': {'BS': [b'a']}}}}
    """
    try:
        document = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidExportLineError(f"not JSON: {error}") from None
    item = document.get("Item") if isinstance(document, dict) else None
    if not isinstance(item, dict):
        raise InvalidExportLineError("the line has no Item object")
    return {name: _from_json_value(value, name) for name, value in item.items()}
