"""Reading backups back and comparing them with tables, item for item (demo and tests)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from hippolyte.adapters.backup_files import MANIFEST, split_s3_uri
from hippolyte.emr_export_format import parse_data_file

_SETS = ("SS", "NS", "BS")


def _canonical_value(attribute: Mapping[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {kind: base64.b64encode(value).decode("ascii")}
    if kind == "BS":
        value = [base64.b64encode(member).decode("ascii") for member in value]
    if kind in _SETS:
        # DynamoDB's sets have no order.
        return {kind: sorted(value)}
    if kind == "M":
        return {kind: _canonical_item(value)}
    if kind == "L":
        return {kind: [_canonical_value(element) for element in value]}
    return {kind: value}


def _canonical_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _canonical_value(value) for name, value in item.items()}


def _key(item: Mapping[str, Any]) -> str:
    return json.dumps(_canonical_item(item), sort_keys=True)


def table_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, in DynamoDB JSON (binary as bytes, as boto3 gives it)."""
    return [item for page in dynamodb.get_paginator("scan").paginate(TableName=table) for item in page.get("Items", [])]


def backup_items(s3: Any, directory: str) -> list[dict[str, Any]]:
    """Every item of an export directory, read through its manifest as DynamoDBImport reads the lines."""
    bucket, prefix = split_s3_uri(directory if directory.endswith("/") else directory + "/")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read())
    items: list[dict[str, Any]] = []
    for entry in manifest["entries"]:
        data_bucket, key = split_s3_uri(entry["url"])
        items.extend(parse_data_file(s3.get_object(Bucket=data_bucket, Key=key)["Body"].read()))
    return items


def same_items(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> bool:
    """Whether two lists hold the same items, in any order (and sets in any order).

    >>> same_items([{"t": {"SS": ["a", "b"]}, "b": {"B": b"1"}}], [{"b": {"B": b"1"}, "t": {"SS": ["b", "a"]}}])
    True
    >>> same_items([{"b": {"B": b"1"}}], [{"b": {"B": b"2"}}])
    False
    """
    return sorted(map(_key, left)) == sorted(map(_key, right))
