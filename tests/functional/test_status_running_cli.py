"""``hippolyte status`` of a night that is still running: where it is, what is left, exit 0; and
``hippolyte run --tables`` refused while that night holds the table (exit 2).

The night is held inside its first CheckPipelines (the function's invocation waits for the test),
so what status shows does not depend on how fast the machine runs it. See operate_support for the
local stack.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

# Imported at collection: the handlers' powertools Logger binds sys.stdout when it is created, and
# the stream capsys gives one test is closed after it.
from hippolyte.handlers import observability  # noqa: F401
from hippolyte_cli import main

from tests.functional.operate_support import LINK, STACK, deployed

# Long enough for any machine; a test that times out fails instead of hanging.
HOLD_SECONDS = 60


def test_status_of_a_running_night_shows_its_state_batches_and_pending_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reached, release = threading.Event(), threading.Event()

    def hold_first_check(function_name: str, event: dict[str, Any]) -> None:
        if function_name.endswith("CheckPipelinesFunction") and not reached.is_set():
            reached.set()
            release.wait(HOLD_SECONDS)

    with deployed(before_invoke=hold_first_check):
        try:
            # GIVEN a night started, and now inside its first CheckPipelines
            assert main(["run", "--stack", STACK, "--poll-seconds", "120"]) == 0
            name = capsys.readouterr().out.splitlines()[0].removeprefix("Started ")
            assert reached.wait(HOLD_SECONDS)

            # WHEN a person asks for its status
            code = main(["status", "--stack", STACK])
            lines = capsys.readouterr().out.splitlines()

            # AND, meanwhile, someone re-runs a table this night holds
            refused = main(["run", "--stack", STACK, "--tables", "orders-0", "--follow", "--interval", "0.05"])
            refusal = capsys.readouterr().err.splitlines()[-1]
        finally:
            release.set()

        # THEN they see it running, where, for how long (on the stack's clock: no Wait yet), its
        # batch, and every table still to do; nothing failed, so the exit code is 0
        assert code == 0
        assert lines[:2] == [
            f"Night {name}: RUNNING, in CheckPipelines",
            "  started 2026-11-28 00:10:05 UTC, running for 0s",
        ]
        assert (match := LINK.search(lines[2])) and match["name"] == name
        assert lines[3:] == [
            "Batches: 1 starting",
            "  b0001  datapipeline starting      3 tables",
            "Tables: 0 backed up, 0 failed, 1 skipped, 3 pending",
        ]

        # AND the re-run was refused at its first state, naming the night that holds the table: exit 2
        assert refused == 2
        assert refusal.startswith(f"hippolyte run: execution input tables: orders-0: run {name} is backing it up now")

        # WHEN the night goes on and they follow it to its end
        assert main(["status", name, "--stack", STACK, "--follow", "--interval", "0.05"]) == 0
        # THEN it ends with every table backed up, and its report
        out = capsys.readouterr().out
        assert out.startswith(f"Night {name}: SUCCEEDED, in BackupsComplete\n")
        assert "\nBacked up (3)\n" in out
