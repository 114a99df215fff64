"""``hippolyte run``: a night started (every table, or the tables named) and followed to its report;
bad input refused before anything starts. See operate_support for the local stack.

What is asserted is what a person sees: the lines printed, and the exit code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

# Imported at collection: the handlers' powertools Logger binds sys.stdout when it is created, and
# the stream capsys gives one test is closed after it.
from hippolyte.handlers import observability  # noqa: F401
from hippolyte_cli import main
from hippolyte_local.session import LocalSession

from tests.functional.operate_support import FOLLOW, LINK, STACK, deployed, executions


@pytest.fixture(scope="module")
def fleet() -> Iterator[LocalSession]:
    """Three tables whose backups all succeed; the tests start nights on it."""
    with deployed() as (session, _):
        yield session


# --------------------------------------------------------------------------------------------
# hippolyte run
# --------------------------------------------------------------------------------------------


def test_run_follow_shows_the_night_as_it_goes_and_ends_with_its_report(
    fleet: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a person starts a night and follows it
    code = main(["run", "--stack", STACK, *FOLLOW])
    out, err = capsys.readouterr()
    # THEN it started, saying which execution, with its console link
    progress = err.splitlines()
    # (named for the time it started on the stack's clock, which earlier nights may have moved on)
    started = re.fullmatch(r"Started (manual-2026112\dT\d{6}Z-[0-9a-f]{6}); following it every 0\.05s .*", progress[0])
    assert started, progress[0]
    name = started.group(1)
    assert progress[1].startswith(f"Night {name}: ")
    assert any((match := LINK.search(line)) and match["name"] == name for line in progress)
    # AND the view showed the batch, the tables and where the night ended
    assert re.search(r"^  b0001  datapipeline ended +3 tables  pipeline df-\w+ \(FINISHED\)$", err, re.M), err
    assert "Tables: 3 backed up, 0 failed, 1 skipped, 0 pending" in progress
    assert f"Night {name}: SUCCEEDED, in BackupsComplete" in progress
    # AND the night's report ends it, on stdout, and the exit code is 0
    assert out.startswith(f"Run {name} in account 123456789012, region us-east-1, stage test: SUCCEEDED\n")
    backed_up = r"^Backed up \(3\)\n  orders-0: s3://hippolyte-test-backupbucket/orders-0/2026-11-2\d-[\d-]+/ "
    assert re.search(backed_up, out, re.M), out
    assert code == 0


def test_run_tables_re_runs_only_the_named_table(fleet: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN a person re-runs one table, following it
    code = main(["run", "--stack", STACK, "--tables", "orders-1", *FOLLOW])
    out, err = capsys.readouterr()
    # THEN only that table was backed up, and the exit code is 0
    assert code == 0, err
    assert re.match(r"Started rerun-orders-1-\d{8}T\d{6}Z-[0-9a-f]{6};", err)
    assert "Tables: 1 backed up, 0 failed, 0 skipped, 0 pending" in err.splitlines()
    assert "\nBacked up (1)\n  orders-1: s3://hippolyte-test-backupbucket/orders-1/" in out
    assert "orders-0" not in out


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (["orders 1"], "hippolyte run: --tables ('orders 1'): String should match pattern"),
        (["orders-1", "orders-1"], "hippolyte run: --tables: names a table twice: orders-1"),
        (["orders-1", "orders-9"], "hippolyte run: --tables: no such table: orders-9"),
    ],
)
def test_run_with_bad_tables_is_one_line_exit_2_and_starts_nothing(
    fleet: LocalSession, capsys: pytest.CaptureFixture[str], tables: list[str], message: str
) -> None:
    before = executions(fleet)
    # WHEN a person names a table badly
    code = main(["run", "--stack", STACK, "--tables", *tables, "--follow"])
    # THEN one line says what is wrong, the exit code is 2, and no execution was started
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(message), err
    assert out == ""
    assert executions(fleet) == before


def test_run_without_follow_prints_the_execution_and_status_follows_it(
    fleet: LocalSession, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the stack named by $HIPPOLYTE_STACK
    monkeypatch.setenv("HIPPOLYTE_STACK", STACK)
    # WHEN a person starts a re-run without following it
    assert main(["run", "--tables", "orders-2", "--poll-seconds", "120"]) == 0
    # THEN its name, ARN and console link are printed, and nothing else
    name, arn, link = capsys.readouterr().out.splitlines()
    assert name.startswith("Started rerun-orders-2-")
    name = name.removeprefix("Started ")
    assert arn == f"  arn:aws:states:us-east-1:123456789012:execution:hippolyte-test-backup:{name}"
    assert (match := LINK.search(link)) and match["name"] == name
    # WHEN they follow it with status, by its name
    code = main(["status", name, "--follow", "--interval", "0.05"])
    out, _ = capsys.readouterr()
    # THEN status shows how it ended, then its report
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Night {name}: SUCCEEDED, in BackupsComplete"
    assert "Tables: 1 backed up, 0 failed, 0 skipped, 0 pending" in lines
    assert f"Run {name} in account 123456789012, region us-east-1, stage test: SUCCEEDED" in lines


@pytest.mark.parametrize("verb", ["run", "status", "history", "freshness"])
def test_without_a_stack_each_verb_says_so_in_one_line_and_exits_2(
    fleet: LocalSession, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, verb: str
) -> None:
    monkeypatch.delenv("HIPPOLYTE_STACK", raising=False)
    assert main([verb]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"hippolyte {verb}: --stack: name the deployed stack")
    assert main([verb, "--stack", "hippolyte-nope"]) == 2
    assert capsys.readouterr().err == f"hippolyte {verb}: --stack: Stack with id hippolyte-nope does not exist\n"
