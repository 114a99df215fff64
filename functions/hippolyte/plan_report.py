"""The plan drawn as one self-contained HTML page: the night at a glance.

One lane per pipeline (and per group of native exports), one bar per table, in the order they
run; boosted tables in orange, flagged ones in red, the window's end as a red line. Above the
lanes: the totals, the cost with the prices it assumed, and two small charts of the extra RCU
held and the pipelines running over the night against their limits. Everything is inline (CSS
and SVG, no script, no external resource), so the file opens offline and can be mailed. Lanes
scroll under a sticky time axis, so 300 pipelines stay readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from hippolyte.models import CLUSTER_ENGINES, Batch, LowerBound, Plan, PlannedTable
from hippolyte.planning import decimal_size, extra_rcu_timeline, peak_concurrent_pipelines, tables_past_window

_CSS = """
:root { --plain: #4c72b0; --boosted: #e8892b; --flagged: #d62728; --export: #6a9f58; --ondemand: #8172b2;
        --boot: #c9ced6; --ink: #1f2430; --muted: #5b6270; --grid: #e6e8ec; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.25rem 1.5rem; color: var(--ink); background: #fff;
       font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.35rem; margin: 0 0 .75rem; }
h2 { font-size: 1rem; margin: 1.25rem 0 .5rem; }
.totals { display: flex; flex-wrap: wrap; gap: .5rem 1.75rem; margin-bottom: .75rem; }
.totals div { min-width: 8rem; }
.totals b { display: block; font-size: 1.2rem; }
.totals span { color: var(--muted); font-size: .8rem; }
.bad b { color: var(--flagged); }
.assumptions { color: var(--muted); font-size: .8rem; margin: 0 0 .75rem; }
.charts { display: flex; gap: 1.5rem; flex-wrap: wrap; }
.chart { flex: 1 1 22rem; }
.chart p { margin: 0 0 .2rem; font-size: .8rem; color: var(--muted); }
.chart svg { width: 100%; height: 64px; display: block; background: #fafbfc; border: 1px solid var(--grid); }
.legend { display: flex; flex-wrap: wrap; gap: 1rem; font-size: .8rem; margin: .75rem 0 .35rem; }
.legend i { display: inline-block; width: .9rem; height: .7rem; margin-right: .3rem; vertical-align: -1px; }
.night { position: relative; border: 1px solid var(--grid); max-height: 72vh; overflow-y: auto; }
.axis { position: sticky; top: 0; z-index: 2; height: 1.5rem; background: #fff;
        border-bottom: 1px solid var(--grid); }
.axis span { position: absolute; top: .2rem; font-size: .72rem; color: var(--muted); white-space: nowrap;
             transform: translateX(-50%); }
.axis .end { color: var(--flagged); font-weight: 600; transform: translateX(calc(-100% - 4px)); }
.lane { display: grid; grid-template-columns: 7.5rem 1fr; height: 14px; align-items: center; }
.lane:nth-child(odd) { background: rgba(31, 36, 48, .035); }
.lane > span { font: .68rem/1 ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted);
               padding-left: .35rem; white-space: nowrap; overflow: hidden; }
.track { position: relative; height: 10px; overflow: hidden; }
.track i { position: absolute; top: 0; height: 10px; background: var(--plain); border-right: 1px solid #fff;
           min-width: 1px; }
.track i.boot { background: var(--boot); }
.track i.boosted { background: var(--boosted); }
.track i.ondemand { background: var(--ondemand); }
.track i.export { background: var(--export); }
.track i.flagged { background: var(--flagged); }
.grid { position: absolute; top: 0; bottom: 0; width: 0; border-left: 1px solid var(--grid); z-index: 0; }
.window-end { position: absolute; top: 0; bottom: 0; width: 0; z-index: 3;
              border-left: 2px dashed var(--flagged); }
