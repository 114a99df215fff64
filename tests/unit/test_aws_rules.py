"""Each rule of tests/support/aws_rules.py, checked through boto3 clients served by moto.

A few tests run without StrictAws to record what moto alone accepts: they are why the fake exists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hippolyte_local import pipeline_runs
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.datapipeline.models import datapipeline_backends

from tests.support.aws_rules import (
    DEFAULT_START,
    MAX_DECREASES_PER_DAY,
    FakeClock,
    StrictAws,
)

REGION = "us-east-1"
# botocore retries LimitExceededException with real sleeps: one attempt shows every error at once.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def strict(aws: None) -> Iterator[StrictAws]:
    with StrictAws() as rules:
        yield rules


@pytest.fixture(scope="module")
def session() -> boto3.session.Session:
    # Creating a client costs about 0.1 s; the clients below are made once and used under each
    # test's own mock_aws() (moto intercepts every botocore client while a mock is active).
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture(scope="module")
def dynamodb_client(session: boto3.session.Session) -> Any:
    return session.client("dynamodb", config=NO_RETRIES)


@pytest.fixture(scope="module")
def datapipeline_client(session: boto3.session.Session) -> Any:
    return session.client("datapipeline", config=NO_RETRIES)


@pytest.fixture
def dynamodb(aws: None, dynamodb_client: Any) -> Any:
    return dynamodb_client


@pytest.fixture
def datapipeline(aws: None, datapipeline_client: Any) -> Any:
    return datapipeline_client


def create_table(
    client: Any,
    name: str,
    *,
    rcu: int = 10,
    wcu: int = 10,
    gsis: tuple[str, ...] = (),
    on_demand: bool = False,
) -> None:
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    indexes = []
    for index in gsis:
        attributes.append({"AttributeName": index, "AttributeType": "S"})
        gsi: dict[str, Any] = {
            "IndexName": index,
            "KeySchema": [{"AttributeName": index, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
        if not on_demand:
            gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}
        indexes.append(gsi)
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": attributes,
    }
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    if on_demand:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    else:
        kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}
    client.create_table(**kwargs)


def capacity(rcu: int, wcu: int) -> dict[str, int]:
    return {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}


def gsi_update(index: str, rcu: int, wcu: int) -> list[dict[str, Any]]:
    return [{"Update": {"IndexName": index, "ProvisionedThroughput": capacity(rcu, wcu)}}]


def client_error(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


def code_of(call: Callable[[], Any]) -> str:
    return str(client_error(call).response["Error"]["Code"])


def describe(client: Any, name: str) -> dict[str, Any]:
    return dict(client.describe_table(TableName=name)["Table"])


def index_description(client: Any, name: str, index: str) -> dict[str, Any]:
    return next(gsi for gsi in describe(client, name)["GlobalSecondaryIndexes"] if gsi["IndexName"] == index)


# --------------------------------------------------------------------------------------- fake clock


def test_clock_starts_at_a_fixed_utc_time_and_only_moves_forward() -> None:
    # GIVEN a default clock
    clock = FakeClock()

    # THEN it starts at the nightly backup time and refuses to go back
    assert clock.now() == datetime(2026, 11, 28, 0, 10, tzinfo=UTC) == DEFAULT_START
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="cannot go back"):
        clock.set(DEFAULT_START - timedelta(days=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 1))


def test_strict_aws_shares_an_injected_clock(aws: None) -> None:
    # GIVEN a clock owned by the test
    clock = FakeClock(datetime(2026, 12, 1, 23, 0, tzinfo=UTC))

    # WHEN StrictAws advances it
    with StrictAws(clock=clock) as rules:
        rules.advance(timedelta(hours=2))

    # THEN the test's clock moved too
    assert clock.now() == datetime(2026, 12, 2, 1, 0, tzinfo=UTC) == rules.now


# ---------------------------------------------------------------- what moto accepts without the fake


def test_moto_alone_accepts_what_aws_refuses(dynamodb: Any, datapipeline: Any) -> None:
    # GIVEN a provisioned table, an on-demand table and no StrictAws
    create_table(dynamodb, "orders")
    create_table(dynamodb, "events", on_demand=True)

    # WHEN updating to the same values, twice in a row, and giving throughput to an on-demand table
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(10, 10))
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(10, 10))
    dynamodb.update_table(TableName="events", ProvisionedThroughput=capacity(5, 5))

    # THEN moto accepts all of it and the table is never UPDATING
    assert describe(dynamodb, "orders")["TableStatus"] == "ACTIVE"
    # AND Data Pipeline ignores uniqueId and describes an unknown id as nothing
    first = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    second = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    assert first != second
    assert datapipeline.describe_pipelines(pipelineIds=["df-unknown"])["pipelineDescriptionList"] == []
    # AND it has no QueryObjects: nothing tells how a pipeline's run goes
    with pytest.raises(NotImplementedError):
        datapipeline.query_objects(pipelineId=first, sphere="INSTANCE")


def test_leaving_the_context_removes_the_rules(dynamodb: Any) -> None:
    # GIVEN a table updated under StrictAws
    create_table(dynamodb, "orders")
    with StrictAws():
        dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10))

    # WHEN the same values are sent again after the context
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10))

    # THEN moto's lax behaviour is back
    assert describe(dynamodb, "orders")["TableStatus"] == "ACTIVE"


# ----------------------------------------------------------------------------- D1 on-demand tables


def test_throughput_on_an_on_demand_table_is_a_validation_error(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN an on-demand table with a GSI
    create_table(dynamodb, "events", gsis=("by_day",), on_demand=True)

    # WHEN throughput is given for the table or for its GSI
    table_error = client_error(lambda: dynamodb.update_table(TableName="events", ProvisionedThroughput=capacity(5, 5)))
    gsi_code = code_of(
        lambda: dynamodb.update_table(TableName="events", GlobalSecondaryIndexUpdates=gsi_update("by_day", 5, 5))
    )

    # THEN both are refused as AWS refuses them
    assert table_error.response["Error"]["Code"] == "ValidationException"
    assert "PAY_PER_REQUEST" in table_error.response["Error"]["Message"]
    assert gsi_code == "ValidationException"
    assert describe(dynamodb, "events")["ProvisionedThroughput"]["ReadCapacityUnits"] == 0


# ------------------------------------------------------------------------------- D2 no-op updates


def test_same_values_are_a_validation_error_for_the_table_and_a_gsi(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a provisioned table with a GSI, both at 10/10
    create_table(dynamodb, "orders", gsis=("by_day",))

    # WHEN either is updated to 10/10
    table_error = client_error(
        lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(10, 10))
    )
    gsi_error = client_error(
        lambda: dynamodb.update_table(TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("by_day", 10, 10))
    )

    # THEN AWS's "will not change" ValidationException comes back, and nothing is UPDATING
    assert table_error.response["Error"]["Code"] == "ValidationException"
    assert table_error.response["Error"]["Message"].startswith(
        "The provisioned throughput for the table will not change"
    )
    assert gsi_error.response["Error"]["Code"] == "ValidationException"
    assert "index by_day will not change" in gsi_error.response["Error"]["Message"]
    assert not strict.is_updating("orders")


# -------------------------------------------------------------------------- D3 one update at a time


def test_an_update_leaves_the_table_updating_until_the_clock_passes_it(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table just boosted
    create_table(dynamodb, "orders")
    response = dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(100, 10))

    # THEN the response and DescribeTable say UPDATING, and a second update is refused
    assert response["TableDescription"]["TableStatus"] == "UPDATING"
    assert describe(dynamodb, "orders")["TableStatus"] == "UPDATING"
    assert (
        code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(10, 10)))
        == "ResourceInUseException"
    )

    # WHEN 29 s pass it is still UPDATING; at 30 s it is ACTIVE and takes the next update
    strict.advance(timedelta(seconds=29))
    assert describe(dynamodb, "orders")["TableStatus"] == "UPDATING"
    strict.advance(timedelta(seconds=1))
    assert describe(dynamodb, "orders")["TableStatus"] == "ACTIVE"
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(10, 10))
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 10


def test_a_gsi_update_blocks_every_other_update_of_the_table(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table with two GSIs, one of them being updated
    create_table(dynamodb, "orders", gsis=("by_day", "by_user"))
    dynamodb.update_table(TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("by_day", 50, 10))

    # THEN that GSI is UPDATING, the other is ACTIVE, and neither the table nor the other GSI can change
    assert index_description(dynamodb, "orders", "by_day")["IndexStatus"] == "UPDATING"
    assert index_description(dynamodb, "orders", "by_user")["IndexStatus"] == "ACTIVE"
    assert describe(dynamodb, "orders")["TableStatus"] == "UPDATING"
    assert (
        code_of(
            lambda: dynamodb.update_table(TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("by_user", 50, 10))
        )
        == "ResourceInUseException"
    )
    assert (
        code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 10)))
        == "ResourceInUseException"
    )


def test_auto_advance_lets_a_poll_for_active_terminate(aws: None, dynamodb: Any) -> None:
    # GIVEN the clock advancing 10 s on every DescribeTable, and an update of 30 s
    create_table(dynamodb, "orders")
    with StrictAws(auto_advance_on_describe=True) as rules:
        dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(100, 10))

        # WHEN polling DescribeTable until ACTIVE (with a deadline, as every poll must have)
        polls = 0
        while describe(dynamodb, "orders")["TableStatus"] != "ACTIVE":
            polls += 1
            assert polls < 10

        # THEN three DescribeTable calls moved fake time past the update, with no real wait
        assert polls == 2
        assert rules.now == DEFAULT_START + timedelta(seconds=30)


def test_settle_ends_updates_and_delete_waits_for_them(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table being updated
    create_table(dynamodb, "orders")
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(100, 10))

    # WHEN it is deleted while UPDATING, AWS refuses (DeleteTable API reference)
    assert code_of(lambda: dynamodb.delete_table(TableName="orders")) == "ResourceInUseException"

    # THEN after settle() it is ACTIVE at the same fake time and can be deleted
    strict.settle()
    assert strict.now == DEFAULT_START
    assert describe(dynamodb, "orders")["TableStatus"] == "ACTIVE"
    dynamodb.delete_table(TableName="orders")
    assert code_of(lambda: describe(dynamodb, "orders")) == "ResourceNotFoundException"


def test_concurrent_updates_from_threads_accept_exactly_one(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN eight threads ready to boost the same table at once (as Map iterations would)
    create_table(dynamodb, "orders")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    outcomes_lock = threading.Lock()

    def boost(rcu: int) -> None:
        barrier.wait(timeout=5)
        try:
            # botocore clients are thread-safe: the threads share the test's client.
            dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(rcu, 10))
            outcome = "accepted"
        except ClientError as error:
            outcome = error.response["Error"]["Code"]
        with outcomes_lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=boost, args=(100 + n,)) for n in range(8)]

    # WHEN they all call UpdateTable
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # THEN one wins and seven see the table UPDATING
    assert sorted(outcomes) == ["ResourceInUseException"] * 7 + ["accepted"]
    assert [call.error_code for call in strict.update_table_calls].count(None) == 1


# --------------------------------------------------------------------------- D4 decrease limit


def decrease(client: Any, rules: StrictAws, name: str, rcu: int) -> None:
    client.update_table(TableName=name, ProvisionedThroughput=capacity(rcu, 1))
    rules.settle()


def test_four_decreases_then_one_per_hour_without_a_decrease(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table decreased four times in a row
    create_table(dynamodb, "orders", rcu=100, wcu=1)
    for rcu in (90, 80, 70, 60):
        decrease(dynamodb, strict, "orders", rcu)
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 4

    # WHEN a fifth comes at once
    error = client_error(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 1)))

    # THEN it is refused with AWS's wording, and increases stay allowed
    assert error.response["Error"]["Code"] == "LimitExceededException"
    message = error.response["Error"]["Message"]
    assert message.startswith("Subscriber limit exceeded: Provisioned throughput decreases are limited")
    assert "Number of decreases today: 4" in message
    assert "Next decrease can be made at Saturday, November 28, 2026 1:10:00 AM UTC" in message
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(65, 1))
    strict.settle()

    # AND 59 minutes later still refused, one hour after the last decrease allowed, then refused again
    strict.advance(timedelta(minutes=59))
    assert (
        code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 1)))
        == "LimitExceededException"
    )
    strict.advance(timedelta(minutes=1))
    decrease(dynamodb, strict, "orders", 50)
    assert strict.decreases_today("orders") == 5
    assert strict.next_decrease_allowed_at("orders") == strict.now + timedelta(hours=1)
    assert (
        code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(40, 1)))
        == "LimitExceededException"
    )


def test_the_decrease_count_resets_at_utc_midnight(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table at today's maximum
    create_table(dynamodb, "orders", rcu=100, wcu=1)
    strict.set_decreases_today("orders", MAX_DECREASES_PER_DAY, last_decrease=strict.now - timedelta(hours=2))

    # WHEN a decrease is tried now, and again after 00:00 UTC
    refused = code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 1)))
    midnight = datetime(2026, 11, 29, tzinfo=UTC)
    assert strict.next_decrease_allowed_at("orders") == midnight
    strict.clock.set(midnight)
    before = describe(dynamodb, "orders")["ProvisionedThroughput"]
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 1))

    # THEN the 28th is refused however long ago the last one was, and the new day starts at zero
    assert refused == "LimitExceededException"
    assert before["NumberOfDecreasesToday"] == 0
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 1


def test_table_and_each_gsi_have_their_own_decrease_counter(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table that used all its decreases today, and its GSI that used none
    create_table(dynamodb, "orders", rcu=100, wcu=1, gsis=("by_day",))
    strict.set_decreases_today("orders", MAX_DECREASES_PER_DAY)

    # WHEN the GSI and then the table are decreased
    dynamodb.update_table(TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("by_day", 50, 1))
    strict.settle()
    table_code = code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(50, 1)))

    # THEN the GSI decrease went through and is counted on the GSI only
    assert table_code == "LimitExceededException"
    gsi = index_description(dynamodb, "orders", "by_day")["ProvisionedThroughput"]
    assert (gsi["ReadCapacityUnits"], gsi["NumberOfDecreasesToday"]) == (50, 1)
    assert gsi["LastDecreaseDateTime"] == strict.now
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 27


def test_describe_reports_last_increase_and_decrease_times(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a table boosted at 00:10 and restored at 01:10, by raising RCU while lowering WCU
    create_table(dynamodb, "orders", rcu=10, wcu=10)
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(100, 10))
    strict.advance(timedelta(hours=1))
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(200, 5))

    # WHEN the table is described
    throughput = describe(dynamodb, "orders")["ProvisionedThroughput"]

    # THEN a mixed update counts as a decrease and as an increase, at fake times
    assert throughput["LastIncreaseDateTime"] == strict.now
    assert throughput["LastDecreaseDateTime"] == strict.now
    assert throughput["NumberOfDecreasesToday"] == 1
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (200, 5)


def test_presets_are_validated(strict: StrictAws, dynamodb: Any) -> None:
    create_table(dynamodb, "orders")
    with pytest.raises(ValueError, match="between 0 and 27"):
        strict.set_decreases_today("orders", 28)
    with pytest.raises(ValueError, match="future"):
        strict.set_decreases_today("orders", 4, last_decrease=strict.now + timedelta(seconds=1))


# ------------------------------------------------------------------------ D5 capacity-mode switches


def test_switches_to_on_demand_are_limited_to_four_a_rolling_day(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN a provisioned table with a GSI switched to on-demand and back four times, an hour apart
    create_table(dynamodb, "orders", gsis=("by_day",))
    for _ in range(4):
        dynamodb.update_table(TableName="orders", BillingMode="PAY_PER_REQUEST")
        strict.settle()
        table = describe(dynamodb, "orders")
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
        assert table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
        dynamodb.update_table(
            TableName="orders",
            BillingMode="PROVISIONED",
            ProvisionedThroughput=capacity(10, 10),
            GlobalSecondaryIndexUpdates=gsi_update("by_day", 10, 10),
        )
        strict.settle()
        strict.advance(timedelta(hours=1))

    # WHEN a fifth switch is tried within 24 h of the first, and again 24 h after the first
    refused = code_of(lambda: dynamodb.update_table(TableName="orders", BillingMode="PAY_PER_REQUEST"))
    strict.clock.set(DEFAULT_START + timedelta(hours=24))
    dynamodb.update_table(TableName="orders", BillingMode="PAY_PER_REQUEST")

    # THEN the fifth is refused until the rolling window lets the first one go
    assert refused == "LimitExceededException"
    assert describe(dynamodb, "orders")["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_switching_to_provisioned_needs_throughput_for_table_and_gsis(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN an on-demand table with a GSI
    create_table(dynamodb, "events", gsis=("by_day",), on_demand=True)

    # WHEN it is switched to PROVISIONED without throughput, or without the GSI's
    no_throughput = code_of(lambda: dynamodb.update_table(TableName="events", BillingMode="PROVISIONED"))
    no_gsi = client_error(
        lambda: dynamodb.update_table(
            TableName="events", BillingMode="PROVISIONED", ProvisionedThroughput=capacity(5, 5)
        )
    )

    # THEN both are refused, and the complete switch is accepted (without counting as a decrease)
    assert no_throughput == "ValidationException"
    assert no_gsi.response["Error"]["Code"] == "ValidationException"
    assert "index: by_day" in no_gsi.response["Error"]["Message"]
    dynamodb.update_table(
        TableName="events",
        BillingMode="PROVISIONED",
        ProvisionedThroughput=capacity(5, 5),
        GlobalSecondaryIndexUpdates=gsi_update("by_day", 5, 5),
    )
    table = describe(dynamodb, "events")
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert table["ProvisionedThroughput"]["NumberOfDecreasesToday"] == 0


# --------------------------------------------------------------------------- D6, D7 other checks


def test_capacity_above_the_per_table_maximum_is_refused(aws: None, dynamodb: Any) -> None:
    # GIVEN a per-table maximum of 1,000 units
    create_table(dynamodb, "orders", gsis=("by_day",))
    with StrictAws(max_capacity_units=1_000):
        # WHEN the table or its GSI asks for more
        table_code = code_of(
            lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(1_001, 10))
        )
        gsi_code = code_of(
            lambda: dynamodb.update_table(
                TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("by_day", 10, 1_001)
            )
        )

    # THEN both are refused
    assert table_code == gsi_code == "LimitExceededException"


def test_an_unknown_gsi_is_resource_not_found(strict: StrictAws, dynamodb: Any) -> None:
    create_table(dynamodb, "orders")
    assert (
        code_of(lambda: dynamodb.update_table(TableName="orders", GlobalSecondaryIndexUpdates=gsi_update("nope", 5, 5)))
        == "ResourceNotFoundException"
    )


# ----------------------------------------------------------------------- UpdateTable fault injection


def test_throttled_update_table_fails_n_times_for_the_chosen_table(strict: StrictAws, dynamodb: Any) -> None:
    # GIVEN two tables and two throttles aimed at "orders"
    create_table(dynamodb, "orders")
    create_table(dynamodb, "events")
    strict.throttle_update_table(2, table="orders")

    # WHEN both tables are updated
    dynamodb.update_table(TableName="events", ProvisionedThroughput=capacity(20, 10))
    first = client_error(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10)))
    second = code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10)))
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10))

    # THEN "events" is untouched by the fault, "orders" fails twice then succeeds, and the log says so
    assert first.response["Error"]["Code"] == second == "LimitExceededException"
    assert "simultaneously" in first.response["Error"]["Message"]
    assert [(call.table, call.error_code) for call in strict.update_table_calls] == [
        ("events", None),
        ("orders", "LimitExceededException"),
        ("orders", "LimitExceededException"),
        ("orders", None),
    ]
    assert strict.update_table_calls[-1].request["throughput"] == capacity(20, 10)


# --------------------------------------------------- A1 Application Auto Scaling moves the capacity


@pytest.fixture(scope="module")
def autoscaling_client(session: boto3.session.Session) -> Any:
    return session.client("application-autoscaling")


@pytest.fixture
def autoscaling(aws: None, autoscaling_client: Any) -> Any:
    return autoscaling_client


def register(client: Any, resource: str, minimum: int, maximum: int, dimension: str = "table") -> None:
    client.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension=f"dynamodb:{dimension}:ReadCapacityUnits",
        MinCapacity=minimum,
        MaxCapacity=maximum,
    )


def test_moto_alone_never_lets_auto_scaling_change_a_table(dynamodb: Any, autoscaling: Any) -> None:
    # GIVEN a table at 10 RCU and no StrictAws
    create_table(dynamodb, "orders", rcu=10)

    # WHEN its scaling target gets a minimum of 400
    register(autoscaling, "table/orders", 400, 400)

    # THEN moto leaves the table at 10, where AWS would raise it
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 10


def test_registering_bounds_moves_the_table_into_them_as_an_update_would(
    strict: StrictAws, dynamodb: Any, autoscaling: Any
) -> None:
    # GIVEN a table at 10 RCU under auto scaling (5..200, which holds it where it is)
    create_table(dynamodb, "orders", rcu=10)
    register(autoscaling, "table/orders", 5, 200)
    assert describe(dynamodb, "orders")["TableStatus"] == "ACTIVE"

    # WHEN the minimum is raised to 400
    register(autoscaling, "table/orders", 400, 400)

    # THEN Application Auto Scaling raised the table to 400 and it is UPDATING
    table = describe(dynamodb, "orders")
    assert (table["TableStatus"], table["ProvisionedThroughput"]["ReadCapacityUnits"]) == ("UPDATING", 400)
    # AND an UpdateTable of the code's own now collides with that change
    error = code_of(lambda: dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(400, 10)))
    assert error == "ResourceInUseException"

    # WHEN the owner's bounds come back once the table is ACTIVE
    strict.advance(timedelta(minutes=1))
    register(autoscaling, "table/orders", 5, 200)

    # THEN the table is lowered to the nearest bound (200, not its old 10), a counted decrease
    throughput = describe(dynamodb, "orders")["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["NumberOfDecreasesToday"]) == (200, 1)
    assert [(a.from_capacity, a.to_capacity, a.error_code) for a in strict.scaling_activities] == [
        (10, 400, None),
        (400, 200, None),
    ]
    # AND none of it appears as the code's own UpdateTable
    assert [call.error_code for call in strict.update_table_calls] == ["ResourceInUseException"]


def test_auto_scaling_cannot_lower_a_table_past_the_decrease_limit(
    strict: StrictAws, dynamodb: Any, autoscaling: Any
) -> None:
    # GIVEN a boosted table that used up its decreases for the hour
    create_table(dynamodb, "orders", rcu=400)
    strict.set_decreases_today("orders", 4)

    # WHEN its owner's bounds (5..200) are registered
    register(autoscaling, "table/orders", 5, 200)

    # THEN the registration stands but the table stays at 400, ACTIVE
    table = describe(dynamodb, "orders")
    assert (table["TableStatus"], table["ProvisionedThroughput"]["ReadCapacityUnits"]) == ("ACTIVE", 400)
    assert strict.scaling_activities[-1].error_code == "LimitExceededException"
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(5, 200)]

    # WHEN an hour later the same bounds are registered again
    strict.advance(timedelta(hours=1))
    register(autoscaling, "table/orders", 5, 200)

    # THEN the decrease goes through
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 200


def test_auto_scaling_does_not_move_an_updating_table(strict: StrictAws, dynamodb: Any, autoscaling: Any) -> None:
    # GIVEN a table UPDATING from an UpdateTable
    create_table(dynamodb, "orders", rcu=10)
    dynamodb.update_table(TableName="orders", ProvisionedThroughput=capacity(20, 10))

    # WHEN a scaling target with a minimum of 400 is registered
    register(autoscaling, "table/orders", 400, 400)

    # THEN the capacity stays at 20: the table is not active
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 20
    assert strict.scaling_activities[-1].error_code == "ResourceInUseException"


def test_an_index_dimension_moves_the_gsi_on_its_own_counter(
    strict: StrictAws, dynamodb: Any, autoscaling: Any
) -> None:
    # GIVEN a table and its GSI at 100 RCU, the table out of decreases for today
    create_table(dynamodb, "orders", rcu=100, wcu=1, gsis=("by_day",))
    strict.set_decreases_today("orders", MAX_DECREASES_PER_DAY)

    # WHEN the GSI's read target is registered with a maximum of 50
    register(autoscaling, "table/orders/index/by_day", 1, 50, dimension="index")

    # THEN the GSI is lowered to 50 (its own decrease) and UPDATING; the table keeps 100
    gsi = index_description(dynamodb, "orders", "by_day")
    assert gsi["IndexStatus"] == "UPDATING"
    assert (
        gsi["ProvisionedThroughput"]["ReadCapacityUnits"],
        gsi["ProvisionedThroughput"]["NumberOfDecreasesToday"],
    ) == (
        50,
        1,
    )
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 100


def test_fail_scaling_leaves_the_capacity_where_it_was(strict: StrictAws, dynamodb: Any, autoscaling: Any) -> None:
    # GIVEN one injected refusal of Application Auto Scaling's change to "orders"
    create_table(dynamodb, "orders", rcu=10)
    strict.fail_scaling(1, table="orders")

    # WHEN the minimum is raised twice
    register(autoscaling, "table/orders", 400, 400)
    first = describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"]
    register(autoscaling, "table/orders", 400, 400)

    # THEN the first change was refused and the second applied
    assert first == 10
    assert describe(dynamodb, "orders")["ProvisionedThroughput"]["ReadCapacityUnits"] == 400
    assert [a.error_code for a in strict.scaling_activities] == ["LimitExceededException", None]


# ---------------------------------------------------------------------------- Data Pipeline rules


def definition(*extra_fields: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"id": "Default", "name": "Default", "fields": [{"key": "scheduleType", "stringValue": "ONDEMAND"}]},
        {"id": "Cluster", "name": "Cluster", "fields": [{"key": "type", "stringValue": "EmrCluster"}]},
        {
            "id": "Export",
            "name": "Export",
            "fields": [
                {"key": "type", "stringValue": "EmrActivity"},
                {"key": "runsOn", "refValue": "Cluster"},
                *extra_fields,
            ],
        },
    ]


def test_create_pipeline_is_idempotent_on_name_and_unique_id(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN a pipeline
    first = datapipeline.create_pipeline(name="backup-1", uniqueId="run-1-batch-1")["pipelineId"]

    # WHEN it is created again with the same name and uniqueId, or another uniqueId
    again = datapipeline.create_pipeline(name="backup-1", uniqueId="run-1-batch-1")["pipelineId"]
    other = datapipeline.create_pipeline(name="backup-1", uniqueId="run-1-batch-2")["pipelineId"]

    # THEN the retry gets the same id, and a deleted pipeline is not resurrected
    assert again == first
    assert other != first
    datapipeline.delete_pipeline(pipelineId=first)
    assert datapipeline.create_pipeline(name="backup-1", uniqueId="run-1-batch-1")["pipelineId"] != first


def test_the_account_pipeline_limit(aws: None, datapipeline: Any) -> None:
    with StrictAws(pipeline_limit=3):
        # GIVEN an account at its limit of three pipelines
        ids = [datapipeline.create_pipeline(name=f"p{n}", uniqueId=f"u{n}")["pipelineId"] for n in range(3)]

        # WHEN a fourth is created
        error = client_error(lambda: datapipeline.create_pipeline(name="p3", uniqueId="u3"))

        # THEN Data Pipeline's InvalidRequestException comes back; a retry of an existing one still
        # answers, and deleting one frees a place
        assert error.response["Error"]["Code"] == "InvalidRequestException"
        assert "3 pipelines" in error.response["Error"]["Message"]
        assert datapipeline.create_pipeline(name="p0", uniqueId="u0")["pipelineId"] == ids[0]
        datapipeline.delete_pipeline(pipelineId=ids[0])
        datapipeline.create_pipeline(name="p3", uniqueId="u3")


def test_fail_create_pipeline_injects_errors(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN two injected limit errors, then one internal error
    strict.fail_create_pipeline(2)
    strict.fail_create_pipeline(code="InternalServiceError", message="boom")

    # WHEN creating four times
    codes = [code_of(lambda: datapipeline.create_pipeline(name="p", uniqueId="u")) for _ in range(3)]
    created = datapipeline.create_pipeline(name="p", uniqueId="u")

    # THEN the faults come in order, then creation works
    assert codes == ["InvalidRequestException", "InvalidRequestException", "InternalServiceError"]
    assert created["pipelineId"]


def test_a_valid_definition_is_stored_and_can_be_activated(strict: StrictAws, datapipeline: Any) -> None:
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]

    response = datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=definition())
    datapipeline.activate_pipeline(pipelineId=pipeline_id)

    assert response["errored"] is False
    assert len(datapipeline.get_pipeline_definition(pipelineId=pipeline_id)["pipelineObjects"]) == 3


@pytest.mark.parametrize(
    ("objects", "errored_id", "fragment"),
    [
        pytest.param(
            definition(*({"key": f"f{n}", "stringValue": "x"} for n in range(49))),
            "Export",
            "51 fields",
            id="too-many-fields",
        ),
        pytest.param(
            definition({"key": "output", "refValue": "Missing"}),
            "Export",
            "references object 'Missing'",
            id="dangling-ref",
        ),
        pytest.param(definition({"key": "step", "stringValue": ""}), "Export", "empty", id="empty-field"),
        pytest.param(
            [{"id": f"o{n}", "name": f"o{n}", "fields": []} for n in range(101)],
            "PIPELINE",
            "101 objects",
            id="too-many-objects",
        ),
    ],
)
def test_an_invalid_definition_is_returned_as_validation_errors(
    strict: StrictAws, datapipeline: Any, objects: list[dict[str, Any]], errored_id: str, fragment: str
) -> None:
    # GIVEN a pipeline
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]

    # WHEN an invalid definition is put
    response = datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=objects)

    # THEN errors are returned (not raised), nothing is stored and activation is refused
    assert response["errored"] is True
    expected_id = pipeline_id if errored_id == "PIPELINE" else errored_id
    errors = {error["id"]: error["errors"] for error in response["validationErrors"]}
    assert any(fragment in message for message in errors[expected_id])
    assert datapipeline.get_pipeline_definition(pipelineId=pipeline_id)["pipelineObjects"] == []
    assert code_of(lambda: datapipeline.activate_pipeline(pipelineId=pipeline_id)) == "InvalidRequestException"


def test_an_errored_definition_blocks_activation_until_fixed(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN a pipeline whose valid definition was followed by an invalid one
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=definition())
    datapipeline.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=definition({"key": "output", "refValue": "Missing"})
    )

    # THEN activation is refused until a valid definition is put again
    assert code_of(lambda: datapipeline.activate_pipeline(pipelineId=pipeline_id)) == "InvalidRequestException"
    datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=definition())
    datapipeline.activate_pipeline(pipelineId=pipeline_id)


def test_an_empty_pipeline_cannot_be_activated(strict: StrictAws, datapipeline: Any) -> None:
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    assert code_of(lambda: datapipeline.activate_pipeline(pipelineId=pipeline_id)) == "InvalidRequestException"


DELETED = "PipelineDeletedException"
NOT_FOUND = "PipelineNotFoundException"


@pytest.mark.parametrize(
    ("call", "deleted_code"),
    [
        pytest.param(lambda dp, pid: dp.describe_pipelines(pipelineIds=[pid]), DELETED, id="describe"),
        pytest.param(lambda dp, pid: dp.activate_pipeline(pipelineId=pid), DELETED, id="activate"),
        pytest.param(lambda dp, pid: dp.get_pipeline_definition(pipelineId=pid), DELETED, id="get-definition"),
        pytest.param(
            lambda dp, pid: dp.put_pipeline_definition(pipelineId=pid, pipelineObjects=definition()),
            DELETED,
            id="put-definition",
        ),
        pytest.param(lambda dp, pid: dp.describe_objects(pipelineId=pid, objectIds=["Default"]), DELETED, id="objects"),
        pytest.param(lambda dp, pid: dp.query_objects(pipelineId=pid, sphere="INSTANCE"), DELETED, id="query"),
        # DeletePipeline's model lists PipelineNotFoundException only.
        pytest.param(lambda dp, pid: dp.delete_pipeline(pipelineId=pid), NOT_FOUND, id="delete"),
    ],
)
def test_unknown_and_deleted_pipelines_raise_aws_errors(
    strict: StrictAws, datapipeline: Any, call: Callable[[Any, str], Any], deleted_code: str
) -> None:
    # GIVEN an id that never existed and one deleted during the run
    deleted = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    datapipeline.delete_pipeline(pipelineId=deleted)

    # WHEN the operation is called with each
    unknown = code_of(lambda: call(datapipeline, "df-00000000000000000000"))
    gone = code_of(lambda: call(datapipeline, deleted))

    # THEN AWS's errors come back, not moto's empty list or KeyError
    assert (unknown, gone) == (NOT_FOUND, deleted_code)


def test_describe_pipelines_takes_at_most_25_ids_and_keeps_their_order(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN 26 pipelines
    ids = [datapipeline.create_pipeline(name=f"p{n}", uniqueId=f"u{n}")["pipelineId"] for n in range(26)]

    # WHEN described all at once, and 25 in reverse order
    too_many = code_of(lambda: datapipeline.describe_pipelines(pipelineIds=ids))
    described = datapipeline.describe_pipelines(pipelineIds=ids[25:0:-1])["pipelineDescriptionList"]

    # THEN 26 is too many, and 25 come back in the order asked
    assert too_many == "InvalidRequestException"
    assert [pipeline["pipelineId"] for pipeline in described] == ids[25:0:-1]


def test_list_pipelines_returns_every_pipeline(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN 51 pipelines (moto alone lists 50 of them)
    ids = {datapipeline.create_pipeline(name=f"p{n}", uniqueId=f"u{n}")["pipelineId"] for n in range(51)}

    # WHEN listing them page by page
    pages = list(datapipeline.get_paginator("list_pipelines").paginate())

    # THEN two pages hold all 51
    assert len(pages) == 2
    assert {entry["id"] for page in pages for entry in page["pipelineIdList"]} == ids


# ------------------------------------------------------- P3 throughput percentages of data nodes


def data_node(key: str, value: str) -> list[dict[str, Any]]:
    return [
        *definition(),
        {
            "id": "Source",
            "name": "Source",
            "fields": [
                {"key": "type", "stringValue": "DynamoDBDataNode"},
                {"key": "tableName", "stringValue": "orders"},
                {"key": key, "stringValue": value},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("readThroughputPercent", "0.05"),
        ("readThroughputPercent", "0.099999"),
        ("readThroughputPercent", "1.5"),
        ("readThroughputPercent", "half"),
        ("writeThroughputPercent", "0.09"),
    ],
)
def test_a_throughput_percent_outside_0_1_to_1_is_a_validation_error(
    strict: StrictAws, datapipeline: Any, key: str, value: str
) -> None:
    # GIVEN a pipeline
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]

    # WHEN a data node's percentage is outside the documented range
    response = datapipeline.put_pipeline_definition(pipelineId=pipeline_id, pipelineObjects=data_node(key, value))

    # THEN the definition is returned with an error on that node, and cannot be activated
    assert response["errored"] is True
    (error,) = response["validationErrors"]
    assert error["id"] == "Source" and key in error["errors"][0] and "between 0.1 and 1.0" in error["errors"][0]
    assert code_of(lambda: datapipeline.activate_pipeline(pipelineId=pipeline_id)) == "InvalidRequestException"


@pytest.mark.parametrize("value", ["0.1", "0.100000", "0.5", "1.0"])
def test_a_throughput_percent_within_0_1_to_1_is_accepted(strict: StrictAws, datapipeline: Any, value: str) -> None:
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]

    response = datapipeline.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=data_node("readThroughputPercent", value)
    )

    assert response["errored"] is False


# ------------------------------------------------------------------- P8, P9 a pipeline's run


def activated(datapipeline: Any) -> str:
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    datapipeline.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=data_node("readThroughputPercent", "0.5")
    )
    datapipeline.activate_pipeline(pipelineId=pipeline_id)
    return pipeline_id


def pipeline_fields(datapipeline: Any, pipeline_id: str) -> dict[str, str]:
    (described,) = datapipeline.describe_pipelines(pipelineIds=[pipeline_id])["pipelineDescriptionList"]
    return {field["key"]: field["stringValue"] for field in described["fields"]}


def instances(datapipeline: Any, pipeline_id: str) -> dict[str, dict[str, str]]:
    """Every instance of the pipeline by id, with its fields, as QueryObjects and DescribeObjects give them."""
    ids = datapipeline.query_objects(pipelineId=pipeline_id, sphere="INSTANCE")["ids"]
    objects = datapipeline.describe_objects(pipelineId=pipeline_id, objectIds=ids)["pipelineObjects"]
    return {obj["id"]: {f["key"]: f.get("stringValue", f.get("refValue")) for f in obj["fields"]} for obj in objects}


def statuses(datapipeline: Any, pipeline_id: str) -> list[tuple[str, str]]:
    return sorted((f["@componentParent"], f["@status"]) for f in instances(datapipeline, pipeline_id).values())


def runner_reports(pipeline_id: str, component: str, status: str, error: str | None = None) -> None:
    """The component's current instance moves, as its runner (EMR here) reports it."""
    pipeline = datapipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[pipeline_id]
    (instance,) = [i for i in pipeline_runs.current_instances(pipeline) if i.component == component]
    assert pipeline_runs.set_status(pipeline, instance.id, status, error)


