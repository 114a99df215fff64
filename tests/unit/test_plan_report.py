"""The HTML drawing of a plan: self-contained, escaped, one lane per batch."""

from __future__ import annotations

import re

from hippolyte.models import Batch, FlaggedTable, PlannedTable, PlannerSettings, SkippedTable, TableSnapshot
from hippolyte.plan_report import render_plan_html
from hippolyte.planning import plan_batches

GIB = 2**30


def sample_plan():
    tables = [
        TableSnapshot(name="orders", read_capacity_units=100, size_bytes=50 * GIB),  # boosted
        TableSnapshot(name="ledger", read_capacity_units=100, size_bytes=40 * 2**40),  # too big: flagged
        TableSnapshot(name="users", read_capacity_units=50, size_bytes=10**8),  # 8 minutes: not boosted
        TableSnapshot(name="audit", size_bytes=GIB, engine="export"),
    ] + [TableSnapshot(name=f"small-{i:02d}", read_capacity_units=10, size_bytes=1000) for i in range(40)]
    return plan_batches(tables, PlannerSettings(), [SkippedTable(name="tmp-1", reason="excluded by pattern")])


def lanes(page: str) -> list[str]:
    return re.findall(r'<div class="lane"><span title="[^"]*">([^<]*)</span>', page)


def test_the_page_is_self_contained():
    # GIVEN a plan
    # WHEN it is drawn
    page = render_plan_html(sample_plan())
    # THEN nothing is loaded from elsewhere: no URL, no script, no external stylesheet or image
    assert not re.search(r"https?://", page)
    assert "<script" not in page.lower()
    assert not re.search(r"<link\b", page)
    assert not re.search(r"\bsrc\s*=", page)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_there_is_one_lane_per_batch_in_start_order():
    # GIVEN a plan with several pipelines and a group of native exports
    plan = sample_plan()
    # WHEN it is drawn
    page = render_plan_html(plan)
    # THEN each batch has its lane, labelled with its id, in the plan's order
    assert [label.split()[0] for label in lanes(page)] == [b.id for b in plan.batches]
    assert any(label.endswith("export") for label in lanes(page))


def test_every_table_has_a_bar_and_boosted_and_flagged_tables_stand_out():
    plan = sample_plan()
    page = render_plan_html(plan)
    bars = re.findall(r'<i class="(plain|boosted|flagged|ondemand|export)"[^>]*title="([^":]*):', page)
    # THEN there is one bar per table
    assert sorted(name for _, name in bars) == sorted(t.name for b in plan.batches for t in b.tables)
    kinds = dict((name, kind) for kind, name in bars)
    # AND the boosted and the flagged tables are drawn in their own colours
    assert kinds["orders"] == "boosted"
    assert kinds["ledger"] == "flagged"
    assert kinds["users"] == "plain"
    assert kinds["audit"] == "export"


def test_totals_cost_and_the_window_end_are_on_the_page():
    plan = sample_plan()
    page = render_plan_html(plan, window_start="22:00")
    # THEN the totals and the cost with its prices are shown
    assert f"${plan.cost.total_usd:,.2f}" in page
    assert "$0.00013 per RCU-hour" in page
    pipelines = sum(b.engine == "datapipeline" for b in plan.batches)
    assert f"<span>Pipelines</span><b>{pipelines}</b>" in page
    # AND the window's end is marked, in clock time when the start is given (22:00 + 7 h)
    assert 'class="window-end"' in page
    assert "05:00 end" in page
    # AND the fewest late tables any plan can have, as boosts are held and if held only while read
    assert plan.lower_bound is not None
    assert (
        f"no plan can have fewer than {plan.lower_bound.late_tables:,} "
        f"({plan.lower_bound.late_tables_if_boosts_held_only_while_read:,} with boosts held only while read)"
    ) in page
    # AND the flagged and skipped tables are listed with their reasons
    assert "ledger</td><td>cannot finish inside the window" in page
    assert "tmp-1</td><td>excluded by pattern" in page


def test_names_and_reasons_are_escaped():
    # GIVEN names and reasons carrying markup (skipped names and reasons come from outside)
    table = PlannedTable(
        name='x"><img src=y>',
        size_bytes=1,
        original_read_capacity_units=1,
        read_capacity_units=1,
        read_throughput_percent=0.5,
        start_offset_seconds=600,
        estimated_seconds=60,
    )
    plan = plan_batches([], PlannerSettings()).model_copy(
        update={
            "batches": [Batch(id="b0001", estimated_seconds=660, tables=[table])],
            "flagged": [FlaggedTable(name="<b>bold</b>", reason="a & b")],
            "skipped": [SkippedTable(name="<script>alert(1)</script>", reason="<i>why</i>")],
        }
    )
    # WHEN it is drawn
    page = render_plan_html(plan)
    # THEN no markup from a name or reason reaches the page unescaped
    assert "<img" not in page and "<script" not in page and "<b>bold" not in page and "<i>why" not in page
    assert "x&quot;&gt;&lt;img src=y&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page


def test_an_empty_plan_still_renders():
    page = render_plan_html(plan_batches([], PlannerSettings()))
    assert lanes(page) == []
    assert "$0.00" in page


def test_three_hundred_pipelines_stay_compact_and_scroll():
    # GIVEN a night of 320 one-table pipelines
    tables = [TableSnapshot(name=f"t-{i:03d}", read_capacity_units=100, size_bytes=GIB) for i in range(320)]
    plan = plan_batches(tables, PlannerSettings(max_tables_per_pipeline=1, max_concurrent_pipelines=100))
    # WHEN it is drawn
    page = render_plan_html(plan)
    # THEN every pipeline has a lane of a fixed small height, inside a scrolling area
    assert len(lanes(page)) == len(plan.batches) == 320
    assert re.search(r"\.lane \{[^}]*height: 14px", page)
    assert re.search(r"\.night \{[^}]*overflow-y: auto", page)
