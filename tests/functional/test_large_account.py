"""The harness's fast lookups for large accounts answer exactly as moto's own walks do."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.utils import parse_timestamp
from hippolyte_local.large_account import _botocore_timestamp, fast_account_lookups
from moto import mock_aws

BUCKET = "backups"
# The capacity ledger's key (template.yaml): a table's records, one per run.
LEDGER_KEY_SCHEMA = [
    {"AttributeName": "table_name", "KeyType": "HASH"},
    {"AttributeName": "run_id", "KeyType": "RANGE"},
]
LEDGER_KEY_ATTRIBUTES = [
    {"AttributeName": "table_name", "AttributeType": "S"},
    {"AttributeName": "run_id", "AttributeType": "S"},
]


def _listings(s3: Any) -> list[Any]:
    answers = []
    for prefix, delimiter in (
        ("table-a/", ""),
        ("table-a/2026-11-28/", ""),
        ("table-a", ""),
        ("table-", "/"),
        ("table-b/", "/"),
        ("runs/r1/", ""),
        ("", "/"),
        ("missing/", ""),
    ):
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=prefix, Delimiter=delimiter, PaginationConfig={"PageSize": 2}
        )
        answers.append(
            [
                (
                    [(o["Key"], o["LastModified"], o["ETag"]) for o in page.get("Contents", [])],
                    [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                )
                for page in pages
            ]
        )
    return answers


def _fill(s3: Any) -> None:
    s3.create_bucket(Bucket=BUCKET)
    for key in (
        "table-a/2026-11-28/part-00000",
        "table-a/2026-11-28/_SUCCESS",
        "table-a/2026-11-29/manifest",
        "table-ab/2026-11-28/_SUCCESS",
        "table-b/2026-11-28/part-00000",
        "runs/r1/plan.json",
        "top-level-object",
    ):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")


def test_prefix_listings_are_moto_answers_also_after_writes_and_deletes() -> None:
    """Keys written and deleted while the lookups are active are listed as moto lists them."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        _fill(s3)
        expected_before = _listings(s3)
        with fast_account_lookups():
            assert _listings(s3) == expected_before
            s3.put_object(Bucket=BUCKET, Key="table-a/2026-11-30/_SUCCESS", Body=b"x")
            s3.delete_object(Bucket=BUCKET, Key="table-a/2026-11-28/_SUCCESS")
            s3.put_object(Bucket=BUCKET, Key="table-c/2026-11-28/part-00000", Body=b"x")
            fast = _listings(s3)
        assert fast == _listings(s3)
        listed = [key for keys, _ in fast[0] for key, _, _ in keys]
        assert listed == ["table-a/2026-11-28/part-00000", "table-a/2026-11-29/manifest", "table-a/2026-11-30/_SUCCESS"]


def _queries(dynamodb: Any) -> list[Any]:
    answers = []
    for name, reverse, limit in (("t1", False, 10), ("t1", True, 2), ("t2", False, 10), ("none", False, 10)):
        answers.append(
            dynamodb.query(
                TableName="ledger",
                KeyConditionExpression="table_name = :n",
                ExpressionAttributeValues={":n": {"S": name}},
                ScanIndexForward=not reverse,
                Limit=limit,
                ConsistentRead=True,
            )
        )
    answers.append(
        dynamodb.query(
            TableName="ledger",
            KeyConditionExpression="table_name = :n AND run_id > :r",
            FilterExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":n": {"S": "t1"}, ":r": {"S": "run-1"}, ":s": {"S": "open"}},
        )
    )
    answers.append(
        dynamodb.query(
            TableName="ledger",
            IndexName="by-status",
            KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "open"}},
        )
    )
    for answer in answers:
        answer.pop("ResponseMetadata")
    return answers