def test_an_activation_creates_instances_and_the_pipeline_reads_scheduled(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN a defined pipeline, PENDING until activated
    pipeline_id = datapipeline.create_pipeline(name="p", uniqueId="u")["pipelineId"]
    datapipeline.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=data_node("readThroughputPercent", "0.5")
    )
    assert pipeline_fields(datapipeline, pipeline_id)["@pipelineState"] == "PENDING"
    assert datapipeline.query_objects(pipelineId=pipeline_id, sphere="INSTANCE")["ids"] == []

    # WHEN it is activated
    datapipeline.activate_pipeline(pipelineId=pipeline_id)

    # THEN it reads SCHEDULED with no health yet, and its activity, data node and cluster each have
    # an instance waiting; the Default object has none
    fields = pipeline_fields(datapipeline, pipeline_id)
    assert fields["@pipelineState"] == "SCHEDULED" and "@healthStatus" not in fields
    assert statuses(datapipeline, pipeline_id) == [
        ("Cluster", "WAITING_ON_DEPENDENCIES"),
        ("Export", "WAITING_FOR_RUNNER"),
        ("Source", "WAITING_ON_DEPENDENCIES"),
    ]
    export = next(f for f in instances(datapipeline, pipeline_id).values() if f["@componentParent"] == "Export")
    assert (export["@sphere"], export["type"]) == ("INSTANCE", "EmrActivity")
    # AND the COMPONENT sphere lists the definition's objects
    components = datapipeline.query_objects(pipelineId=pipeline_id, sphere="COMPONENT")["ids"]
    assert sorted(components) == ["Cluster", "Default", "Export", "Source"]


