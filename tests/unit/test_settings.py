"""Stack parameters and execution input: bad values are rejected with the field's name.

The parameter a person typed in ``sam deploy`` (or the field of the execution input) must be in
the message, so the first failed run says what to fix.
"""

from __future__ import annotations

import pytest
from hippolyte.errors import ConfigurationError, InvalidExecutionInputError
from hippolyte.settings import load_settings
from hippolyte.workflow.discover_tables import parse_execution_input

BASE = {"BACKUP_BUCKET": "hippolyte-dev-backups"}


def env(**values: str) -> dict[str, str]:
    return {**BASE, **values}


# --------------------------------------------------------------------------------------------
# load_settings
# --------------------------------------------------------------------------------------------


def test_the_templates_defaults_load():
    # GIVEN the environment template.yaml gives with every parameter at its default
    environ = env(
        TOPIC_ARN="arn:aws:sns:us-east-1:123456789012:t",
        LEDGER_TABLE="ledger",
        STAGE="dev",
        EXCLUDE_PATTERNS="",
        ALWAYS_BACKUP="",
        WINDOW_HOURS="7",
        READ_THROUGHPUT_PERCENT="0.5",
        ON_DEMAND_READ_THROUGHPUT_PERCENT="0.1",
        MAX_TABLES_PER_PIPELINE="32",
        MAX_CONCURRENT_PIPELINES="100",
        MAX_EXTRA_RCU="",
        ENGINE="datapipeline",
        ENABLE_PITR="false",
        EMR_SUBNET_ID="",
        EMR_CORE_INSTANCE_COUNT="1",
        EXPORT_JAR="",
        RCU_HOUR_USD="0.00013",
        ON_DEMAND_READ_MILLION_USD="0.125",
        INSTANCE_HOUR_USD="0.240",
    )
    # WHEN the settings are loaded
    settings = load_settings(environ)
    # THEN empty lists are empty, an empty budget means "derive it", and the window is in seconds
    assert settings.exclude_patterns == []
    assert settings.always_backup == []
    assert settings.max_extra_rcu is None
    assert settings.window_seconds == 7 * 3600
    assert settings.enable_pitr is False
    assert settings.export_jar_for("eu-west-1").startswith("s3://dynamodb-dpl-eu-west-1/")


def test_comma_lists_are_split_and_trimmed():
    # GIVEN lists as CloudFormation joins them (and as people type them)
    settings = load_settings(env(EXCLUDE_PATTERNS="tmp-.*, .*-staging,,", ALWAYS_BACKUP=" audit ,orders"))
    # THEN each entry is separate, without blanks
    assert settings.exclude_patterns == ["tmp-.*", ".*-staging"]
    assert settings.always_backup == ["audit", "orders"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EXCLUDE_PATTERNS", "tmp-.*,(unclosed"),
        ("READ_THROUGHPUT_PERCENT", "1.5"),
        ("READ_THROUGHPUT_PERCENT", "0"),
        # DynamoDBDataNode's readThroughputPercent ranges from 0.1 to 1.0.
        ("READ_THROUGHPUT_PERCENT", "0.05"),
        ("ON_DEMAND_READ_THROUGHPUT_PERCENT", "0.09"),
        ("ON_DEMAND_READ_THROUGHPUT_PERCENT", "1.5"),
        ("WINDOW_HOURS", "-2"),
        ("WINDOW_HOURS", "25"),
        ("MAX_TABLES_PER_PIPELINE", "33"),
        ("MAX_CONCURRENT_PIPELINES", "0"),
        ("MAX_EXTRA_RCU", "-1"),
        ("ENGINE", "glue"),
        ("ENABLE_PITR", "maybe"),
    ],
)
def test_a_bad_parameter_is_rejected_naming_it(name, value):
    # GIVEN one invalid parameter
    # WHEN the settings are loaded
    # THEN the error names that parameter
    with pytest.raises(ConfigurationError, match=name):
        load_settings(env(**{name: value}))


def test_a_bad_regex_error_quotes_the_pattern():
    # GIVEN a pattern that does not compile among good ones
    # WHEN the settings are loaded
    # THEN the message quotes the bad pattern, so it can be found in a long list
    with pytest.raises(ConfigurationError, match=r"'\(unclosed'"):
        load_settings(env(EXCLUDE_PATTERNS="tmp-.*,(unclosed"))


def test_a_missing_bucket_is_rejected_naming_it():
    # GIVEN no BACKUP_BUCKET
    # WHEN the settings are loaded
    # THEN the error names it
    with pytest.raises(ConfigurationError, match="BACKUP_BUCKET"):
        load_settings({"TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t"})


def test_unrelated_environment_variables_are_ignored():
    # GIVEN the Lambda runtime's own variables next to ours
    settings = load_settings(env(AWS_REGION="us-east-1", PATH="/usr/bin", _HANDLER="x.y"))
    # THEN they are not an error
    assert settings.backup_bucket == "hippolyte-dev-backups"


# --------------------------------------------------------------------------------------------
# Execution input
# --------------------------------------------------------------------------------------------


def test_the_nightly_schedule_input_is_valid():
    # GIVEN the schedule's "{}" (or no input at all)
    # THEN every table is backed up, polling at the default interval
    for raw in ({}, None):
        request = parse_execution_input(raw)
        assert request.tables is None
        assert request.poll_seconds == 300


def test_a_manual_rerun_names_its_tables():
    # GIVEN a person's re-run of one table
    # THEN only that table is asked for
    assert parse_execution_input({"tables": ["orders"], "poll_seconds": 120}).tables == ["orders"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"table": ["orders"]}, "table"),  # a typo must not back up everything
        ({"tables": []}, "tables"),
        ({"tables": ["orders", "orders"]}, "tables"),
        ({"tables": "orders"}, "tables"),
        ({"tables": ["ab"]}, "tables.0"),
        ({"tables": ["orders", "bad name"]}, "tables.1"),
        ({"poll_seconds": -1}, "poll_seconds"),
        ({"poll_seconds": 0}, "poll_seconds"),  # would spin and run out of execution history
        ({"poll_seconds": 119}, "poll_seconds"),
        ({"poll_seconds": 3601}, "poll_seconds"),
        ({"poll_seconds": "soon"}, "poll_seconds"),
    ],
)
def test_invalid_input_is_rejected_naming_the_field(raw, field):
    # GIVEN an invalid execution input
    # WHEN it is parsed
    # THEN the error names the field at fault
    with pytest.raises(InvalidExecutionInputError, match=rf"execution input {field}:"):
        parse_execution_input(raw)


def test_a_duplicate_table_is_named():
    # GIVEN a re-run naming a table twice
    # THEN the message names the duplicate
    with pytest.raises(InvalidExecutionInputError, match="orders"):
        parse_execution_input({"tables": ["orders", "customers", "orders"]})


@pytest.mark.parametrize("raw", [["orders"], "orders", 42])
def test_input_that_is_not_an_object_is_rejected(raw):
    # GIVEN an execution input that is not a JSON object
    # WHEN it is parsed
    # THEN it is an InvalidExecutionInputError, not a crash
    with pytest.raises(InvalidExecutionInputError):
        parse_execution_input(raw)


@pytest.mark.parametrize("poll", [120, 3600])
def test_poll_interval_bounds_are_inclusive(poll):
    # GIVEN the extreme poll intervals (two minutes, the history budget's floor; an hour at most)
    # THEN both are accepted
    assert parse_execution_input({"poll_seconds": poll}).poll_seconds == poll
