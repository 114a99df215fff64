"""``hippolyte status`` and ``history``: a finished night and a failed one, as a person reads them.

See operate_support for the local stack. What is asserted is what a person sees: the lines
printed, and the exit code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

# Imported at collection: the handlers' powertools Logger binds sys.stdout when it is created, and
# the stream capsys gives one test is closed after it.
from hippolyte.handlers import observability  # noqa: F401
from hippolyte_cli import main
from hippolyte_local.session import LocalSession

from tests.functional.operate_support import LINK, STACK, START, deployed


@pytest.fixture(scope="module")
def two_nights() -> Iterator[LocalSession]:
    """Two nights already run: ``night-1`` (orders-2's export fails), then a day later ``night-2``,
    a re-run of orders-2 that succeeds. The tests only read them."""
    with deployed(failing={"orders-2"}) as (session, clock):
        first = session.run({"poll_seconds": 120}, name="night-1")
        assert (first.status, first.error) == ("FAILED", "TablesFailed")
        session.emr.fail_tables.clear()
        clock.set(START + timedelta(days=1))
        second = session.run({"tables": ["orders-2"], "poll_seconds": 120}, name="night-2")
        assert second.status == "SUCCEEDED", (second.error, second.cause)
        yield session


# --------------------------------------------------------------------------------------------
# hippolyte status
# --------------------------------------------------------------------------------------------


def test_status_shows_the_latest_night_by_default(two_nights: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["status", "--stack", STACK])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert code == 0, err
    assert lines[0] == "Night night-2: SUCCEEDED, in BackupsComplete"
    assert re.fullmatch(r"  started 2026-11-29 00:10:05 UTC, ended 2026-11-29 \d\d:\d\d:\d\d UTC \(\w+\)", lines[1])
    assert (match := LINK.search(lines[2])) and match["name"] == "night-2"
    assert "Batches: 1 ended" in lines
    assert "Tables: 1 backed up, 0 failed, 0 skipped, 0 pending" in lines
    assert "Run night-2 in account 123456789012, region us-east-1, stage test: SUCCEEDED" in lines


def test_status_of_a_failed_night_names_the_failed_table_and_exits_1(
    two_nights: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a person asks about the night whose export of orders-2 failed
    code = main(["status", "night-1", "--stack", STACK])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    # THEN the view says it failed, names the table and why, then the report; exit 1
    assert code == 1
    assert lines[0] == "Night night-1: FAILED, in SomeBackupsFailed"
    assert "Tables: 2 backed up, 1 failed, 1 skipped, 0 pending" in lines
    failed = [line for line in lines if line.startswith("  failed: ")]
    assert len(failed) == 1 and failed[0].startswith("  failed: orders-2: pipeline df-")
    assert "injected fault" in failed[0]
    assert "Run night-1 in account 123456789012, region us-east-1, stage test: FAILED" in lines
    assert "Failed (1)" in lines
    # AND one line on stderr says why the exit code is 1
    assert err == "hippolyte status: 1 table not backed up: orders-2\n"


def test_status_takes_an_execution_arn_and_prints_json(
    two_nights: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:hippolyte-test-backup:night-1"
    assert main(["status", arn, "--stack", STACK, "--json"]) == 1
    night = json.loads(capsys.readouterr().out)
    assert (night["name"], night["status"], night["state"]) == ("night-1", "FAILED", "SomeBackupsFailed")
    assert night["tables"] == {"backed_up": 2, "failed": 1, "skipped": 1, "pending": 0}
    assert [table["name"] for table in night["failed_tables"]] == ["orders-2"]
    assert night["report"].startswith("Run night-1 ")


def test_status_of_an_unknown_execution_is_one_line_and_exit_2(
    two_nights: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "night-9", "--stack", STACK]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hippolyte status: EXECUTION: no execution night-9 (arn:aws:states:")


# --------------------------------------------------------------------------------------------
# hippolyte history
# --------------------------------------------------------------------------------------------


def test_history_lists_the_nights_newest_first_one_line_each(
    two_nights: LocalSession, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a person asks for the last nights
    assert main(["history", "--stack", STACK]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    # THEN one line per night, newest first: start, duration, outcome, counts, bytes, cost, name, link
    assert header.split()[:4] == ["start", "(UTC)", "duration", "outcome"]
    assert len(rows) == 2
    fields = [row.split() for row in rows]
    assert [(f[0], f[1], f[3]) for f in fields] == [
        ("2026-11-29", "00:10", "SUCCEEDED"),
        ("2026-11-28", "00:10", "FAILED"),
    ]
    # backed up, failed, skipped
    assert [f[4:7] for f in fields] == [["1", "0", "0"], ["2", "1", "1"]]
    # bytes (each table's 5 items take 778 bytes in the export's lines), the plan's estimated cost
    assert [f[7:9] for f in fields] == [["778", "B"], ["1.5", "KiB"]]
    assert all(re.fullmatch(r"\$\d+\.\d\d", f[9]) for f in fields)
    assert [f[10] for f in fields] == ["night-2", "night-1"]
    assert [match["name"] for row in rows if (match := LINK.search(row))] == ["night-2", "night-1"]


def test_history_as_json_says_the_same(two_nights: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--stack", STACK, "--json", "--nights", "5"]) == 0
    nights = json.loads(capsys.readouterr().out)
    assert [(n["name"], n["status"], n["backed_up"], n["failed"], n["skipped"]) for n in nights] == [
        ("night-2", "SUCCEEDED", 1, 0, 0),
        ("night-1", "FAILED", 2, 1, 1),
    ]
    assert [n["started"] for n in nights] == ["2026-11-29T00:10:05+00:00", "2026-11-28T00:10:05+00:00"]
    assert all(n["estimated_cost_usd"] > 0 for n in nights)


def test_history_nights_limits_the_list(two_nights: LocalSession, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", "--stack", STACK, "--nights", "1"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert len(rows) == 1 and " night-2 " in rows[0]