def test_a_finished_pipeline_still_reads_scheduled_and_turns_healthy(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN an activated pipeline whose export runs
    pipeline_id = activated(datapipeline)
    runner_reports(pipeline_id, "Export", "RUNNING")
    assert "@healthStatus" not in pipeline_fields(datapipeline, pipeline_id)

    # WHEN its export finishes
    runner_reports(pipeline_id, "Export", "FINISHED")

    # THEN the pipeline still reads SCHEDULED (AWS: "finished performing work"), now HEALTHY, and
    # the instance has its times
    fields = pipeline_fields(datapipeline, pipeline_id)
    assert (fields["@pipelineState"], fields["@healthStatus"]) == ("SCHEDULED", "HEALTHY")
    export = next(f for f in instances(datapipeline, pipeline_id).values() if f["@componentParent"] == "Export")
    assert export["@status"] == "FINISHED" and export["@actualStartTime"] <= export["@actualEndTime"]


def test_a_failed_instance_turns_the_pipeline_health_to_error(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN an activated pipeline whose data node was read
    pipeline_id = activated(datapipeline)
    runner_reports(pipeline_id, "Source", "FINISHED")

    # WHEN its export fails
    runner_reports(pipeline_id, "Export", "FAILED", "Table orders does not exist")

    # THEN the pipeline reads SCHEDULED, its health ERROR, and the instance carries the error
    fields = pipeline_fields(datapipeline, pipeline_id)
    assert (fields["@pipelineState"], fields["@healthStatus"]) == ("SCHEDULED", "ERROR")
    failed = datapipeline.query_objects(
        pipelineId=pipeline_id,
        sphere="INSTANCE",
        query={"selectors": [{"fieldName": "@status", "operator": {"type": "EQ", "values": ["FAILED"]}}]},
    )["ids"]
    (export,) = [instances(datapipeline, pipeline_id)[object_id] for object_id in failed]
    assert export["errorMessage"] == "Table orders does not exist"


def test_an_ended_instance_does_not_move_again(strict: StrictAws, datapipeline: Any) -> None:
    # GIVEN an export that finished
    pipeline_id = activated(datapipeline)
    runner_reports(pipeline_id, "Export", "FINISHED")
    pipeline = datapipeline_backends[DEFAULT_ACCOUNT_ID][REGION].pipelines[pipeline_id]
    (export,) = [i for i in pipeline_runs.current_instances(pipeline) if i.component == "Export"]

    # WHEN its runner reports it again
    # THEN nothing changes: the report is refused
    assert pipeline_runs.set_status(pipeline, export.id, "FAILED") is False
    assert ("Export", "FINISHED") in statuses(datapipeline, pipeline_id)


def test_activating_an_active_pipeline_cancels_and_reruns_it_and_is_recorded(
    strict: StrictAws, datapipeline: Any
) -> None:
    # GIVEN an activated pipeline whose export is running (the first activation is no re-run)
    pipeline_id = activated(datapipeline)
    runner_reports(pipeline_id, "Export", "RUNNING")
    running = {i for i, f in instances(datapipeline, pipeline_id).items() if f["@componentParent"] == "Export"}
    assert strict.reactivations == []

    # WHEN it is activated again
    strict.advance(timedelta(minutes=5))
    datapipeline.activate_pipeline(pipelineId=pipeline_id)

    # THEN AWS's answer: the running export is cancelled, and the pipeline runs again with new
    # instances, all waiting; the call is recorded with what it cancelled
    assert statuses(datapipeline, pipeline_id) == [
        ("Cluster", "CANCELED"),
        ("Cluster", "WAITING_ON_DEPENDENCIES"),
        ("Export", "CANCELED"),
        ("Export", "WAITING_FOR_RUNNER"),
        ("Source", "CANCELED"),
        ("Source", "WAITING_ON_DEPENDENCIES"),
    ]
    (reactivation,) = strict.reactivations
    assert reactivation.pipeline_id == pipeline_id and reactivation.at == strict.now
    assert running <= set(reactivation.cancelled) and len(reactivation.cancelled) == 3
    # AND the cancelled instances turn the pipeline's health to ERROR
    assert pipeline_fields(datapipeline, pipeline_id)["@healthStatus"] == "ERROR"
