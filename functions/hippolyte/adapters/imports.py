"""DynamoDB's own import (ImportTable) of a native export: start one (idempotently), describe it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import ImportTableDescriptionTypeDef, TableCreationParametersTypeDef


def start_import(
    dynamodb: DynamoDBClient, client_token: str, bucket: str, data_prefix: str, parameters: Mapping[str, Any]
) -> str:
    """ImportTable of the gzipped DynamoDB JSON under ``s3://bucket/data_prefix`` into a new table; its ARN.

    ``parameters`` are the new table's (TableCreationParameters). The same ``client_token`` returns
    the same import (for 8 hours, DynamoDB API reference), so a retried state starts no second one.
    """
    description = dynamodb.import_table(
        ClientToken=client_token,
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": data_prefix},
        InputFormat="DYNAMODB_JSON",
        InputCompressionType="GZIP",
        # Built by backup_manifest.import_table_parameters: CreateTable's parameters less those
        # ImportTable does not take. A plain dict there keeps the domain modules free of the stubs.
        TableCreationParameters=cast("TableCreationParametersTypeDef", parameters),
    )["ImportTableDescription"]
    return description["ImportArn"]


def describe_import(dynamodb: DynamoDBClient, import_arn: str) -> ImportTableDescriptionTypeDef:
    """DescribeImport's ``ImportTableDescription``."""
    return dynamodb.describe_import(ImportArn=import_arn)["ImportTableDescription"]
