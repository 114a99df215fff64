"""Hippolyte's manifest: what a backup holds, and the table it came from, stored next to the data.

Pure: no AWS calls. Every verified backup gets ``s3://<bucket>/<table>/<timestamp>/hippolyte-manifest.json``
with two parts:

* the table's schema (keys, attribute definitions, indexes with their projections, billing mode
  and capacities, TTL attribute, stream and SSE settings, tags), enough to create the table again;
* the backup's facts (time, run, engine, items, bytes, and every data file with its size and
  ETag), enough to tell later whether the files are still the ones that were verified.

A restore chooses only a backup whose manifest says it was verified *and* whose files are all
still there, unchanged (:func:`intact_problem`): a backup without ``_SUCCESS``, or whose data
files no longer match, is never restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from hippolyte.models import Engine, Model, NonNegativeInt
from hippolyte.pipelines import backup_timestamp

MANIFEST_NAME = "hippolyte-manifest.json"
FORMAT = "hippolyte-backup-manifest"
# Tag keys starting with "aws:" are reserved by AWS and cannot be set by TagResource or CreateTable.
RESERVED_TAG_PREFIX = "aws:"

KeyType = Literal["HASH", "RANGE"]
AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
StreamViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


# --------------------------------------------------------------------------------------------
# The table's schema
# --------------------------------------------------------------------------------------------


class KeyElement(Model):
    """One element of a key schema."""

    attribute_name: str
    key_type: KeyType


class AttributeDefinition(Model):
    """One attribute the keys (of the table or an index) use."""

    attribute_name: str
    attribute_type: AttributeType


class Projection(Model):
    """Which attributes an index holds."""

    projection_type: ProjectionType = "ALL"
    non_key_attributes: list[str] = Field(default_factory=list)


class Throughput(Model):
    """Provisioned read and write capacity."""

    read_capacity_units: NonNegativeInt
    write_capacity_units: NonNegativeInt


class IndexSchema(Model):
    """A global or local secondary index."""

    name: str
    key_schema: list[KeyElement]
    projection: Projection
    # Global indexes of provisioned tables only.
    throughput: Throughput | None = None


class StreamSettings(Model):
    """The table's DynamoDB Streams setting."""

    enabled: bool = False
    view_type: StreamViewType | None = None


class SseSettings(Model):
    """Encryption at rest. ``enabled=False``: the default, an AWS owned key (no SSEDescription)."""

    enabled: bool = False
    sse_type: Literal["AES256", "KMS"] | None = None
    kms_key_arn: str | None = None


class TableSchema(Model):
    """Everything needed to create the table again (its name aside)."""

    name: str
    key_schema: list[KeyElement]
    attribute_definitions: list[AttributeDefinition]
    global_secondary_indexes: list[IndexSchema] = Field(default_factory=list)
    local_secondary_indexes: list[IndexSchema] = Field(default_factory=list)
    billing_mode: Literal["PROVISIONED", "PAY_PER_REQUEST"] = "PROVISIONED"
    throughput: Throughput | None = None
    ttl_attribute: str | None = None
    stream: StreamSettings = Field(default_factory=StreamSettings)
    sse: SseSettings = Field(default_factory=SseSettings)
    tags: dict[str, str] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The backup's facts
# --------------------------------------------------------------------------------------------


class DataFile(Model):
    """One file of the backup as it was when verified."""

    key: str
    size: NonNegativeInt
    etag: str
    # Native exports: the base64 MD5 manifest-files.json gives, and the file's item count.
    md5: str | None = None
    items: NonNegativeInt | None = None


