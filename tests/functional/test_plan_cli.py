"""``hippolyte plan`` end to end: inventory files, a live account under moto, and the errors a user makes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from hippolyte_cli import main
from moto import mock_aws

GIB = 2**30
REGION = "eu-west-1"


def describe_table(name: str, rcu: int = 0, size: int = 0, on_demand: bool = False) -> dict[str, Any]:
    """A DescribeTable ``Table`` as the AWS CLI prints it (the fields the planner reads, and a few more)."""
    table: dict[str, Any] = {
        "TableName": name,
        "TableStatus": "ACTIVE",
        "TableSizeBytes": size,
        "ItemCount": 10,
        "TableArn": f"arn:aws:dynamodb:{REGION}:123456789012:table/{name}",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 0 if on_demand else rcu, "WriteCapacityUnits": 1},
    }
    if on_demand:
        table["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST"}
    return table


INVENTORY = [
    describe_table("orders", rcu=100, size=50 * GIB),  # needs a boost to fit 7 h
    describe_table("users", rcu=50, size=10**8),
    describe_table("clicks", size=GIB, on_demand=True),
    describe_table("fresh", rcu=5, size=0),
]


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps([{"Table": table} for table in INVENTORY]))
    return path


def plan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["plan", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# --------------------------------------------------------------------------------------------
# From a file
# --------------------------------------------------------------------------------------------


def test_json_has_every_field_issue_3_lists(inventory, capsys):
    # GIVEN an inventory as `aws dynamodb describe-table` prints it ({"Table": ...} objects)
    # WHEN it is planned as JSON
    plan = plan_json(capsys, "--inventory", str(inventory))
    # THEN the top level states the assumptions, the budget, the flags and the cost
    for key in (
        "window_seconds",
        "bytes_per_rcu_second",
        "emr_bootstrap_seconds",
        "activity_bootstrap_seconds",
    ):
        assert isinstance(plan[key], (int, float))
    assert plan["max_extra_rcu"] == 80_000  # the file default
    assert plan["flagged"] == [] and plan["skipped"] == []
    assert plan["cost"]["total_usd"] > 0 and plan["cost"]["prices"]["rcu_hour_usd"] == 0.00013
    # AND each batch has its id, start and length, and each table what the workflow needs
    [batch] = plan["batches"]
    assert batch["id"] == "b0001" and batch["start_seconds"] == 0
    assert batch["estimated_seconds"] == 600 + sum(t["estimated_seconds"] for t in batch["tables"])
    tables = {t["name"]: t for t in batch["tables"]}
    assert set(tables) == {"orders", "users", "clicks", "fresh"}
    for table in tables.values():
        assert {"name", "estimated_seconds", "read_capacity_units", "read_throughput_percent"} <= set(table)
    # AND the slow table is boosted while the application keeps its 100 RCU
    orders = tables["orders"]
    assert orders["read_capacity_units"] > 100
    assert orders["read_capacity_units"] * (1 - orders["read_throughput_percent"]) >= 100
    # AND the on-demand table shows what the export tool reads it at: 0.1 of 40,000 RCU
    assert (tables["clicks"]["read_capacity_units"], tables["clicks"]["read_throughput_percent"]) == (40_000, 0.1)


def test_a_plain_list_of_table_objects_plans_the_same(inventory, tmp_path, capsys):
    # GIVEN the same inventory as a list of bare Table objects
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(INVENTORY))
    # THEN both shapes give the same plan
    assert plan_json(capsys, "--inventory", str(bare)) == plan_json(capsys, "--inventory", str(inventory))


def test_options_change_the_plan(inventory, capsys):
    # GIVEN options for the window, the rate, the limits and the prices
    plan = plan_json(
        capsys, "--inventory", str(inventory),
        "--window-start", "22:00", "--window-end", "04:00", "--bytes-per-rcu-second", "4096",
        "--max-extra-rcu", "500", "--max-tables-per-pipeline", "2", "--rcu-hour-usd", "0.0002",
        "--on-demand-percent", "0.5", "--on-demand-read-million-usd", "0.25",
    )  # fmt: skip
    # THEN the plan is made for them
    assert plan["window_seconds"] == 6 * 3600
    clicks = next(t for b in plan["batches"] for t in b["tables"] if t["name"] == "clicks")
    assert clicks["read_throughput_percent"] == 0.5
    assert plan["cost"]["on_demand_read_usd"] == pytest.approx(2**30 / 8192 / 1e6 * 0.25, abs=1e-4)
    assert plan["bytes_per_rcu_second"] == 4096
    assert plan["max_extra_rcu"] == 500 and plan["peak_extra_rcu"] <= 500
    assert all(len(b["tables"]) <= 2 for b in plan["batches"])
    assert plan["cost"]["prices"]["rcu_hour_usd"] == 0.0002


def test_the_summary_is_short_and_says_what_matters(inventory, capsys):
    # WHEN planned without --json
    assert main(["plan", "--inventory", str(inventory)]) == 0
    out = capsys.readouterr().out
    # THEN a person reads the size of the night, its end, the boosts and the cost
    assert out.startswith("Planned 4 tables (0 skipped) into 1 pipeline,")
    assert "Window 00:00-07:00 UTC" in out
    assert "Boosts: 1 table, peak" in out
    assert "Estimated cost: $" in out
    assert "0.1 million on-demand read request units" in out
    assert "b0001" in out
    assert len(out.splitlines()) < 15


def test_the_summary_and_the_json_give_the_bound_as_boosts_are_held_and_if_held_only_while_read(tmp_path, capsys):
    # GIVEN twelve tables too slow for a 1 h window at a tenth of their 9,000 RCU, and a budget
    # that boosts only some of them in time
    path = tmp_path / "tight.json"
    tables = [describe_table(f"table-{i:02d}", rcu=9000, size=950 * 2940 * 8192) for i in range(12)]
    path.write_text(json.dumps(tables))
    options = ["--inventory", str(path), "--window-hours", "1", "--percent", "0.1", "--max-extra-rcu", "9550"]
    options += ["--engine", "datapipeline"]  # the engine that holds boosts from a pipeline's start
    # WHEN they are planned as JSON
    bound = plan_json(capsys, *options)["lower_bound"]
    # THEN the bound is given as boosts are held (from their pipeline's start) and if they were
    # held only while their tables are read, each with its reasons
    assert bound["late_tables"] == 3 and bound["late_tables_if_boosts_held_only_while_read"] == 2
    assert bound["reasons"] and bound["reasons_if_boosts_held_only_while_read"]
    # AND the summary shows both, and what holding boosts while tables wait costs
    assert main(["plan", *options]) == 0
    out = capsys.readouterr().out
    assert "Late tables: 3, the fewest any plan can have under these limits (boosts held only while read: 2)" in out
    assert "held while their tables wait their turn:" in out
    assert "If boosts were held only while their tables are read:" in out


def test_engines_prints_each_tables_cost_on_both_engines_and_the_cheaper(inventory, capsys):
    # WHEN the engines are asked for, in words and as JSON
    assert main(["plan", "--inventory", str(inventory), "--engines"]) == 0
    text = capsys.readouterr().out
    assert main(["plan", "--inventory", str(inventory), "--engines", "--json", "--export-gb-usd", "1.0"]) == 0
    dearer_exports = {row["table"]: row for row in json.loads(capsys.readouterr().out)}

    # THEN every table has a line, the dearest first: the 50 GB table reads on EMR for far less
    # than its $5.33 export (PITR would have to be turned on), the 100 MB one is cheaper exported
    lines = text.splitlines()
    assert lines[0].startswith("4 tables: 2 cheaper as a native export, 2 on EMR;")
    assert [line.split()[0] for line in lines[3:]] == ["orders", "clicks", "users", "fresh"]
    orders = lines[3].split()
    assert orders[1] == "emr" and orders[3] == "$5.33"
    assert "EMR $" in lines[3] and "<= native export $5.3288" in lines[3]
    users = next(line for line in lines if line.startswith("users "))
    assert users.split()[1] == "export"
    # AND the price options change the figures and so the choice
    assert dearer_exports["orders"]["export_usd"] == pytest.approx(50.0 + 50 * 0.2 * 24 / 730)
    assert dearer_exports["users"]["engine"] == "emr"
    assert set(dearer_exports["users"]) >= {"engine", "reason", "emr_usd", "export_usd", "emr_fits_window"}


def test_report_writes_a_self_contained_page(inventory, tmp_path, capsys):
    # WHEN a report is asked for
    report = tmp_path / "plan.html"
    assert main(["plan", "--inventory", str(inventory), "--report", str(report)]) == 0
    # THEN the page is written and draws every table
    page = report.read_text()
    assert page.startswith("<!DOCTYPE html>")
    for name in ("orders", "users", "clicks", "fresh"):
        assert f'title="{name}:' in page
    assert f"Report written to {report}" in capsys.readouterr().out


def test_exclude_patterns_skip_tables_with_a_reason(inventory, capsys):
    plan = plan_json(capsys, "--inventory", str(inventory), "--exclude", "fre.*")
    assert plan["skipped"] == [{"name": "fresh", "reason": "excluded by pattern 'fre.*'", "expected": False}]


# --------------------------------------------------------------------------------------------
# Mistakes: one line on stderr, exit 2, no traceback
# --------------------------------------------------------------------------------------------


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exited:
        code = main(["plan", *args])
        raise SystemExit(code)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"Table": {"TableName": "orders",', "not valid JSON"),
        ('{"Table": {"TableName": "orders"}}', "must be a JSON list"),
        ('[{"Table": {"TableSizeBytes": 1}}]', "entry 0 is not a DescribeTable output"),
        ('[{"TableName": "x"}]', "'x': name"),
        ('[{"TableName": "ok1"}, {"TableName": "ok1"}]', "lists a table twice: ok1"),
        ('[{"TableName": "big", "TableSizeBytes": -1}]', "table 'big': size_bytes: Input should be greater"),
    ],
)
def test_a_bad_inventory_is_named_in_one_line(tmp_path, capsys, content, expected):
    # GIVEN an inventory file with a mistake
    path = tmp_path / "inventory.json"
    path.write_text(content)
    # THEN the error names the file and the mistake
    line = one_line_error(capsys, "--inventory", str(path))
    assert line.startswith(f"hippolyte plan: {path}")
    assert expected in line


def test_a_missing_file_is_named(tmp_path, capsys):
    line = one_line_error(capsys, "--inventory", str(tmp_path / "nope.json"))
    assert line == f"hippolyte plan: {tmp_path / 'nope.json'}: no such file"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--percent", "1.5"], "--percent: Input should be less than or equal to 1"),
        (["--percent", "half"], "argument --percent: invalid float value: 'half'"),
        # DynamoDBDataNode's readThroughputPercent ranges from 0.1 to 1.0.
        (["--percent", "0.05"], "--percent: Input should be greater than or equal to 0.1"),
        (["--on-demand-percent", "0.05"], "--on-demand-percent: Input should be greater than or equal to 0.1"),
        (
            ["--max-tables-per-pipeline", "33"],
            "--max-tables-per-pipeline: Input should be less than or equal to 32",
        ),
        (["--max-pipelines", "0"], "--max-pipelines: Input should be greater than or equal to 1"),
        (["--window-end", "7"], "--window-end: '7' is not a time of day as HH:MM"),
        (["--window-start", "07:00", "--window-end", "07:00"], "the window is empty"),
        (["--window-hours", "30"], "--window-hours: 30 is not between 0 and 24"),
        (["--window-hours", "5", "--window-end", "05:00"], "not allowed with argument"),
        (
            ["--instances-per-cluster", "0"],
            "--instances-per-cluster: Input should be greater than or equal to 1",
        ),
        (["--exclude", "("], "--exclude: '(' is not a valid regular expression"),
        (["--export-gb-usd", "-0.1"], "--export-gb-usd: Input should be greater than or equal to 0"),
    ],
)
def test_a_bad_option_is_named_in_one_line(inventory, capsys, args, expected):
    line = one_line_error(capsys, "--inventory", str(inventory), *args)
    assert line.startswith("hippolyte plan: ")
    assert expected in line


def test_no_source_is_a_one_line_error(capsys):
    line = one_line_error(capsys)
    assert "one of the arguments --inventory --region is required" in line


# --------------------------------------------------------------------------------------------
# A live account (moto)
# --------------------------------------------------------------------------------------------


@pytest.fixture
def account(monkeypatch):
    """An account with provisioned tables (one with a GSI), an on-demand table and an opted-out table."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        key = {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}
        attributes = {"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}]}
        dynamodb.create_table(
            TableName="orders",
            **key,
            AttributeDefinitions=[
                {"AttributeName": "id", "AttributeType": "S"},
                {"AttributeName": "day", "AttributeType": "S"},
            ],
            ProvisionedThroughput={"ReadCapacityUnits": 500, "WriteCapacityUnits": 5},
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-day",
                    "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                    "ProvisionedThroughput": {"ReadCapacityUnits": 200, "WriteCapacityUnits": 5},
                }
            ],
        )
        dynamodb.create_table(
            TableName="users",
            **key,
            **attributes,
            ProvisionedThroughput={"ReadCapacityUnits": 300, "WriteCapacityUnits": 1},
        )
        dynamodb.create_table(TableName="clicks", **key, **attributes, BillingMode="PAY_PER_REQUEST")
        arn = dynamodb.create_table(
            TableName="scratch",
            **key,
            **attributes,
            ProvisionedThroughput={"ReadCapacityUnits": 1000, "WriteCapacityUnits": 1},
        )["TableDescription"]["TableArn"]
        dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "hippolyte:backup", "Value": "false"}])
        dynamodb.put_item(TableName="users", Item={"id": {"S": "u1"}, "name": {"S": "Ada"}})
        yield dynamodb


