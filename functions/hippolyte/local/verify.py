"""Reading backups back and comparing them with tables, item for item (demo and tests)."""

from __future__ import annotations

import json
from typing import Any

from hippolyte.adapters.backup_files import MANIFEST, split_s3_uri


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


def table_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    """Every item of a table, in DynamoDB JSON."""
    return [item for page in dynamodb.get_paginator("scan").paginate(TableName=table) for item in page.get("Items", [])]


def backup_items(s3: Any, directory: str) -> list[dict[str, Any]]:
    """Every item of an export directory, read through its manifest."""
    bucket, prefix = split_s3_uri(directory if directory.endswith("/") else directory + "/")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read())
    items: list[dict[str, Any]] = []
    for entry in manifest["entries"]:
        data_bucket, key = split_s3_uri(entry["url"])
        body = s3.get_object(Bucket=data_bucket, Key=key)["Body"].read().decode()
        items.extend(json.loads(line) for line in body.splitlines() if line)
    return items


def same_items(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> bool:
    """Whether two lists hold the same items, in any order."""
    return sorted(map(_key, left)) == sorted(map(_key, right))
