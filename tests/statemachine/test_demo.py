"""`make demo`: one night backs up with all three engines, and a table of each is restored."""

from __future__ import annotations

import io

from hippolyte_local.demo import print_summary, run_demo


def test_the_demo_backs_up_with_every_engine_and_restores_a_table_of_each() -> None:
    # WHEN the demo runs over a fleet with tables for each engine (tagged, or chosen by auto)
    result = run_demo(tables=22, quiet=True)

    # THEN every table is backed up and reads back identical, on all three engines
    assert result.execution.status == "SUCCEEDED"
    assert result.failed == 0
    backed_up = [row for row in result.tables if row["status"] == "backed_up"]
    assert {row["engine"] for row in backed_up} == {"datapipeline", "emr", "export"}
    assert all(row["verified"] for row in backed_up)
    # AND one table of each engine was restored into a new table identical to its original
    assert sorted(restore["engine"] for restore in result.restores) == ["datapipeline", "emr", "export"]
    assert all(restore["identical"] for restore in result.restores)
    # AND the summary says which engines ran
    out = io.StringIO()
    print_summary(result, out)
    assert "Engines used tonight: datapipeline, emr, export" in out.getvalue()