class BackupFacts(Model):
    """When, how and where the backup was made, and what it holds."""

    time: datetime
    run_id: str
    engine: Engine
    items: NonNegativeInt | None = None
    bytes: NonNegativeInt = 0
    location: str
    data_files: list[DataFile] = Field(default_factory=list)
    # Keys that must exist for the backup to be complete: _SUCCESS and the export tool's
    # manifest (Data Pipeline), or manifest-summary.json and manifest-files.json (native export).
    required_files: list[str] = Field(default_factory=list)
    export_arn: str | None = None
    export_time: datetime | None = None
    verified: bool = False
    verified_at: datetime | None = None


class BackupManifest(Model):
    """The whole ``hippolyte-manifest.json``."""

    format: Literal["hippolyte-backup-manifest"] = "hippolyte-backup-manifest"
    version: Literal[1] = 1
    table: TableSchema | None
    backup: BackupFacts


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------


def manifest_key(table: str, started_at: datetime) -> str:
    """Key of a backup's manifest in the backup bucket.

    >>> from datetime import datetime, timezone
    >>> manifest_key("orders", datetime(2026, 11, 28, 0, 10, tzinfo=timezone.utc))
    'orders/2026-11-28-00-10-00/hippolyte-manifest.json'
    """
    return f"{table}/{backup_timestamp(started_at)}/{MANIFEST_NAME}"


def _keys(elements: Any) -> list[KeyElement]:
    return [KeyElement(attribute_name=e["AttributeName"], key_type=e["KeyType"]) for e in elements or []]


def _projection(projection: Mapping[str, Any] | None) -> Projection:
    projection = projection or {}
    return Projection(
        projection_type=projection.get("ProjectionType", "ALL"),
        non_key_attributes=list(projection.get("NonKeyAttributes", [])),
    )


def _throughput(throughput: Mapping[str, Any] | None, on_demand: bool) -> Throughput | None:
    if on_demand or not throughput:
        return None
    return Throughput(
        read_capacity_units=throughput.get("ReadCapacityUnits", 0),
        write_capacity_units=throughput.get("WriteCapacityUnits", 0),
    )


def schema_from_description(
    table: Mapping[str, Any], ttl: Mapping[str, Any] | None = None, tags: Mapping[str, str] | None = None
) -> TableSchema:
    """The schema of a DescribeTable ``Table``, its DescribeTimeToLive description and its tags.

    >>> s = schema_from_description({"TableName": "orders",
    ...     "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    ...     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    ...     "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}},
    ...     ttl={"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
    >>> (s.throughput.read_capacity_units, s.ttl_attribute)
    (5, 'expires')
    """
    on_demand = (table.get("BillingModeSummary") or {}).get("BillingMode") == "PAY_PER_REQUEST"
    stream = table.get("StreamSpecification") or {}
    sse = table.get("SSEDescription") or {}
    ttl_on = (ttl or {}).get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    return TableSchema(
        name=table["TableName"],
        key_schema=_keys(table.get("KeySchema")),
        attribute_definitions=[
            AttributeDefinition(attribute_name=a["AttributeName"], attribute_type=a["AttributeType"])
            for a in table.get("AttributeDefinitions", [])
        ],
        global_secondary_indexes=[
            IndexSchema(
                name=index["IndexName"],
                key_schema=_keys(index.get("KeySchema")),
                projection=_projection(index.get("Projection")),
                throughput=_throughput(index.get("ProvisionedThroughput"), on_demand),
            )
            for index in table.get("GlobalSecondaryIndexes") or []
        ],
        local_secondary_indexes=[
            IndexSchema(
                name=index["IndexName"],
                key_schema=_keys(index.get("KeySchema")),
                projection=_projection(index.get("Projection")),
            )
            for index in table.get("LocalSecondaryIndexes") or []
        ],
        billing_mode="PAY_PER_REQUEST" if on_demand else "PROVISIONED",
        throughput=_throughput(table.get("ProvisionedThroughput"), on_demand),
        ttl_attribute=(ttl or {}).get("AttributeName") if ttl_on else None,
        stream=StreamSettings(
            enabled=bool(stream.get("StreamEnabled")),
            view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        ),
        sse=SseSettings(
            enabled=sse.get("Status") in ("ENABLED", "ENABLING"),
            sse_type=sse.get("SSEType"),
            kms_key_arn=sse.get("KMSMasterKeyArn"),
        ),
        tags={key: value for key, value in (tags or {}).items() if not key.startswith(RESERVED_TAG_PREFIX)},
    )


