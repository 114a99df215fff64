"""The account's read-capacity quotas and the default budget of extra RCU."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from hippolyte.adapters.account_limits import AccountLimits, extra_rcu_budget, read_account_limits
from hippolyte.models import IndexCapacity, TableSnapshot


class FakeDynamoDB:
    """Answers DescribeLimits with a response, or raises an AWS error code."""

    def __init__(self, response: dict | None = None, error: str | None = None) -> None:
        self.response = response or {}
        self.error = error

    def describe_limits(self) -> dict:
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "DescribeLimits")
        return self.response


def test_the_live_quotas_are_read():
    # GIVEN an account whose quotas were raised
    client = FakeDynamoDB({"AccountMaxReadCapacityUnits": 160_000, "TableMaxReadCapacityUnits": 60_000})
    # THEN they are used, and marked as read from the account
    assert read_account_limits(client) == AccountLimits(160_000, 60_000, source="DescribeLimits")


def test_a_caller_without_permission_gets_the_defaults_and_a_note():
    limits = read_account_limits(FakeDynamoDB(error="AccessDeniedException"))
    assert (limits.account_max_read_capacity_units, limits.table_max_read_capacity_units) == (80_000, 40_000)
    assert limits.source == "defaults"
    assert "AccessDeniedException" in (limits.note or "")


def test_other_errors_are_not_hidden():
    # GIVEN DescribeLimits throttled: guessing the quota would hide a real problem
    with pytest.raises(ClientError):
        read_account_limits(FakeDynamoDB(error="ThrottlingException"))


def test_the_budget_is_the_quota_less_tables_and_indexes_provisioned():
    tables = [
        TableSnapshot(
            name="orders",
            read_capacity_units=1_000,
            gsis=[IndexCapacity(name="by-day", read_capacity_units=500, write_capacity_units=1)],
        ),
        TableSnapshot(name="clicks", billing_mode="PAY_PER_REQUEST"),
        TableSnapshot(name="users", read_capacity_units=2_500),
    ]
    assert extra_rcu_budget(AccountLimits(account_max_read_capacity_units=80_000), tables) == 76_000
    # AND an account already over its quota has no budget, not a negative one
    assert extra_rcu_budget(AccountLimits(account_max_read_capacity_units=3_000), tables) == 0
