"""Reading tables' tags: every page of ListTagsOfResource, each page paced (the call is metered
per account at 10 a second)."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber
from hippolyte.adapters.tables import table_tags

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def test_every_page_of_a_tables_tags_is_read_and_paced() -> None:
    # GIVEN a table whose tags come in two pages
    dynamodb = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    events: list[str] = []
    with Stubber(dynamodb) as stub:
        stub.add_response(
            "list_tags_of_resource",
            {"Tags": [{"Key": "team", "Value": "checkout"}], "NextToken": "page-2"},
            {"ResourceArn": ARN},
        )
        stub.add_response(
            "list_tags_of_resource",
            {"Tags": [{"Key": "hippolyte:engine", "Value": "export"}]},
            {"ResourceArn": ARN, "NextToken": "page-2"},
        )
        dynamodb.meta.events.register(
            "before-parameter-build.dynamodb.ListTagsOfResource",
            lambda **_: events.append("call"),
            unique_id="record-call",
        )

        # WHEN they are read with a pace
        tags = table_tags(dynamodb, ARN, pace=lambda: events.append("pace"))

    # THEN both pages are merged, and each call waited for its turn first
    assert tags == {"team": "checkout", "hippolyte:engine": "export"}
    assert events == ["pace", "call", "pace", "call"]
