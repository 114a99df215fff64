"""Building tables for state-machine tests and reading their capacity back."""

from __future__ import annotations

from typing import Any

from hippolyte_local.fleet import DemoTable, create_table
from hippolyte_local.session import LocalSession
from hippolyte_local.stack import ACCOUNT_ID
from moto.sns.models import sns_backends

# One-hour window and a 10% share (the least DynamoDBDataNode accepts): a 3.2 MB table at 1 RCU
# needs a boost to fit (at 1 RCU x 10% x 8 KB/s it would take about 65 minutes), and stays quick
# to build in moto.
TEST_PARAMETERS = {
    "Stage": "test",
    # The engine most of the state-machine tests exercise; the emr and auto engines have their own.
    "Engine": "datapipeline",
    "WindowHours": "1",
    "ReadThroughputPercent": "0.1",
    "NotificationEmail": "ops@example.com",
}
BIG_SLOW_TABLE = DemoTable("big-slow", items=160, item_bytes=20_000, rcu=1, gsi=True)


def build(session: LocalSession, tables: list[DemoTable]) -> None:
    """Create and fill tables in the session's DynamoDB."""
    dynamodb, autoscaling = session.client("dynamodb"), session.client("application-autoscaling")
    for table in tables:
        create_table(dynamodb, autoscaling, table)


def _suspended(state: dict[str, bool] | None) -> tuple[bool, bool, bool]:
    state = state or {}
    return (
        bool(state.get("DynamicScalingInSuspended")),
        bool(state.get("DynamicScalingOutSuspended")),
        bool(state.get("ScheduledScalingSuspended")),
    )


def capacity_snapshot(session: LocalSession) -> dict[str, Any]:
    """Every table's capacity and read scaling target, to compare before and after a run."""
    dynamodb, autoscaling = session.client("dynamodb"), session.client("application-autoscaling")
    snapshot: dict[str, Any] = {}
    for name in dynamodb.list_tables()["TableNames"]:
        table = dynamodb.describe_table(TableName=name)["Table"]
        throughput = table.get("ProvisionedThroughput", {})
        targets = autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb", ResourceIds=[f"table/{name}"])[
            "ScalableTargets"
        ]
        snapshot[name] = {
            "billing": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
            "rcu": throughput.get("ReadCapacityUnits"),
            "wcu": throughput.get("WriteCapacityUnits"),
            "gsis": sorted(
                (
                    g["IndexName"],
                    g.get("ProvisionedThroughput", {}).get("ReadCapacityUnits"),
                    g.get("ProvisionedThroughput", {}).get("WriteCapacityUnits"),
                )
                for g in table.get("GlobalSecondaryIndexes", [])
            ),
            # AWS always reports SuspendedState; moto only echoes what was registered.
            "scaling": [(t["MinCapacity"], t["MaxCapacity"], _suspended(t.get("SuspendedState"))) for t in targets],
        }
    return snapshot


def assert_capacity_restored(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every table as in ``before``, except an auto-scaled table's read capacity, which may be
    anywhere inside its owner's bounds: putting the bounds back makes Application Auto Scaling
    place the capacity there (the nearest bound), not at the value it had before the run."""
    assert after.keys() == before.keys()
    for name, was in before.items():
        now = after[name]
        if was["scaling"]:
            assert now["scaling"] == was["scaling"], name
            [(low, high, _)] = now["scaling"]
            assert low <= now["rcu"] <= high, (name, now["rcu"], low, high)
            assert {**now, "rcu": None} == {**was, "rcu": None}, name
        else:
            assert now == was, name


def sent_messages(session: LocalSession) -> list[tuple[str, str]]:
    """(subject, message) of every SNS message the stack published."""
    topic = session.stack.refs["ReportTopic"]
    sent = sns_backends[ACCOUNT_ID][session.region].topics[topic].sent_notifications
    return [(subject, message) for _id, message, subject, *_rest in sent]


def exports_left_running(session: LocalSession) -> list[str]:
    """What still runs a backup and bills for it: Data Pipeline's pipelines, and the emr engine's
    active clusters."""
    pipelines = session.client("datapipeline").list_pipelines()["pipelineIdList"]
    active = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]
    clusters = session.client("emr").list_clusters(ClusterStates=active)["Clusters"]
    return [p["id"] for p in pipelines] + [c["Id"] for c in clusters]