def test_a_live_account_is_planned_with_its_own_limits(account, capsys):
    # GIVEN an account whose DescribeLimits allows 20,000 RCU (moto's figures), 2,000 of them
    # provisioned (tables 500 + 300 + 1,000 and the GSI's 200; the opted-out table counts too)
    assert account.describe_limits()["AccountMaxReadCapacityUnits"] == 20_000
    # WHEN it is planned
    plan = plan_json(capsys, "--region", REGION)
    # THEN the budget is what the account has left, and the opted-out table is skipped with why
    assert plan["max_extra_rcu"] == 20_000 - 2_000
    assert plan["skipped"] == [
        {"name": "scratch", "reason": "opted out by tag hippolyte:backup=false", "expected": False}
    ]
    planned = {t["name"]: t for b in plan["batches"] for t in b["tables"]}
    assert set(planned) == {"orders", "users", "clicks"}
    assert planned["orders"]["original_read_capacity_units"] == 500
    assert planned["clicks"]["on_demand"] is True


def test_a_live_account_respects_a_given_budget(account, capsys):
    plan = plan_json(capsys, "--region", REGION, "--max-extra-rcu", "123")
    assert plan["max_extra_rcu"] == 123


def test_describe_limits_denied_falls_back_to_aws_defaults_and_says_so(account, capsys):
    # GIVEN a caller that may not call DescribeLimits
    real = BaseClient._make_api_call

    def deny_limits(self, operation, params):
        if operation == "DescribeLimits":
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)
        return real(self, operation, params)

    # WHEN the account is planned
    with mock.patch.object(BaseClient, "_make_api_call", deny_limits):
        assert main(["plan", "--region", REGION, "--json"]) == 0
    captured = capsys.readouterr()
    # THEN the plan uses AWS's default quota (80,000) less what is provisioned, and a warning says why
    assert json.loads(captured.out)["max_extra_rcu"] == 80_000 - 2_000
    assert "DescribeLimits failed (AccessDeniedException); assuming AWS's default quotas" in captured.err