.lanes { position: relative; }
.lanes .lane { position: relative; z-index: 1; }
table { border-collapse: collapse; font-size: .85rem; }
td, th { text-align: left; padding: .2rem .75rem .2rem 0; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
details summary { cursor: pointer; }
"""

_LABEL = "7.5rem"  # width of the lane labels; the tracks share the rest


def render_plan_html(plan: Plan, window_start: str | None = None) -> str:
    """The plan as a self-contained HTML document.

    ``window_start`` ("HH:MM", UTC) labels the time axis with clock times; without it the axis
    counts hours into the window.

    >>> from hippolyte.models import PlannerSettings, SkippedTable, TableSnapshot
    >>> from hippolyte.planning import plan_batches
    >>> plan = plan_batches([TableSnapshot(name="orders")], PlannerSettings(),
    ...                     [SkippedTable(name="<b>odd</b>", reason="excluded")])
    >>> page = render_plan_html(plan)
    >>> "&lt;b&gt;odd&lt;/b&gt;" in page and "<b>odd" not in page and page.startswith("<!DOCTYPE html>")
    True
    """
    pipelines = [b for b in plan.batches if b.engine in CLUSTER_ENGINES]
    tables = [t for b in plan.batches for t in b.tables]
    late = set(tables_past_window(plan))
    flagged = {f.name for f in plan.flagged} | late
    end = max((b.start_seconds + b.estimated_seconds for b in plan.batches), default=0)
    # A table that runs far past the window would squeeze the night into a corner: the drawing
    # stops at 1.5 windows and longer bars are cut (their tooltip tells the real end).
    span = max(min(end, plan.window_seconds * 1.5), plan.window_seconds, 1) * 1.02
    start_minutes = _clock_minutes(window_start)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Hippolyte: the night's backup plan</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Hippolyte: the night's backup plan</h1>",
        _totals(plan, pipelines, tables, end=end, flagged=len(flagged), start_minutes=start_minutes),
        _assumptions(plan),
        '<div class="charts">',
        _step_chart(
            "Extra RCU held",
            [(s, h) for s, h in extra_rcu_timeline(plan.batches)],
            plan.max_extra_rcu,
            span,
            plan.window_seconds,
        ),
        _step_chart(
            "Pipelines running",
            _running_timeline(pipelines),
            plan.max_concurrent_pipelines,
            span,
            plan.window_seconds,
        ),
        "</div>",
        _legend(),
        _night(plan, flagged, span, start_minutes),
        _flag_list(plan),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _clock_minutes(window_start: str | None) -> int | None:
    if window_start is None:
        return None
    hours, _, minutes = window_start.partition(":")
    return (int(hours) * 60 + int(minutes or 0)) % (24 * 60)


def _time_label(seconds: float, start_minutes: int | None) -> str:
    minutes = round(seconds / 60)
    if start_minutes is None:
        return f"+{minutes // 60}:{minutes % 60:02d}"
    clock = (start_minutes + minutes) % (24 * 60)
    return f"{clock // 60:02d}:{clock % 60:02d}"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _totals(
    plan: Plan,
    pipelines: Sequence[Batch],
    tables: Sequence[PlannedTable],
    *,
    end: int,
    flagged: int,
    start_minutes: int | None,
) -> str:
    cost = plan.cost
    boosted = sum(t.boosted for t in tables)
    exports = len(plan.batches) - len(pipelines)
    items = [
        ("Tables", f"{len(tables):,}", f"{len(plan.skipped):,} skipped", False),
        (
            "Pipelines",
            f"{len(pipelines):,}",
            f"{peak_concurrent_pipelines(plan.batches)} at once (limit {plan.max_concurrent_pipelines})"
            + (f"; {exports} export group{'s' if exports > 1 else ''}" if exports else ""),
            False,
        ),
        (
            "Night ends",
            _time_label(end, start_minutes),
            f"window ends {_time_label(plan.window_seconds, start_minutes)}",
            end > plan.window_seconds,
        ),
        (
            "Boosted tables",
            f"{boosted:,}",
            f"peak {plan.peak_extra_rcu:,} of {plan.max_extra_rcu:,} extra RCU"
            + (
                f"; {_money(cost.waiting_rcu_usd)} held while their tables wait their turn"
                if cost.waiting_rcu_hours
                else ""
            ),
            False,
        ),
        ("Flagged", f"{flagged:,}", "see the list below" if flagged else "none", flagged > 0),
        (
            "Late tables",
            f"{len(tables_past_window(plan)):,}",
            "lower bound not computed" if plan.lower_bound is None else _bound_detail(plan.lower_bound),
            len(tables_past_window(plan)) > 0,
        ),
        (
            "Estimated cost",
            _money(cost.total_usd),
            f"EMR {cost.emr_cluster_hours:,.1f} cluster-h {_money(cost.emr_usd)}"
            f" + {cost.extra_rcu_hours:,.0f} RCU-h {_money(cost.rcu_usd)}"
            f" + on-demand reads {_money(cost.on_demand_read_usd)}",
            False,
        ),
    ]
    cells = "".join(
        f'<div class="{"bad" if bad else ""}"><span>{escape(label)}</span><b>{escape(value)}</b>'
        f"<span>{escape(detail)}</span></div>"
        for label, value, detail, bad in items
    )
    return f'<div class="totals">{cells}</div>'


def _bound_detail(bound: LowerBound) -> str:
    """The fewest late tables any plan can have, as boosts are held now and if held only while read."""
    if_read = bound.late_tables_if_boosts_held_only_while_read
    just_in_time = "" if if_read is None else f" ({if_read:,} with boosts held only while read)"
    return (
        f"no plan can have fewer than {bound.late_tables:,}{just_in_time}, "
        f"nor cost less than {_money(bound.cost_usd)} as late"
    )


def _assumptions(plan: Plan) -> str:
    prices = plan.cost.prices
    text = (
        f"Estimate: size / (RCU x percent x {plan.bytes_per_rcu_second:g} B/s) + "
        f"{plan.activity_bootstrap_seconds} s per table + {plan.emr_bootstrap_seconds} s EMR bootstrap per "
        f"pipeline. Prices: ${prices.instance_hour_usd:g} per instance-hour x {prices.instances_per_cluster} "
        f"instances per cluster (billed per second), ${prices.rcu_hour_usd:g} per RCU-hour "
        f"(every started hour), ${prices.on_demand_read_million_usd:g} per million on-demand read request "
        "units (one per 8 KB an export scans)."
    )
    return f'<p class="assumptions">{escape(text)}</p>'


def _running_timeline(pipelines: Sequence[Batch]) -> list[tuple[int, int]]:
    deltas: dict[int, int] = {}
    for batch in pipelines:
        deltas[batch.start_seconds] = deltas.get(batch.start_seconds, 0) + 1
        end = batch.start_seconds + batch.estimated_seconds
        deltas[end] = deltas.get(end, 0) - 1
    running = 0
    timeline = []
    for second in sorted(deltas):
        running += deltas[second]
        timeline.append((second, running))
    return timeline


def _step_chart(title: str, timeline: list[tuple[int, int]], limit: int, span: float, window: int) -> str:
    """A small step chart (0..span seconds) with its limit as a dashed line."""
    peak = max([limit, *(value for _, value in timeline)], default=1) or 1
    width, height = 1000, 60

    def x(second: float) -> float:
        return round(second / span * width, 1)

    def y(value: float) -> float:
        return round(height - value / peak * (height - 4), 1)

    points = [f"0,{height}"]
    level = 0
    for second, value in timeline:
        points += [f"{x(second)},{y(level)}", f"{x(second)},{y(value)}"]
        level = value
    points.append(f"{width},{y(level)}")
    top = max((value for _, value in timeline), default=0)
    return (
        f'<div class="chart"><p>{escape(title)}: peak {top:,} (limit {limit:,})</p>'
        f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(title)}">'
        f'<line x1="0" y1="{y(limit)}" x2="{width}" y2="{y(limit)}" stroke="#d62728" stroke-dasharray="6 4" '
        f'vector-effect="non-scaling-stroke"/>'
        f'<line x1="{x(window)}" y1="0" x2="{x(window)}" y2="{height}" stroke="#d62728" '
        f'vector-effect="non-scaling-stroke"/>'
        f'<polyline fill="none" stroke="#4c72b0" stroke-width="1.5" vector-effect="non-scaling-stroke" '
        f'points="{" ".join(points)}"/></svg></div>'
    )


def _legend() -> str:
    items = [
        ("var(--boot)", "EMR bootstrap"),
        ("var(--plain)", "table"),
        ("var(--boosted)", "boosted table"),
        ("var(--ondemand)", "on-demand table"),
        ("var(--export)", "native export"),
        ("var(--flagged)", "flagged (late or too big)"),
    ]
    cells = "".join(f'<span><i style="background:{color}"></i>{escape(label)}</span>' for color, label in items)
    return (
        f'<div class="legend">{cells}<span><i style="border-left:2px dashed var(--flagged);'
        f'background:none"></i>window end</span></div>'
    )


def _position(seconds: float, span: float) -> str:
    """Horizontal position inside the track, in percent."""
    return f"{seconds / span * 100:.3f}%"


def _night(plan: Plan, flagged: set[str], span: float, start_minutes: int | None) -> str:
    hour = 3600
    step = hour if span <= 16 * hour else 2 * hour
    ticks = []
    grid = []
    for second in range(0, int(span) + 1, step):
        if abs(second - plan.window_seconds) < step / 2:
            continue  # the window's end has its own label
        left = f"calc({_LABEL} + (100% - {_LABEL}) * {second / span:.5f})"
        ticks.append(f'<span style="left:{left}">{escape(_time_label(second, start_minutes))}</span>')
        grid.append(f'<div class="grid" style="left:{left}"></div>')
    window_left = f"calc({_LABEL} + (100% - {_LABEL}) * {plan.window_seconds / span:.5f})"
    ticks.append(
        f'<span class="end" style="left:{window_left};top:.2rem">'
        f"{escape(_time_label(plan.window_seconds, start_minutes))} end</span>"
    )
    lanes = [_lane(batch, plan, flagged, span) for batch in plan.batches]
    return (
        f'<div class="night"><div class="axis">{"".join(ticks)}</div><div class="lanes">'
        f'{"".join(grid)}<div class="window-end" style="left:{window_left}" title="end of the window"></div>'
        f"{''.join(lanes)}</div></div>"
    )


def _lane(batch: Batch, plan: Plan, flagged: set[str], span: float) -> str:
    bars = []
    if batch.engine in CLUSTER_ENGINES and batch.tables:
        boot_end = batch.tables[0].start_offset_seconds
        bars.append(
            f'<i class="boot" style="left:{_position(batch.start_seconds, span)};'
            f'width:{_position(boot_end, span)}" title="EMR bootstrap"></i>'
        )
    for table in batch.tables:
        start = batch.start_seconds + table.start_offset_seconds
        if table.name in flagged:
            kind = "flagged"
        elif table.engine == "export":
            kind = "export"
        elif table.boosted:
            kind = "boosted"
        elif table.on_demand:
            kind = "ondemand"
        else:
            kind = "plain"
        bars.append(
            f'<i class="{kind}" style="left:{_position(start, span)};'
            f'width:{_position(table.estimated_seconds, span)}"'
            f' title="{escape(_describe(table, start, plan))}"></i>'
        )
    label = f"{batch.id} {'export' if batch.engine == 'export' else len(batch.tables)}"
    title = f"{batch.id}: {len(batch.tables)} tables, starts {_time_label(batch.start_seconds, None)}"
    return (
        f'<div class="lane"><span title="{escape(title)}">{escape(label)}</span>'
        f'<div class="track">{"".join(bars)}</div></div>'
    )


def _describe(table: PlannedTable, start: int, plan: Plan) -> str:
    size = decimal_size(table.size_bytes)
    capacity = (
        f"{table.read_capacity_units:,} RCU (the export tool's, on-demand)"
        if table.on_demand
        else f"{table.read_capacity_units:,} RCU"
        + (f" (boosted from {table.original_read_capacity_units:,})" if table.boosted else "")
    )
    end = start + table.estimated_seconds
    return (
        f"{table.name}: {size}, {capacity} at {table.read_throughput_percent:g}, "
        f"{_time_label(start, None)} to {_time_label(end, None)}"
        + (" (past the window)" if end > plan.window_seconds and table.engine in CLUSTER_ENGINES else "")
    )


def _flag_list(plan: Plan) -> str:
    parts = []
    if plan.flagged:
        rows = "".join(f"<tr><td>{escape(f.name)}</td><td>{escape(f.reason)}</td></tr>" for f in plan.flagged)
        parts.append(f"<h2>Flagged ({len(plan.flagged)})</h2><table><tr><th>table</th><th>why</th></tr>{rows}</table>")
    if plan.skipped:
        rows = "".join(f"<tr><td>{escape(s.name)}</td><td>{escape(s.reason)}</td></tr>" for s in plan.skipped)
        parts.append(
            f"<details><summary><b>Skipped ({len(plan.skipped)})</b></summary>"
            f"<table><tr><th>table</th><th>why</th></tr>{rows}</table></details>"
        )
    return "".join(parts)
