"""``hippolyte restore``: starts the deployed restore state machine and follows it to the end;
exit 0 restored, 1 failed, 2 bad input or a refusal, always with one line saying why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

# Imported at collection: the handlers' powertools Logger binds sys.stdout when it is created, and
# the stream capsys gives one test is closed after it.
from hippolyte.handlers import observability  # noqa: F401
from hippolyte.models import RunRef, TableOutcome
from hippolyte.pipelines import output_directory
from hippolyte.runtime import Runtime
from hippolyte.workflow.backup_manifest import write_backup_manifest
from hippolyte_cli import main
from hippolyte_local.emr import ActivityFailedError
from hippolyte_local.fleet import DemoTable, create_table
from hippolyte_local.session import LocalSession, local_session
from hippolyte_local.verify import same_items, table_items

from tests.statemachine.fleet_support import TEST_PARAMETERS

TABLE = "carts-cli"


@pytest.fixture(scope="module")
def deployed() -> Iterator[LocalSession]:
    """A local stack holding one small table's verified backup.

    The backup is made the way CheckPipelines records one (the EMR export's files, then the
    manifest), without running the whole night: the restore is what these tests are about.
    """
    with local_session(parameters=TEST_PARAMETERS) as session:
        create_table(
            session.client("dynamodb"),
            session.client("application-autoscaling"),
            DemoTable(TABLE, items=40, item_bytes=150, rcu=5, gsi=True),
        )
        run = RunRef(
            run_id="nightly",
            execution_id="local",
            bucket=session.stack.bucket,
            started_at=datetime(2026, 11, 28, 0, 10, 5, tzinfo=UTC),
        )
        directory = output_directory(run.bucket, TABLE, run.started_at)
        session.emr._export(directory, TABLE, "0.5")
        outcome = TableOutcome(name=TABLE, status="backed_up", s3_path=directory, items=40, bytes=1)
        write_backup_manifest(Runtime.from_environment(), run, outcome)
        yield session


def restore_args(session: LocalSession, *extra: str) -> list[str]:
    return [
        "restore",
        "--table",
        TABLE,
        "--state-machine",
        session.stack.state_machines["RestoreStateMachine"],
        "--poll-seconds",
        "90",
        *extra,
    ]


def executions(session: LocalSession) -> list[str]:
    sfn = session.client("stepfunctions")
    arn = session.stack.state_machines["RestoreStateMachine"]
    return [e["name"] for e in sfn.list_executions(stateMachineArn=arn)["executions"]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--at", "last tuesday", "--to", "carts-new"], "hippolyte restore: --at: 'last tuesday' is not a time"),
        (["--at", "latest", "--to", "x"], "hippolyte restore: --to: String should have at least 3 characters"),
        (["--backup", "carts-cli/2026-11-28-00-10-00", "--to", "carts-new"], "hippolyte restore: --backup: must be"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_exit_2_and_starts_nothing(
    deployed: LocalSession, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    before = executions(deployed)
    # WHEN a person mistypes an option
    code = main(restore_args(deployed, *options))
    # THEN one line names it, the exit code is 2, and no restore was started
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(message), err
    assert executions(deployed) == before


def test_a_time_and_a_backup_together_are_refused_by_the_parser(deployed: LocalSession) -> None:
    with pytest.raises(SystemExit) as exited:
        main(restore_args(deployed, "--at", "latest", "--backup", "s3://b/t/2026-11-28-00-10-00/", "--to", "t-new"))
    assert exited.value.code == 2


def test_without_a_state_machine_or_stack_the_error_is_one_line(
    deployed: LocalSession, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HIPPOLYTE_STACK", raising=False)
    assert main(["restore", "--table", TABLE, "--at", "latest", "--to", "carts-new"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hippolyte restore: --stack:")


def test_a_restore_is_followed_to_the_end_and_exits_0(
    deployed: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a person restores the latest backup into a new table
    code = main(restore_args(deployed, "--at", "latest", "--to", "carts-restored"))
    out, err = capsys.readouterr()
    # THEN the states were shown as they ran, the result said, and the exit code is 0
    assert code == 0, err
    for state in ("FindBackup", "CreateTargetTable", "ImportData", "VerifyItemCount", "NotifyRestored"):
        assert f"  -> {state}" in err
    assert out.startswith(f"Restored {TABLE} into carts-restored: 40 items from s3://")
    # AND the new table holds the original's items
    dynamodb = deployed.client("dynamodb")
    assert same_items(table_items(dynamodb, TABLE), table_items(dynamodb, "carts-restored"))


def test_the_json_result_says_the_same(deployed: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(restore_args(deployed, "--at", "latest", "--to", "carts-json", "--json", "--quiet")) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert (result["status"], result["result"]["target"], result["result"]["items"]) == ("SUCCEEDED", "carts-json", 40)
    assert err == ""


def test_a_refusal_is_one_line_and_exit_2(deployed: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN the target is the original table itself
    code = main(restore_args(deployed, "--at", "latest", "--to", TABLE, "--quiet"))
    # THEN the state machine's refusal is one line, exit 2
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"hippolyte restore: table {TABLE} already exists: restore into a new table, or pass "
        "--into-existing (into_existing) to restore into it when it is empty\n"
    )


def test_a_failed_import_exits_1_with_the_reason(
    deployed: LocalSession, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an EMR import step that fails
    def failing_import(directory: str, table: str, percent: str) -> None:
        raise ActivityFailedError("the cluster lost its core node")

    monkeypatch.setattr(deployed.emr, "_import", failing_import)
    # WHEN a restore runs into it
    code = main(restore_args(deployed, "--at", "latest", "--to", "carts-broken", "--quiet"))
    # THEN the restore failed (exit 1), saying where
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("hippolyte restore: the restore failed: RestoreImportFailedError: import pipeline ")
    # AND its import pipeline is gone
    assert deployed.client("datapipeline").list_pipelines()["pipelineIdList"] == []
