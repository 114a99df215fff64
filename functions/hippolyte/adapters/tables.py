"""Reading the account's DynamoDB tables (read-only calls)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from hippolyte.models import Engine, TableSnapshot
from hippolyte.table_description import snapshot_from_description


def list_table_names(dynamodb: Any) -> Iterator[str]:
    """Every table name in the region, following ListTables' pages of up to 100."""
    for page in dynamodb.get_paginator("list_tables").paginate():
        yield from page.get("TableNames", [])


def table_tags(dynamodb: Any, table_arn: str) -> dict[str, str]:
    """A table's tags as a dict (ListTagsOfResource pages with NextToken)."""
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": table_arn}
    while True:
        page = dynamodb.list_tags_of_resource(**kwargs)
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def pitr_enabled(dynamodb: Any, table_name: str) -> bool:
    """Whether point-in-time recovery is on (the native export engine needs it)."""
    description = dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
    status = (description.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    return status == "ENABLED"


def describe_table(dynamodb: Any, table_name: str) -> dict[str, Any] | None:
    """DescribeTable's ``Table``, or None when the table does not exist (any more)."""
    try:
        return dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def read_table(
    dynamodb: Any, table_name: str, default_engine: Engine = "datapipeline"
) -> tuple[TableSnapshot, dict[str, str]] | None:
    """One table's snapshot and tags, or None when it does not exist."""
    description = describe_table(dynamodb, table_name)
    if description is None:
        return None
    tags = table_tags(dynamodb, description["TableArn"])
    snapshot = snapshot_from_description(
        description, tags, default_engine=default_engine, pitr_enabled=pitr_enabled(dynamodb, table_name)
    )
    return snapshot, tags


def tagged_tables(dynamodb: Any, workers: int = 8) -> dict[str, dict[str, str]]:
    """Every table of the region with its tags, as discovery's rules read them.

    ListTables, then DescribeTable and ListTagsOfResource for each table, ``workers`` at a time;
    a table deleted in between is left out.
    """
    names = list(list_table_names(dynamodb))

    def tags_of(name: str) -> dict[str, str] | None:
        description = describe_table(dynamodb, name)
        return None if description is None else table_tags(dynamodb, description["TableArn"])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = list(pool.map(tags_of, names))
    return {name: tags for name, tags in zip(names, found, strict=True) if tags is not None}
