"""The Hippolyte manifest: a table's schema read from DescribeTable, the CreateTable request built
back from it, and the check that a backup is still what was verified."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hippolyte.backup_manifest import (
    BackupFacts,
    BackupManifest,
    DataFile,
    create_table_request,
    import_table_parameters,
    intact_problem,
    manifest_key,
    schema_from_description,
    shape_differences,
)

DESCRIBED = {
    "TableName": "orders",
    "TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders",
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": kind}
        for name, kind in (("pk", "S"), ("sk", "N"), ("status", "S"), ("at", "N"))
    ],
    "ProvisionedThroughput": {"ReadCapacityUnits": 25, "WriteCapacityUnits": 10, "NumberOfDecreasesToday": 1},
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by-status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total", "customer"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 4},
            "IndexStatus": "ACTIVE",
        }
    ],
    "LocalSecondaryIndexes": [
        {
            "IndexName": "by-time",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
    ],
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "SSEDescription": {
        "Status": "ENABLED",
        "SSEType": "KMS",
        "KMSMasterKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k-1",
    },
}
TTL = {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
TAGS = {"team": "payments", "aws:cloudformation:stack-name": "shop"}


def test_the_schema_holds_everything_needed_to_create_the_table_again() -> None:
    # GIVEN a provisioned table with a GSI (INCLUDE projection), an LSI, a stream, a KMS key, TTL and tags
    # WHEN its schema is read
    schema = schema_from_description(DESCRIBED, TTL, TAGS)

    # THEN every part the issue lists is there
    assert [(k.attribute_name, k.key_type) for k in schema.key_schema] == [("pk", "HASH"), ("sk", "RANGE")]
    assert {a.attribute_name: a.attribute_type for a in schema.attribute_definitions} == {
        "pk": "S",
        "sk": "N",
        "status": "S",
        "at": "N",
    }
    (gsi,) = schema.global_secondary_indexes
    assert (gsi.name, gsi.projection.projection_type, gsi.projection.non_key_attributes) == (
        "by-status",
        "INCLUDE",
        ["total", "customer"],
    )
    assert (gsi.throughput.read_capacity_units, gsi.throughput.write_capacity_units) == (5, 4)
    (lsi,) = schema.local_secondary_indexes
    assert (lsi.name, lsi.projection.projection_type) == ("by-time", "KEYS_ONLY")
    assert (schema.billing_mode, schema.throughput.read_capacity_units, schema.throughput.write_capacity_units) == (
        "PROVISIONED",
        25,
        10,
    )
    assert schema.ttl_attribute == "expires_at"
    assert (schema.stream.enabled, schema.stream.view_type) == (True, "NEW_AND_OLD_IMAGES")
    assert (schema.sse.enabled, schema.sse.sse_type, schema.sse.kms_key_arn) == (
        True,
        "KMS",
        "arn:aws:kms:us-east-1:123456789012:key/k-1",
    )
    # AND AWS's reserved tags, which nobody can set, are left out
    assert schema.tags == {"team": "payments"}


def test_an_on_demand_table_without_ttl_has_no_capacities_and_no_ttl_attribute() -> None:
    # GIVEN an on-demand table whose TTL is off
    described = {
        **DESCRIBED,
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
    }
    # WHEN its schema is read
    schema = schema_from_description(described, {"TimeToLiveStatus": "DISABLED"}, {})
    # THEN it records on-demand billing and no capacity for the table or its index
    assert schema.billing_mode == "PAY_PER_REQUEST" and schema.throughput is None
    assert schema.global_secondary_indexes[0].throughput is None
    assert schema.ttl_attribute is None


def test_the_create_table_request_rebuilds_the_table_under_its_new_name() -> None:
    # GIVEN the schema of the table above
    schema = schema_from_description(DESCRIBED, TTL, TAGS)
    # WHEN the request to create its restore target is built
    request = create_table_request(schema, "orders-restored", extra_tags={"hippolyte:restored-from": "orders/x"})
    # THEN it creates the same keys, indexes and projections, capacity, stream and key
    assert request["TableName"] == "orders-restored"
    assert request["KeySchema"] == DESCRIBED["KeySchema"]
    assert request["ProvisionedThroughput"] == {"ReadCapacityUnits": 25, "WriteCapacityUnits": 10}
    assert request["GlobalSecondaryIndexes"] == [
        {
            "IndexName": "by-status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total", "customer"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 4},
        }
    ]
    assert request["LocalSecondaryIndexes"][0]["IndexName"] == "by-time"
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert request["SSESpecification"]["KMSMasterKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/k-1"
    assert {"Key": "hippolyte:restored-from", "Value": "orders/x"} in request["Tags"]
    assert {"Key": "team", "Value": "payments"} in request["Tags"]


def test_importtable_parameters_refuse_local_indexes_it_cannot_create() -> None:
    # GIVEN a table with a local secondary index, and the same table without it
    schema = schema_from_description(DESCRIBED, TTL, TAGS)
    without_lsi = schema.model_copy(update={"local_secondary_indexes": []})
    # WHEN ImportTable's TableCreationParameters are built
    # THEN the one with an LSI is refused, and the other carries only what ImportTable accepts
    with pytest.raises(ValueError, match="local secondary indexes"):
        import_table_parameters(schema, "t2")
    parameters = import_table_parameters(without_lsi, "t2")
    assert set(parameters) == {
        "TableName",
        "AttributeDefinitions",
        "KeySchema",
        "BillingMode",
        "ProvisionedThroughput",
        "SSESpecification",
        "GlobalSecondaryIndexes",
    }


def test_shape_differences_name_what_differs_and_ignore_the_name() -> None:
    # GIVEN a table's schema and the same shape under another name, and one with another projection
    schema = schema_from_description(DESCRIBED, TTL, TAGS)
    renamed = schema.model_copy(update={"name": "orders-restored", "tags": {}})
    other_projection = schema.model_copy(deep=True)
    other_projection.global_secondary_indexes[0].projection.projection_type = "ALL"
    # THEN only a real difference is reported
    assert shape_differences(schema, renamed) == []
    assert shape_differences(schema, other_projection) == ["global_secondary_indexes"]


def _manifest(verified: bool = True) -> BackupManifest:
    facts = BackupFacts(
        time=datetime(2026, 11, 28, 0, 10, tzinfo=UTC),
        run_id="nightly",
        engine="datapipeline",
        items=3,
        bytes=30,
        location="s3://b/orders/2026-11-28-00-10-00/",
        verified=verified,
        required_files=["orders/2026-11-28-00-10-00/_SUCCESS", "orders/2026-11-28-00-10-00/manifest"],
        data_files=[DataFile(key="orders/2026-11-28-00-10-00/part-1", size=30, etag="abc")],
    )
    return BackupManifest(table=schema_from_description(DESCRIBED), backup=facts)


INTACT = {
    "orders/2026-11-28-00-10-00/_SUCCESS": (0, '"d41d"'),
    "orders/2026-11-28-00-10-00/manifest": (90, '"m"'),
    "orders/2026-11-28-00-10-00/part-1": (30, '"abc"'),
}


def test_a_backup_whose_files_are_all_there_unchanged_is_intact() -> None:
    assert intact_problem(_manifest(), INTACT) is None


@pytest.mark.parametrize(
    ("listing", "problem"),
    [
        ({k: v for k, v in INTACT.items() if not k.endswith("_SUCCESS")}, "_SUCCESS is missing"),
        ({k: v for k, v in INTACT.items() if not k.endswith("part-1")}, "data file orders/2026-11-28-00-10-00/part-1"),
        ({**INTACT, "orders/2026-11-28-00-10-00/part-1": (30, '"other"')}, "checksum mismatch"),
        ({**INTACT, "orders/2026-11-28-00-10-00/part-1": (29, '"abc"')}, "checksum mismatch"),
    ],
)
def test_a_missing_marker_or_a_changed_data_file_makes_the_backup_untrusted(
    listing: dict[str, tuple[int, str]], problem: str
) -> None:
    # GIVEN a verified backup's manifest, and its files as S3 lists them now
    # WHEN its integrity is checked
    found = intact_problem(_manifest(), listing)
    # THEN the reason names what is wrong
    assert found is not None and problem in found


def test_a_manifest_that_was_never_verified_is_never_trusted() -> None:
    assert intact_problem(_manifest(verified=False), INTACT) == "its manifest says it was never verified"


def test_the_manifest_lives_next_to_the_data() -> None:
    assert manifest_key("orders", datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC)) == (
        "orders/2026-11-28-00-10-05/hippolyte-manifest.json"
    )