def _key_schema_json(elements: list[KeyElement]) -> list[dict[str, str]]:
    return [{"AttributeName": e.attribute_name, "KeyType": e.key_type} for e in elements]


def _projection_json(projection: Projection) -> dict[str, Any]:
    result: dict[str, Any] = {"ProjectionType": projection.projection_type}
    if projection.projection_type == "INCLUDE":
        result["NonKeyAttributes"] = list(projection.non_key_attributes)
    return result


def _throughput_json(throughput: Throughput) -> dict[str, int]:
    # CreateTable refuses 0 capacity units; a described 0 can only come from an odd source.
    return {
        "ReadCapacityUnits": max(1, throughput.read_capacity_units),
        "WriteCapacityUnits": max(1, throughput.write_capacity_units),
    }


def _sse_json(sse: SseSettings) -> dict[str, Any] | None:
    if not sse.enabled or sse.sse_type != "KMS":
        return None
    spec: dict[str, Any] = {"Enabled": True, "SSEType": "KMS"}
    if sse.kms_key_arn:
        spec["KMSMasterKeyId"] = sse.kms_key_arn
    return spec


def _gsi_json(schema: TableSchema) -> list[dict[str, Any]]:
    indexes = []
    for index in schema.global_secondary_indexes:
        spec: dict[str, Any] = {
            "IndexName": index.name,
            "KeySchema": _key_schema_json(index.key_schema),
            "Projection": _projection_json(index.projection),
        }
        if schema.billing_mode == "PROVISIONED":
            spec["ProvisionedThroughput"] = _throughput_json(
                index.throughput or Throughput(read_capacity_units=1, write_capacity_units=1)
            )
        indexes.append(spec)
    return indexes


def create_table_request(
    schema: TableSchema, target: str, extra_tags: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """CreateTable's parameters for a table shaped like ``schema`` (capacities as the original's).

    TTL cannot be given to CreateTable: it is set after the data is in (UpdateTimeToLive), so that
    no restored item expires on the way in.

    >>> from hippolyte.backup_manifest import TableSchema, KeyElement, AttributeDefinition
    >>> s = TableSchema(name="a", key_schema=[KeyElement(attribute_name="pk", key_type="HASH")],
    ...     attribute_definitions=[AttributeDefinition(attribute_name="pk", attribute_type="S")],
    ...     billing_mode="PAY_PER_REQUEST")
    >>> create_table_request(s, "a-restored")["BillingMode"]
    'PAY_PER_REQUEST'
    """
    request: dict[str, Any] = {
        "TableName": target,
        "KeySchema": _key_schema_json(schema.key_schema),
        "AttributeDefinitions": [
            {"AttributeName": a.attribute_name, "AttributeType": a.attribute_type} for a in schema.attribute_definitions
        ],
        "BillingMode": schema.billing_mode,
    }
    if schema.billing_mode == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput_json(
            schema.throughput or Throughput(read_capacity_units=1, write_capacity_units=1)
        )
    if schema.global_secondary_indexes:
        request["GlobalSecondaryIndexes"] = _gsi_json(schema)
    if schema.local_secondary_indexes:
        request["LocalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _key_schema_json(index.key_schema),
                "Projection": _projection_json(index.projection),
            }
            for index in schema.local_secondary_indexes
        ]
    if schema.stream.enabled:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": schema.stream.view_type}
    sse = _sse_json(schema.sse)
    if sse:
        request["SSESpecification"] = sse
    tags = {**schema.tags, **(extra_tags or {})}
    if tags:
        request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
    return request


