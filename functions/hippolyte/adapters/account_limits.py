"""The account's read-capacity quotas (DescribeLimits), and the extra RCU a night may hold.

DescribeLimits is a read-only call; AWS asks callers to make it at most once a minute, which one
call per run or per ``hippolyte plan`` respects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError

from hippolyte.models import TableSnapshot

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

# AWS's default quotas (DynamoDB service quotas, "Throughput default quotas"): 80,000 RCU per
# account for provisioned tables and 40,000 RCU per table, in most regions. Accounts can raise them.
DEFAULT_ACCOUNT_MAX_READ_CAPACITY_UNITS = 80_000
DEFAULT_TABLE_MAX_READ_CAPACITY_UNITS = 40_000
# Errors that mean "this caller may not, or this endpoint cannot, answer DescribeLimits":
# the defaults are then the best estimate. Anything else (throttling, network) is raised.
_UNANSWERED = {
    "AccessDeniedException",
    "AccessDenied",
    "UnrecognizedClientException",
    "UnknownOperationException",
}


@dataclass(frozen=True)
class AccountLimits:
    """Read-capacity quotas of one account and region."""

    account_max_read_capacity_units: int = DEFAULT_ACCOUNT_MAX_READ_CAPACITY_UNITS
    table_max_read_capacity_units: int = DEFAULT_TABLE_MAX_READ_CAPACITY_UNITS
    # Where the figures come from: the live call, or AWS's defaults when it could not be made.
    source: Literal["DescribeLimits", "defaults"] = "defaults"
    note: str | None = None


def read_account_limits(dynamodb: DynamoDBClient) -> AccountLimits:
    """DescribeLimits' AccountMaxReadCapacityUnits and TableMaxReadCapacityUnits.

    Falls back to AWS's default quotas (with a note saying why) when the caller is not allowed to
    call DescribeLimits.
    """
    try:
        response = dynamodb.describe_limits()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in _UNANSWERED:
            raise
        return AccountLimits(note=f"DescribeLimits failed ({code}); assuming AWS's default quotas")
    return AccountLimits(
        account_max_read_capacity_units=int(
            response.get("AccountMaxReadCapacityUnits", DEFAULT_ACCOUNT_MAX_READ_CAPACITY_UNITS)
        ),
        table_max_read_capacity_units=int(
            response.get("TableMaxReadCapacityUnits", DEFAULT_TABLE_MAX_READ_CAPACITY_UNITS)
        ),
        source="DescribeLimits",
    )


def provisioned_read_capacity(tables: Iterable[TableSnapshot]) -> int:
    """RCU already provisioned across the tables and their global secondary indexes.

    The account quota counts both (on-demand tables count nothing).

    >>> from hippolyte.models import IndexCapacity
    >>> provisioned_read_capacity([TableSnapshot(name="orders", read_capacity_units=100,
    ...     gsis=[IndexCapacity(name="by-day", read_capacity_units=20, write_capacity_units=5)])])
    120
    """
    return sum(
        table.read_capacity_units + sum(index.read_capacity_units for index in table.gsis)
        for table in tables
        if not table.on_demand
    )


def extra_rcu_budget(limits: AccountLimits, tables: Iterable[TableSnapshot]) -> int:
    """The default ``max_extra_rcu``: the account's quota less what is already provisioned.

    >>> extra_rcu_budget(AccountLimits(account_max_read_capacity_units=80_000),
    ...                  [TableSnapshot(name="orders", read_capacity_units=5_000)])
    75000
    """
    return max(0, limits.account_max_read_capacity_units - provisioned_read_capacity(tables))