def test_queries_read_the_hash_key_and_answer_as_moto_does() -> None:
    """Key conditions, filters, order, limits and index queries give moto's own answers."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="ledger",
            KeySchema=LEDGER_KEY_SCHEMA,
            AttributeDefinitions=[*LEDGER_KEY_ATTRIBUTES, {"AttributeName": "status", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for table in ("t1", "t2", "t3"):
            for run in range(4):
                dynamodb.put_item(
                    TableName="ledger",
                    Item={
                        "table_name": {"S": table},
                        "run_id": {"S": f"run-{run}"},
                        "status": {"S": "open" if run % 2 else "restored"},
                    },
                )
        expected = _queries(dynamodb)
        with fast_account_lookups():
            fast = _queries(dynamodb)
            scanned = dynamodb.scan(TableName="ledger")["Count"]
        assert fast == expected
        assert [item["run_id"]["S"] for item in fast[1]["Items"]] == ["run-3", "run-2"]
        assert scanned == 12  # a scan still sees every item


def _ledger_items(dynamodb: Any) -> list[tuple[str, str, str]]:
    items = dynamodb.scan(TableName="ledger", ConsistentRead=True)["Items"]
    return sorted((i["table_name"]["S"], i["run_id"]["S"], i.get("holder", {}).get("S", "")) for i in items)


def _cancelled_transactions(dynamodb: Any) -> list[Any]:
    """Three transactions cancelled by one failed condition each; returns the errors' reasons."""
    reasons = []
    for actions in (
        # puts: a new item, an item replaced, and a condition that fails last
        [
            {"Put": {"TableName": "ledger", "Item": {"table_name": {"S": "t9"}, "run_id": {"S": "#lease"}}}},
            {
                "Put": {
                    "TableName": "ledger",
                    "Item": {"table_name": {"S": "t1"}, "run_id": {"S": "#lease"}, "holder": {"S": "new"}},
                }
            },
            {
                "Put": {
                    "TableName": "ledger",
                    "Item": {"table_name": {"S": "t2"}, "run_id": {"S": "#lease"}},
                    "ConditionExpression": "attribute_not_exists(table_name)",
                }
            },
        ],
        # a delete, then a failed condition check
        [
            {"Delete": {"TableName": "ledger", "Key": {"table_name": {"S": "t3"}, "run_id": {"S": "#lease"}}}},
            {
                "ConditionCheck": {
                    "TableName": "ledger",
                    "Key": {"table_name": {"S": "t1"}, "run_id": {"S": "#lease"}},
                    "ConditionExpression": "holder = :x",
                    "ExpressionAttributeValues": {":x": {"S": "nobody"}},
                }
            },
        ],
        # an update changes its item in place: still rolled back
        [
            {
                "Update": {
                    "TableName": "ledger",
                    "Key": {"table_name": {"S": "t2"}, "run_id": {"S": "#lease"}},
                    "UpdateExpression": "SET holder = :y",
                    "ExpressionAttributeValues": {":y": {"S": "updated"}},
                }
            },
            {"Delete": {"TableName": "ledger", "Key": {"table_name": {"S": "t3"}, "run_id": {"S": "#lease"}}}},
            {
                "Put": {
                    "TableName": "ledger",
                    "Item": {"table_name": {"S": "t1"}, "run_id": {"S": "#lease"}},
                    "ConditionExpression": "attribute_not_exists(table_name)",
                }
            },
        ],
    ):
        try:
            dynamodb.transact_write_items(TransactItems=actions)
        except dynamodb.exceptions.TransactionCanceledException as error:
            reasons.append([reason["Code"] for reason in error.response["CancellationReasons"]])
    return reasons


def test_a_cancelled_transaction_leaves_the_table_as_moto_leaves_it() -> None:
    """The rollback that copies item dictionaries puts back what moto's deep copy puts back."""
    answers = []
    for fast in (False, True):
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            dynamodb.create_table(
                TableName="ledger",
                KeySchema=LEDGER_KEY_SCHEMA,
                AttributeDefinitions=LEDGER_KEY_ATTRIBUTES,
                BillingMode="PAY_PER_REQUEST",
            )
            for table in ("t1", "t2", "t3"):
                dynamodb.put_item(
                    TableName="ledger",
                    Item={"table_name": {"S": table}, "run_id": {"S": "#lease"}, "holder": {"S": "old"}},
                )
            before = _ledger_items(dynamodb)
            if fast:
                with fast_account_lookups():
                    reasons = _cancelled_transactions(dynamodb)
                    after = _ledger_items(dynamodb)
            else:
                reasons = _cancelled_transactions(dynamodb)
                after = _ledger_items(dynamodb)
            answers.append((reasons, after))
    assert answers[0] == answers[1]
    reasons, after = answers[1]
    assert after == before  # nothing of a cancelled transaction stays
    assert reasons == [
        ["None", "None", "ConditionalCheckFailed"],
        ["None", "ConditionalCheckFailed"],
        ["None", "None", "ConditionalCheckFailed"],
    ]


