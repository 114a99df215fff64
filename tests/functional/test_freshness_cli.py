"""``hippolyte freshness``: the tables a failed night left without a fresh verified backup come first,
until they are backed up; ages on the stack's simulated clock. See operate_support for the local stack.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

# Imported at collection: the handlers' powertools Logger binds sys.stdout when it is created, and
# the stream capsys gives one test is closed after it.
from hippolyte.handlers import observability  # noqa: F401
from hippolyte_cli import main

from tests.functional.operate_support import STACK, START, TABLES, deployed


def test_freshness_lists_the_table_a_failed_night_left_without_a_backup_first_until_it_is_backed_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with deployed(failing={"orders-2"}) as (session, clock):
        # GIVEN a night in which orders-2's export failed
        assert session.run({"poll_seconds": 120}, name="night-1").status == "FAILED"
        clock.set(START + timedelta(hours=8))

        # WHEN a person checks freshness that morning
        code = main(["freshness", "--stack", STACK])
        out, err = capsys.readouterr()
        # THEN every table to back up is listed (not the stack's own ledger, opted out by its tag),
        # orders-2 first, with no verified backup; the others are 8 hours old; exit 1
        lines = out.splitlines()
        assert lines[0] == (
            "3 tables backed up by hippolyte-test; 1 without a verified backup in the last 26 h "
            "(at 2026-11-28 08:10 UTC)"
        )
        assert [line.split() for line in lines[2:]] == [
            ["orders-2", "none", "-", "STALE"],
            ["orders-0", "2026-11-28", "00:10:05", "8h00m", "yes"],
            ["orders-1", "2026-11-28", "00:10:05", "8h00m", "yes"],
        ]
        assert code == 1
        assert err == "hippolyte freshness: 1 without a verified backup in the last 26 h: orders-2\n"

        # WHEN orders-2 is re-run and backed up, and freshness is checked again
        session.emr.fail_tables.clear()
        assert session.run({"tables": ["orders-2"], "poll_seconds": 120}, name="rerun").status == "SUCCEEDED"
        code = main(["freshness", "--stack", STACK, "--json"])
        # THEN no table is stale, and the exit code is 0
        result = json.loads(capsys.readouterr().out)
        assert code == 0
        assert result["stale"] == []
        assert sorted(entry["table"] for entry in result["tables"]) == TABLES

        # WHEN two days pass without a night
        clock.advance(timedelta(days=2))
        code = main(["freshness", "--stack", STACK, "--hours", "26"])
        out = capsys.readouterr().out
        # THEN every table is stale, the oldest backups first
        assert code == 1
        assert [line.split()[0] for line in out.splitlines()[2:]] == ["orders-0", "orders-1", "orders-2"]
        assert out.splitlines()[0].startswith("3 tables backed up by hippolyte-test; 3 without")