def test_an_unreachable_account_fails_in_one_line(account, capsys):
    # GIVEN credentials AWS rejects on the first call
    real = BaseClient._make_api_call

    def reject(self, operation, params):
        if operation == "ListTables":
            raise ClientError({"Error": {"Code": "UnrecognizedClientException", "Message": "bad token"}}, operation)
        return real(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", reject):
        code = main(["plan", "--region", REGION])
    captured = capsys.readouterr()
    # THEN the job fails (exit 1) with one line naming the region and the cause
    assert code == 1
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"hippolyte plan: reading the account in {REGION} failed:")
    assert "UnrecognizedClientException" in captured.err


def test_auto_plans_each_table_on_its_cheaper_engine_and_says_why(tmp_path, capsys):
    # GIVEN a 1 TB table at 1,000 RCU and a 1 MB one, in an inventory file
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps([describe_table("orders", rcu=1000, size=2**40), describe_table("flags", rcu=5, size=2**20)])
    )
    # WHEN they are planned with the default engine, auto, allowed to turn point-in-time recovery on
    plan = plan_json(capsys, "--inventory", str(path), "--enable-pitr")
    engines = {t["name"]: (t["engine"], t["engine_reason"]) for b in plan["batches"] for t in b["tables"]}
    # THEN the big table reads on an EMR cluster and the tiny one is exported, each with its figures
    assert engines["orders"][0] == "emr" and engines["orders"][1].startswith("auto: EMR $")
    assert engines["flags"][0] == "export" and engines["flags"][1].startswith("auto: native export $")
    # AND without leave to turn PITR on (an inventory file does not say it is on), both stay on EMR
    plan = plan_json(capsys, "--inventory", str(path))
    assert {t["engine"] for b in plan["batches"] for t in b["tables"]} == {"emr"}


def test_an_unknown_engine_is_refused_naming_the_choices(tmp_path, capsys):
    path = tmp_path / "one.json"
    path.write_text(json.dumps([describe_table("orders", rcu=10, size=1000)]))
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--inventory", str(path), "--engine", "glue"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'glue'" in capsys.readouterr().err