def test_requests_carry_their_credential_to_moto_and_reach_the_same_account() -> None:
    """Without SigV4's signature, moto still reads the access key and answers in the same account."""
    with mock_aws():
        s3 = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="AKIAHARNESS", aws_secret_access_key="secret"
        )
        headers: list[str] = []
        s3.meta.events.register(
            "before-send.s3", lambda request, **_: headers.append(request.headers["Authorization"].decode())
        )
        s3.create_bucket(Bucket=BUCKET)
        with fast_account_lookups():
            s3.put_object(Bucket=BUCKET, Key="table-a/x", Body=b"x")
            listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        assert listed == ["table-a/x"]
        signed, *unsigned = headers
        assert signed.startswith("AWS4-HMAC-SHA256 Credential=AKIAHARNESS/")
        assert all(h.startswith("AWS4-HMAC-SHA256 Credential=AKIAHARNESS/") for h in unsigned)
        assert all(h.endswith("Signature=" + "0" * 64) for h in unsigned) and not signed.endswith("0" * 64)


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-30T12:00:00.000Z",
        "2026-11-30T12:00:00Z",
        "2026-11-30T12:00:00.123456Z",
        "2026-11-30T12:00:00+00:00",
        "2026-11-30T12:00:00+02:00",
        "2026-11-30T12:00:00",
        "Mon, 30 Nov 2026 12:00:00 GMT",
        "1796051123.838",
        1796051123,
    ],
)
def test_timestamps_are_read_as_botocore_reads_them(value: Any) -> None:
    """The same moment in the same zone (dateutil's choice of tzlocal or tzutc included)."""
    theirs, ours = parse_timestamp(value), _botocore_timestamp(value)
    assert ours == theirs
    assert repr(ours.tzinfo) == repr(theirs.tzinfo) and ours.tzname() == theirs.tzname()


@pytest.mark.parametrize(
    "params",
    [
        {"ResourceArn": "orders"},
        {"ResourceArn": "orders", "AccountId": "123456789012", "AccountIdEndpointMode": "preferred"},
        {"ResourceArn": "arn:aws:dynamodb:us-east-1:222233334444:table/orders", "AccountIdEndpointMode": "preferred"},
        {"ResourceArnList": ["orders", "arn:aws:dynamodb:us-east-1:222233334444:table/x"]},
        {"ResourceArnList": ["arn:aws:dynamodb:us-east-1:222233334444:table/orders"]},
        {"ResourceArnList": []},
    ],
)
def test_dynamodb_endpoints_resolve_as_botocore_resolves_them(params: dict[str, Any]) -> None:
    """A table's name is left out of endpoint resolution only where DynamoDB's rules ignore it."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    provider = dynamodb._ruleset_resolver._provider  # type: ignore[attr-defined]  # (botocore internals)
    request = {"Region": "us-east-1", "UseDualStack": False, "UseFIPS": False, **params}
    theirs = provider.resolve_endpoint(**dict(request))
    with fast_account_lookups():
        ours = provider.resolve_endpoint(**dict(request))
    assert (ours.url, ours.properties, ours.headers) == (theirs.url, theirs.properties, theirs.headers)


def test_routed_requests_get_moto_answers_and_errors() -> None:
    """A URL seen before goes straight to moto's handler: answers and errors are moto's."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
        s3.create_bucket(Bucket=BUCKET)
        dynamodb.create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

        def answers() -> list[Any]:
            found = []
            for _ in range(2):  # the second time, from the kept route
                found.append(dynamodb.describe_table(TableName="orders")["Table"]["TableName"])
                with pytest.raises(ClientError) as missing:
                    dynamodb.describe_table(TableName="missing")
                found.append(missing.value.response["Error"]["Code"])
                s3.put_object(Bucket=BUCKET, Key="table-a/x", Body=b"x")
                found.append(s3.get_object(Bucket=BUCKET, Key="table-a/x")["Body"].read())
                with pytest.raises(ClientError) as no_key:
                    s3.get_object(Bucket=BUCKET, Key="table-a/none")
                found.append(no_key.value.response["Error"]["Code"])
            return found

        plain = answers()
        with fast_account_lookups():
            routed = answers()
        assert routed == plain == ["orders", "ResourceNotFoundException", b"x", "NoSuchKey"] * 2
