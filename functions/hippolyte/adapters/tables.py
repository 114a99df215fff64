"""The account's DynamoDB tables: reading them, and the changes Hippolyte makes besides capacity.

Those changes are point-in-time recovery for the export engine, and the restore's target table
(create it, tag it, its capacity and stream, its TTL). Capacity boosts are in adapters/capacity.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from hippolyte.adapters.aws_errors import error_code
from hippolyte.models import StackEngine, TableSnapshot
from hippolyte.table_description import snapshot_from_description

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import ScanInputTypeDef, TableDescriptionTypeDef

MAX_COUNT_SEGMENTS = 16
BYTES_PER_COUNT_SEGMENT = 1024**3


def list_table_names(dynamodb: DynamoDBClient) -> Iterator[str]:
    """Every table name in the region, following ListTables' pages of up to 100."""
    for page in dynamodb.get_paginator("list_tables").paginate():
        yield from page.get("TableNames", [])


def table_tags(dynamodb: DynamoDBClient, table_arn: str, pace: Callable[[], None] | None = None) -> dict[str, str]:
    """A table's tags as a dict (ListTagsOfResource pages with NextToken).

    ``pace`` is called before each page: ListTagsOfResource is metered per account, so a caller
    reading many tables' tags paces the metered call itself, every page of it.
    """
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": table_arn}
    while True:
        if pace is not None:
            pace()
        page = dynamodb.list_tags_of_resource(**kwargs)
        tags.update({tag["Key"]: tag["Value"] for tag in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


def pitr_enabled(dynamodb: DynamoDBClient, table_name: str, pace: Callable[[], None] | None = None) -> bool:
    """Whether point-in-time recovery is on (the native export engine needs it); ``pace`` is
    called before the metered call."""
    if pace is not None:
        pace()
    description = dynamodb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
    status = (description.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    return status == "ENABLED"


def enable_point_in_time_recovery(dynamodb: DynamoDBClient, table_name: str) -> None:
    """Turn point-in-time recovery on (the export engine reads the table's PITR data)."""
    dynamodb.update_continuous_backups(
        TableName=table_name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def describe_table(dynamodb: DynamoDBClient, table_name: str) -> TableDescriptionTypeDef | None:
    """DescribeTable's ``Table``, or None when the table does not exist (any more)."""
    try:
        return dynamodb.describe_table(TableName=table_name)["Table"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise


def read_table(
    dynamodb: DynamoDBClient,
    table_name: str,
    default_engine: StackEngine = "datapipeline",
    pace_tags: Callable[[], None] | None = None,
    pace_pitr: Callable[[], None] | None = None,
) -> tuple[TableSnapshot, dict[str, str]] | None:
    """One table's snapshot and tags, or None when it does not exist (``pace_tags`` and
    ``pace_pitr``: called before each metered ListTagsOfResource and DescribeContinuousBackups)."""
    description = describe_table(dynamodb, table_name)
    if description is None:
        return None
    tags = table_tags(dynamodb, description["TableArn"], pace_tags)
    snapshot = snapshot_from_description(description, tags, default_engine=default_engine)
    if snapshot.engine == "export" or snapshot.engine_source == "auto":
        # Only the native export needs point-in-time recovery (and a choice between it and EMR):
        # the other tables save the call (DescribeContinuousBackups is metered at 10 a second).
        snapshot = snapshot.model_copy(update={"pitr_enabled": pitr_enabled(dynamodb, table_name, pace_pitr)})
    return snapshot, tags


def has_items(dynamodb: DynamoDBClient, table_name: str) -> bool:
    """Whether a table holds at least one item (one Scan of one item, counted)."""
    page = dynamodb.scan(TableName=table_name, Limit=1, Select="COUNT")
    # An item counted, or a page still to read, shows the table is not empty.
    return bool(page.get("Count", 0) or page.get("LastEvaluatedKey"))


def count_items(dynamodb: DynamoDBClient, table_name: str, size_bytes: int) -> int:
    """Every item of a table, counted by a parallel Scan (one segment per GiB, at most 16)."""
    segments = max(1, min(MAX_COUNT_SEGMENTS, size_bytes // BYTES_PER_COUNT_SEGMENT))

    def count(segment: int) -> int:
        total = 0
        request: ScanInputTypeDef = {
            "TableName": table_name,
            "Select": "COUNT",
            "Segment": segment,
            "TotalSegments": segments,
        }
        while True:
            page = dynamodb.scan(**request)
            total += page.get("Count", 0)
            if "LastEvaluatedKey" not in page:
                return total
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(max_workers=segments) as pool:
        return sum(pool.map(count, range(segments)))


def create_table(dynamodb: DynamoDBClient, request: Mapping[str, Any]) -> bool:
    """CreateTable with ``request``'s parameters; False when a table of that name exists already."""
    try:
        dynamodb.create_table(**request)
    except ClientError as error:
        if error_code(error) != "ResourceInUseException":
            raise
        return False
    return True


def tag_table(dynamodb: DynamoDBClient, table_arn: str, tags: Mapping[str, str]) -> None:
    """Add tags to a table (TagResource), in the order of their keys."""
    dynamodb.tag_resource(
        ResourceArn=table_arn, Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    )


def update_table(dynamodb: DynamoDBClient, table_name: str, changes: Mapping[str, Any]) -> None:
    """UpdateTable with ``changes`` (capacities of the table and its indexes, or its stream)."""
    dynamodb.update_table(TableName=table_name, **changes)


def ttl_attribute(dynamodb: DynamoDBClient, table_name: str) -> str | None:
    """The attribute TTL reads, when TTL is on (or being turned on); otherwise None."""
    description = dynamodb.describe_time_to_live(TableName=table_name).get("TimeToLiveDescription", {})
    if description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        attribute = description.get("AttributeName")
        return str(attribute) if attribute else None
    return None


def enable_ttl(dynamodb: DynamoDBClient, table_name: str, attribute: str) -> None:
    """Turn TTL on, reading expiry times from ``attribute``."""
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )


def tagged_tables(dynamodb: DynamoDBClient, workers: int = 8) -> dict[str, dict[str, str]]:
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