def import_table_parameters(schema: TableSchema, target: str) -> dict[str, Any]:
    """ImportTable's ``TableCreationParameters`` for a table shaped like ``schema``.

    ImportTable creates the table itself but takes no local secondary indexes, streams or tags
    (TableCreationParameters, DynamoDB API reference): the caller refuses tables with LSIs, and
    streams and tags are set once the import is done.
    """
    if schema.local_secondary_indexes:
        raise ValueError("ImportTable cannot create local secondary indexes")
    full = create_table_request(schema, target)
    allowed = (
        "TableName",
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "SSESpecification",
        "GlobalSecondaryIndexes",
    )
    return {key: value for key, value in full.items() if key in allowed}


# --------------------------------------------------------------------------------------------
# Is a backup still what was verified?
# --------------------------------------------------------------------------------------------

Listing = Mapping[str, tuple[int, str]]


def normalise_etag(etag: str) -> str:
    """An ETag without the quotes S3 puts around it.

    >>> normalise_etag('"abc-1"')
    'abc-1'
    """
    return etag.strip().strip('"')


def intact_problem(manifest: BackupManifest, listing: Listing) -> str | None:
    """Why the backup cannot be trusted now, or None when it can.

    ``listing`` maps every object key under the table's prefix to its (size, ETag), as one
    ListObjectsV2 pass gives them: the check costs no read of the data.

    >>> from datetime import datetime, timezone
    >>> facts = BackupFacts(time=datetime(2026, 1, 1, tzinfo=timezone.utc), run_id="r", engine="datapipeline",
    ...     location="s3://b/t/x/", required_files=["t/x/_SUCCESS"], verified=True,
    ...     data_files=[DataFile(key="t/x/part", size=3, etag="e")])
    >>> m = BackupManifest(table=None, backup=facts)
    >>> intact_problem(m, {"t/x/_SUCCESS": (0, "z"), "t/x/part": (3, "e")}) is None
    True
    >>> intact_problem(m, {"t/x/part": (3, "e")})
    't/x/_SUCCESS is missing'
    """
    facts = manifest.backup
    if not facts.verified:
        return "its manifest says it was never verified"
    for key in facts.required_files:
        if key not in listing:
            return f"{key} is missing"
    for data_file in facts.data_files:
        found = listing.get(data_file.key)
        if found is None:
            return f"data file {data_file.key} is missing"
        size, etag = found
        if size != data_file.size or normalise_etag(etag) != normalise_etag(data_file.etag):
            return f"data file {data_file.key} changed since it was verified (checksum mismatch)"
    return None


def shape_differences(original: TableSchema, restored: TableSchema) -> list[str]:
    """What differs between two tables' shapes: keys, attributes, indexes and projections, billing.

    Names, tags and TTL are not compared (a restored table has its own name and a restore tag).

    >>> a = TableSchema(name="a", key_schema=[KeyElement(attribute_name="pk", key_type="HASH")],
    ...                 attribute_definitions=[AttributeDefinition(attribute_name="pk", attribute_type="S")])
    >>> shape_differences(a, a.model_copy(update={"name": "b"}))
    []
    >>> shape_differences(a, a.model_copy(update={"billing_mode": "PAY_PER_REQUEST"}))
    ['billing_mode']
    """

    def shape(schema: TableSchema) -> dict[str, Any]:
        return {
            "key_schema": schema.key_schema,
            "attribute_definitions": sorted(schema.attribute_definitions, key=lambda a: a.attribute_name),
            "global_secondary_indexes": sorted(schema.global_secondary_indexes, key=lambda i: i.name),
            "local_secondary_indexes": sorted(schema.local_secondary_indexes, key=lambda i: i.name),
            "billing_mode": schema.billing_mode,
            "throughput": schema.throughput,
        }

    left, right = shape(original), shape(restored)
    return [field for field in left if left[field] != right[field]]
