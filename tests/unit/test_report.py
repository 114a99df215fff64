"""The night's report: every table once, nothing dropped, a subject a person can scan."""

from __future__ import annotations

from datetime import UTC, datetime

from hippolyte.models import CapacityNote, Inventory, RunProgress, SkippedTable, TableOutcome, TableSnapshot
from hippolyte.report import final_outcomes, render_report
from hypothesis import given, settings
from hypothesis import strategies as st

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)
SECTIONS = ("Failed", "Backed up", "Skipped")
MANY_BACKED_UP = [TableOutcome(name=f"ok-{i:05d}", status="backed_up") for i in range(10_000)]
MANY_FAILED = [TableOutcome(name=f"ko-{i:05d}", status="failed", reason="x") for i in range(10_000)]


def outcome_lines(body: str) -> dict[str, list[str]]:
    """The table lines of each outcome section of the body."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in body.splitlines():
        title = line.split(" (")[0]
        if line and not line.startswith(" "):
            current = title if title in SECTIONS else None
            continue
        if current and line.startswith("  ") and line.strip() != "none":
            sections.setdefault(current, []).append(line)
    return sections


def render(outcomes, pending=None, error=None, *, stage="prod", account="123456789012", region="eu-west-1"):
    return render_report(
        account=account,
        region=region,
        stage=stage,
        run_id="nightly-2026-11-28",
        outcomes=outcomes,
        capacity_pending=pending or {},
        notes=[],
        error=error,
    )


# --------------------------------------------------------------------------------------------
# final_outcomes
# --------------------------------------------------------------------------------------------


def test_a_table_with_no_outcome_is_reported_failed_with_a_reason():
    # GIVEN an inventory of three tables, one of which never got an outcome (its pipeline vanished)
    inventory = Inventory(
        tables=[TableSnapshot(name=n) for n in ("orders", "customers", "events")],
        skipped=[SkippedTable(name="tmp-1", reason="excluded by pattern 'tmp-.*'")],
    )
    progress = RunProgress(
        outcomes={
            "orders": TableOutcome(name="orders", status="backed_up", s3_path="s3://b/orders/x/", items=3, bytes=10),
            "customers": TableOutcome(name="customers", status="failed", reason="pipeline p-1 ended FAILED"),
        }
    )
    # WHEN the final outcomes are collected
    outcomes = {o.name: o for o in final_outcomes(inventory, progress)}
    # THEN the missing table is failed, with a reason, and the skipped one keeps its reason
    assert outcomes["events"].status == "failed"
    assert outcomes["events"].reason
    assert outcomes["tmp-1"].status == "skipped"
    assert outcomes["tmp-1"].reason == "excluded by pattern 'tmp-.*'"
    assert sorted(outcomes) == ["customers", "events", "orders", "tmp-1"]


names = st.text(alphabet="abcdefgh-", min_size=3, max_size=8)


@st.composite
def runs(draw: st.DrawFn):
    tables = draw(st.lists(names, unique=True, max_size=25))
    split = draw(st.integers(0, len(tables)))
    planned, skipped = tables[:split], tables[split:]
    outcomes = {}
    for name in planned:
        status = draw(st.sampled_from(["backed_up", "failed", None]))
        if status == "backed_up":
            outcomes[name] = TableOutcome(name=name, status=status, s3_path=f"s3://b/{name}/t/", items=1, bytes=2)
        elif status == "failed":
            outcomes[name] = TableOutcome(name=name, status=status, reason="pipeline ended FAILED")
    inventory = Inventory(
        tables=[TableSnapshot(name=n) for n in planned],
        skipped=[SkippedTable(name=n, reason="opted out") for n in skipped],
    )
    return inventory, RunProgress(outcomes=outcomes)


@PROPERTY
@given(run=runs())
def test_every_table_appears_exactly_once_in_the_report(run):
    inventory, progress = run
    # WHEN the report is rendered
    outcomes = final_outcomes(inventory, progress)
    report, body = render(outcomes)
    # THEN every discovered table is listed once, in exactly one outcome section
    expected = sorted([t.name for t in inventory.tables] + [s.name for s in inventory.skipped])
    listed = [line.strip().split(":")[0] for lines in outcome_lines(body).values() for line in lines]
    assert sorted(listed) == expected
    # AND failed and skipped tables say why
    for section in ("Failed", "Skipped"):
        for line in outcome_lines(body).get(section, []):
            assert line.split(":", 1)[1].strip() not in ("", "None")
    # AND the counts add up
    assert report.backed_up + report.failed + report.skipped == len(expected)


def test_backed_up_tables_show_path_items_and_size():
    # GIVEN a table backed up
    outcome = TableOutcome(
        name="orders",
        status="backed_up",
        s3_path="s3://b/orders/2026-11-28-00-10-00/",
        items=1234,
        bytes=3 * 1024**2,
    )
    # WHEN the report is rendered
    _, body = render([outcome])
    # THEN its line has the S3 path, the item count and a readable size
    line = outcome_lines(body)["Backed up"][0]
    assert "s3://b/orders/2026-11-28-00-10-00/" in line
    assert "1234 items" in line
    assert "3.0 MiB" in line


# --------------------------------------------------------------------------------------------
# Subject and outcome
# --------------------------------------------------------------------------------------------


@PROPERTY
@given(
    stage=st.from_regex(r"[a-z0-9-]{1,16}", fullmatch=True),  # template.yaml's Stage pattern
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "ap-northeast-3"]),
    backed_up=st.integers(0, 10_000),
    failed=st.integers(0, 10_000),
)
def test_the_subject_names_account_region_stage_and_outcome(stage, region, backed_up, failed):
    outcomes = MANY_BACKED_UP[:backed_up] + MANY_FAILED[:failed]
    # WHEN the report is rendered
    report, _ = render(outcomes, stage=stage, region=region)
    # THEN the subject fits SNS (under 100 characters) and names everything a person filters mail on
    assert len(report.subject) < 100
    for part in ("123456789012", region, stage):
        assert part in report.subject
    assert ("FAILED" if failed else "SUCCEEDED") in report.subject
    assert report.outcome == ("FAILED" if failed else "SUCCEEDED")


def test_a_run_error_fails_the_report_even_with_no_failed_table():
    # GIVEN every table backed up, but the run itself failed (a Lambda raised)
    outcomes = [TableOutcome(name="orders", status="backed_up")]
    # WHEN the report is rendered with the error
    report, body = render(outcomes, error="CapacityUpdateThrottledError: orders: UpdateTable refused 5 times")
    # THEN the outcome is FAILED and the body quotes the error
    assert report.outcome == "FAILED"
    assert "FAILED" in report.subject
    assert "CapacityUpdateThrottledError: orders" in body


def test_only_skips_is_a_success():
    # GIVEN a night where every table was skipped with a reason
    # WHEN the report is rendered
    report, _ = render([TableOutcome(name="tmp-1", status="skipped", reason="excluded")])
    # THEN the run succeeded
    assert report.outcome == "SUCCEEDED"


# --------------------------------------------------------------------------------------------
# Capacity not back yet
# --------------------------------------------------------------------------------------------


def test_capacity_pending_lists_each_table_with_reason_and_retry_time():
    # GIVEN two tables whose capacity is not back: one waits for the decrease limit, one for ACTIVE
    retry = datetime(2026, 11, 28, 10, 30, tzinfo=UTC)
    pending = {
        "orders": CapacityNote(
            name="orders", reason="DynamoDB's daily limit on capacity decreases is reached", retry_after=retry
        ),
        "events": CapacityNote(name="events", reason="table is UPDATING"),
    }
    outcomes = [TableOutcome(name=n, status="backed_up") for n in ("orders", "events")]
    # WHEN the report is rendered
    report, body = render(outcomes, pending=pending)
    # THEN the section lists both, each with its reason, and the retry time where one is known
    lines = body.splitlines()
    start = lines.index("Capacity not back to its original yet (2)")
    section = lines[start + 1 : start + 3]
    assert section[0].startswith("  events: table is UPDATING")
    assert section[1].startswith("  orders: DynamoDB's daily limit")
    assert retry.isoformat() in section[1]
    assert report.capacity_pending == 2


def test_no_pending_capacity_says_none():
    # GIVEN every table's capacity back
    _, body = render([TableOutcome(name="orders", status="backed_up")])
    # THEN the section says so explicitly (a person should not wonder)
    lines = body.splitlines()
    start = lines.index("Capacity not back to its original yet (0)")
    assert lines[start + 1] == "  none"
