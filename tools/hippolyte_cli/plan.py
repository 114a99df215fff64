"""``hippolyte plan``: how tonight's backup would run, and what it would cost.

Reads DescribeTable output from a file (``--inventory``) or a live account (``--region``,
read-only calls: ListTables, DescribeTable, ListTagsOfResource, DescribeContinuousBackups,
DescribeLimits), plans the night with :func:`hippolyte.planning.plan_batches` and prints a summary,
the plan as JSON (``--json``), or draws it as an HTML page (``--report``). ``--engines`` prints
instead what each planned table would cost on EMR and as a native export, and the cheaper engine
(:func:`hippolyte.engine_costs.cheaper_engine`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, NoReturn, get_args

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from hippolyte.adapters.account_limits import extra_rcu_budget, read_account_limits
from hippolyte.adapters.tables import list_table_names, read_table
from hippolyte.discovery import DiscoveryRules, skip_reason
from hippolyte.engine_costs import EngineChoice, cheaper_engine, choose_engine
from hippolyte.errors import InvalidInventoryError
from hippolyte.models import CLUSTER_ENGINES, Plan, PlannerSettings, Prices, SkippedTable, StackEngine, TableSnapshot
from hippolyte.plan_report import render_plan_html
from hippolyte.planning import peak_concurrent_pipelines, plan_batches, tables_past_window
from hippolyte.table_description import snapshots_from_inventory_json
from pydantic import ValidationError

from hippolyte_cli import JOB_FAILED, USAGE_ERROR, one_line

# The inventory file's budget when no account is asked: DescribeLimits' default
# AccountMaxReadCapacityUnits (80,000), when planning from a file with no account to ask.
FILE_MAX_EXTRA_RCU = 80_000
SHOWN_PIPELINES = 20
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")

# Planner setting -> the option that sets it, so that a rejected value names the option.
_OPTIONS = {
    "window_seconds": "--window-hours/--window-end",
    "read_throughput_percent": "--percent",
    "bytes_per_rcu_second": "--bytes-per-rcu-second",
    "emr_bootstrap_seconds": "--emr-bootstrap-seconds",
    "activity_bootstrap_seconds": "--activity-bootstrap-seconds",
    "max_tables_per_pipeline": "--max-tables-per-pipeline",
    "max_concurrent_pipelines": "--max-pipelines",
    "max_extra_rcu": "--max-extra-rcu",
    "table_max_rcu": "--table-max-rcu",
    "on_demand_assumed_rcu": "--on-demand-rcu",
    "on_demand_read_throughput_percent": "--on-demand-percent",
    "min_boosted_seconds": "--min-boosted-seconds",
    "rcu_hour_usd": "--rcu-hour-usd",
    "on_demand_read_million_usd": "--on-demand-read-million-usd",
    "instance_hour_usd": "--instance-hour-usd",
    "instances_per_cluster": "--instances-per-cluster",
    "export_gb_usd": "--export-gb-usd",
    "pitr_gb_month_usd": "--pitr-gb-month-usd",
}


def register(verbs: Any) -> None:
    """Add the ``plan`` verb."""
    defaults = PlannerSettings()
    prices = defaults.prices
    parser = verbs.add_parser(
        "plan",
        help="plan tonight's backup from an inventory file or a live account",
        description="Plan the night's backup (pipelines, waves, boosts, cost) from DescribeTable output in a "
        "file, or from a live account through read-only calls; print it, print it as JSON, or draw it.",
    )
    # argparse would print the usage and the error on two lines; the CLI promises one.
    parser.error = _one_line_error(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--inventory",
        type=Path,
        metavar="FILE",
        help='JSON list of DescribeTable outputs (Table objects, or {"Table": ...} as the AWS CLI prints)',
    )
    source.add_argument("--region", help="plan the tables of this region of the current AWS account (read-only)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--report", type=Path, metavar="HTML", help="also draw the plan into this HTML file")
    parser.add_argument(
        "--engines",
        action="store_true",
        help="print each table's cost on EMR and as a native export, and the cheaper engine (with --json: as JSON)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="REGEX",
        help="skip tables whose whole name matches (repeatable)",
    )

    window = parser.add_argument_group("window (UTC)")
    window.add_argument("--window-start", default="00:00", metavar="HH:MM", help="start (default 00:00)")
    ends = window.add_mutually_exclusive_group()
    ends.add_argument("--window-end", metavar="HH:MM", help="end (default 07:00; before the start: next day)")
    ends.add_argument("--window-hours", type=float, metavar="H", help="length instead of an end")

    knobs = parser.add_argument_group("estimate and limits")
    knobs.add_argument(
        "--percent",
        metavar="P",
        type=float,
        help=f"share of an unboosted table's RCU the backup may use (default {defaults.read_throughput_percent})",
    )
    knobs.add_argument(
        "--bytes-per-rcu-second",
        metavar="B",
        type=float,
        help=f"bytes the export reads per RCU-second (default {defaults.bytes_per_rcu_second:g})",
    )
    knobs.add_argument(
        "--emr-bootstrap-seconds",
        metavar="S",
        type=int,
        help=f"per pipeline (default {defaults.emr_bootstrap_seconds})",
    )
    knobs.add_argument(
        "--activity-bootstrap-seconds",
        metavar="S",
        type=int,
        help=f"per table (default {defaults.activity_bootstrap_seconds})",
    )
    knobs.add_argument(
        "--max-pipelines",
        metavar="N",
        type=int,
        help=f"pipelines at once (default {defaults.max_concurrent_pipelines}, Data Pipeline's account limit)",
    )
    knobs.add_argument(
        "--max-tables-per-pipeline",
        metavar="N",
        type=int,
        help=f"(default {defaults.max_tables_per_pipeline}: 100 objects, 3 per table and 2 per pipeline)",
    )
    knobs.add_argument(
        "--max-extra-rcu",
        metavar="RCU",
        type=int,
        help="extra RCU held at once (default: live, DescribeLimits' account maximum less what is "
        f"provisioned; from a file, {FILE_MAX_EXTRA_RCU:,})",
    )
    knobs.add_argument(
        "--table-max-rcu",
        metavar="RCU",
        type=int,
        help=f"most RCU a table may get (default: live, DescribeLimits; from a file, {defaults.table_max_rcu:,})",
    )
    knobs.add_argument(
        "--on-demand-rcu",
        metavar="RCU",
        type=int,
        help="RCU the export tool assumes for an on-demand table "
        f"(default {defaults.on_demand_assumed_rcu:,}, the tool's own)",
    )
    knobs.add_argument(
        "--on-demand-percent",
        metavar="P",
        type=float,
        help=f"share of that an on-demand table is read at (default {defaults.on_demand_read_throughput_percent})",
    )
    knobs.add_argument(
        "--min-boosted-seconds",
        metavar="S",
        type=int,
        help="boost a table to save money only when its unboosted backup takes longer than this "
        f"(default {defaults.min_boosted_seconds})",
    )

    costs = parser.add_argument_group("prices")
    costs.add_argument(
        "--rcu-hour-usd", metavar="USD", type=float, help=f"per RCU-hour (default {prices.rcu_hour_usd})"
    )
    costs.add_argument(
        "--on-demand-read-million-usd",
        metavar="USD",
        type=float,
        help=f"per million on-demand read request units (default {prices.on_demand_read_million_usd})",
    )
    costs.add_argument(
        "--instance-hour-usd",
        metavar="USD",
        type=float,
        help=f"EC2 + EMR per instance-hour (default {prices.instance_hour_usd})",
    )
    costs.add_argument(
        "--instances-per-cluster", metavar="N", type=int, help=f"(default {prices.instances_per_cluster})"
    )
    costs.add_argument(
        "--export-gb-usd", metavar="USD", type=float, help=f"native export per GB (default {prices.export_gb_usd})"
    )
    parser.add_argument(
        "--engine",
        choices=get_args(StackEngine),
        default="auto",
        help="the stack's Engine: auto (default) chooses per table between emr and the native export by cost; "
        "a table's hippolyte:engine tag overrides it",
    )
    parser.add_argument(
        "--enable-pitr",
        action="store_true",
        help="as the stack's EnablePitr: auto may choose the native export for a table without point-in-time "
        "recovery (an inventory file says nothing of it, so without this flag auto keeps its tables on emr)",
    )
    costs.add_argument(
        "--pitr-gb-month-usd",
        metavar="USD",
        type=float,
        help=f"point-in-time recovery per GB-month (default {prices.pitr_gb_month_usd})",
    )
    parser.set_defaults(run=run)


def _one_line_error(parser: argparse.ArgumentParser) -> Any:
    def error(message: str) -> NoReturn:
        parser.exit(USAGE_ERROR, f"{parser.prog}: {message} (see --help)\n")

    return error


def run(args: argparse.Namespace) -> int:
    """Plan, then print (and draw) the plan. Exit 1 when the account cannot be read."""
    rules = DiscoveryRules(exclude_patterns=tuple(_checked_patterns(args.exclude)))
    # Reject a bad option before any call to AWS.
    planner_settings(args, max_extra_rcu=FILE_MAX_EXTRA_RCU, table_max_rcu=None)
    if args.inventory is not None:
        tables, skipped = _apply_rules(read_inventory(args.inventory, args.engine), rules)
        max_extra, table_max, note = FILE_MAX_EXTRA_RCU, None, None
    else:
        try:
            tables, skipped, max_extra, table_max, note = _read_account(args.region, rules, args.engine)
        except (BotoCoreError, ClientError) as error:  # credentials, network, permissions
            print(
                f"hippolyte plan: reading the account in {args.region} failed: {one_line(error)}",
                file=sys.stderr,
            )
            return JOB_FAILED
    settings = planner_settings(args, max_extra_rcu=max_extra, table_max_rcu=table_max)
    tables = [choose_engine(table, settings, args.enable_pitr) for table in tables]
    if note:
        print(f"hippolyte plan: {note}", file=sys.stderr)
    # --engines prints each table's engines instead of the plan, which is still drawn with --report.
    plan = plan_batches(tables, settings, skipped) if args.report is not None or not args.engines else None
    if plan is not None and args.report is not None:
        args.report.write_text(render_plan_html(plan, window_start=args.window_start), encoding="utf-8")
    if args.engines:
        choices = [(table.name, cheaper_engine(table, settings)) for table in tables]
        print(_engines_json(choices) if args.json else engines_summary(choices))
        return 0
    assert plan is not None
    if args.json:
        json.dump(plan.model_dump(mode="json"), sys.stdout, indent=2)
        print()
    else:
        print(summary(plan, args.window_start))
        if args.report is not None:
            print(f"\nReport written to {args.report}")
    return 0


def read_inventory(path: Path, engine: StackEngine = "datapipeline") -> list[TableSnapshot]:
    """The tables of an inventory file; errors name the file and what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInventoryError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InvalidInventoryError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise InvalidInventoryError(f"{path}: cannot be read ({error.strerror or error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInventoryError(
            f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return snapshots_from_inventory_json(document, default_engine=engine)
    except InvalidInventoryError as error:
        raise InvalidInventoryError(f"{path}: {error}") from None


def _read_account(
    region: str, rules: DiscoveryRules, engine: StackEngine
) -> tuple[list[TableSnapshot], list[SkippedTable], int, int, str | None]:
    """Tables, skipped tables, the default budget and table maximum, and a note on the limits."""
    dynamodb = boto3.client("dynamodb", region_name=region)
    every: list[TableSnapshot] = []
    tables: list[TableSnapshot] = []
    skipped: list[SkippedTable] = []
    for name in list_table_names(dynamodb):
        found = read_table(dynamodb, name, engine)
        if found is None:
            continue  # deleted since ListTables
        snapshot, tags = found
        every.append(snapshot)
        reason = skip_reason(name, tags, rules)
        if reason:
            skipped.append(SkippedTable(name=name, reason=reason))
        else:
            tables.append(snapshot)
    limits = read_account_limits(dynamodb)
    # The account quota counts every provisioned table, backed up tonight or not.
    return tables, skipped, extra_rcu_budget(limits, every), limits.table_max_read_capacity_units, limits.note


def _apply_rules(tables: list[TableSnapshot], rules: DiscoveryRules) -> tuple[list[TableSnapshot], list[SkippedTable]]:
    kept, skipped = [], []
    for table in tables:
        reason = skip_reason(table.name, {}, rules)
        if reason:
            skipped.append(SkippedTable(name=table.name, reason=reason))
        else:
            kept.append(table)
    return kept, skipped


def _checked_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"--exclude: {pattern!r} is not a valid regular expression ({error})") from None
    return patterns


def _clock_seconds(option: str, value: str) -> int:
    match = _CLOCK.match(value)
    if not match:
        raise ValueError(f"{option}: {value!r} is not a time of day as HH:MM")
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60


def window_seconds(args: argparse.Namespace) -> int | None:
    """The window's length from ``--window-hours`` or ``--window-start``/``--window-end`` (None: default).

    >>> ns = argparse.Namespace(window_start="22:30", window_end="05:00", window_hours=None)
    >>> window_seconds(ns) / 3600
    6.5
    """
    start = _clock_seconds("--window-start", args.window_start)
    if args.window_hours is not None:
        if not 0 < args.window_hours <= 24:
            raise ValueError(f"--window-hours: {args.window_hours:g} is not between 0 and 24")
        return round(args.window_hours * 3600)
    if args.window_end is None:
        return None
    length = (_clock_seconds("--window-end", args.window_end) - start) % (24 * 3600)
    if length == 0:
        raise ValueError("--window-end: the window is empty (it ends when it starts)")
    return length


def planner_settings(args: argparse.Namespace, max_extra_rcu: int, table_max_rcu: int | None) -> PlannerSettings:
    """The planner's settings from the options; a rejected value is reported with its option."""
    given = {
        "window_seconds": window_seconds(args),
        "read_throughput_percent": args.percent,
        "bytes_per_rcu_second": args.bytes_per_rcu_second,
        "emr_bootstrap_seconds": args.emr_bootstrap_seconds,
        "activity_bootstrap_seconds": args.activity_bootstrap_seconds,
        "max_tables_per_pipeline": args.max_tables_per_pipeline,
        "max_concurrent_pipelines": args.max_pipelines,
        "max_extra_rcu": args.max_extra_rcu if args.max_extra_rcu is not None else max_extra_rcu,
        "table_max_rcu": args.table_max_rcu if args.table_max_rcu is not None else table_max_rcu,
        "on_demand_assumed_rcu": args.on_demand_rcu,
        "on_demand_read_throughput_percent": args.on_demand_percent,
        "min_boosted_seconds": args.min_boosted_seconds,
    }
    price_options = {
        "rcu_hour_usd": args.rcu_hour_usd,
        "on_demand_read_million_usd": args.on_demand_read_million_usd,
        "instance_hour_usd": args.instance_hour_usd,
        "instances_per_cluster": args.instances_per_cluster,
        "export_gb_usd": args.export_gb_usd,
        "pitr_gb_month_usd": args.pitr_gb_month_usd,
    }
    try:
        prices = Prices(**{k: v for k, v in price_options.items() if v is not None})
        return PlannerSettings(prices=prices, **{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][-1]) if first["loc"] else "settings"
        raise ValueError(f"{_OPTIONS.get(field, field)}: {first['msg']}") from None


def summary(plan: Plan, window_start: str = "00:00") -> str:
    """The plan in a few lines and a short table of pipelines."""
    start = _clock_seconds("--window-start", window_start)

    def clock(seconds: int) -> str:
        minutes = ((start + seconds) // 60) % (24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    pipelines = [b for b in plan.batches if b.engine in CLUSTER_ENGINES]
    exports = [b for b in plan.batches if b.engine == "export"]
    tables = [t for b in plan.batches for t in b.tables]
    boosted = [t for t in tables if t.boosted]
    end = max((b.start_seconds + b.estimated_seconds for b in pipelines), default=0)
    late = tables_past_window(plan)
    cost = plan.cost
    prices = cost.prices
    lines = [
        f"Planned {_count(len(tables), 'table')} ({len(plan.skipped):,} skipped) into "
        f"{_count(len(pipelines), 'pipeline')}, "
        f"at most {peak_concurrent_pipelines(plan.batches)} at once (limit {plan.max_concurrent_pipelines})"
        + (f", and {_count(len(exports), 'group')} of native exports." if exports else "."),
        f"Window {clock(0)}-{clock(plan.window_seconds)} UTC ({_hours(plan.window_seconds)}); "
        f"the last pipeline ends at {clock(end)}"
        + (f", {_count(len(late), 'table')} past the window." if late else "."),
        _lower_bound_line(plan, len(late)),
        f"Boosts: {_count(len(boosted), 'table')}, peak {plan.peak_extra_rcu:,} of {plan.max_extra_rcu:,} extra RCU"
        + (
            f"; held while their tables wait their turn: {cost.waiting_rcu_hours:,.0f} RCU-hours "
            f"(${cost.waiting_rcu_usd:,.2f})."
            if cost.waiting_rcu_hours
            else "."
        ),
        f"Estimated cost: ${cost.total_usd:,.2f} = EMR {cost.emr_cluster_hours:,.1f} cluster-hours "
        f"(${cost.emr_usd:,.2f}) + {cost.extra_rcu_hours:,.0f} extra RCU-hours (${cost.rcu_usd:,.2f}) + "
        f"{cost.on_demand_read_units / 1e6:,.1f} million on-demand read request units "
        f"(${cost.on_demand_read_usd:,.2f}), at ${prices.cluster_hour_usd:g} per cluster-hour, "
        f"${prices.rcu_hour_usd:g} per RCU-hour and ${prices.on_demand_read_million_usd:g} per million read "
        "request units.",
    ]
    if pipelines:
        lines += [
            "",
            f"{'pipeline':<9} {'starts':>6} {'ends':>6} {'tables':>6} {'boosted':>7} {'extra RCU':>10}",
        ]
        for batch in pipelines[:SHOWN_PIPELINES]:
            extra = sum(t.extra_read_capacity_units for t in batch.tables)
            lines.append(
                f"{batch.id:<9} {clock(batch.start_seconds):>6} "
                f"{clock(batch.start_seconds + batch.estimated_seconds):>6} "
                f"{len(batch.tables):>6} {sum(t.boosted for t in batch.tables):>7} {extra:>10,}"
            )
        if len(pipelines) > SHOWN_PIPELINES:
            lines.append(f"... and {len(pipelines) - SHOWN_PIPELINES:,} more (--json or --report shows them all)")
    if plan.lower_bound is not None and plan.lower_bound.reasons:
        lines += ["", "Why some lateness cannot be avoided:"] + [f"  {r}" for r in plan.lower_bound.reasons]
        if_read = plan.lower_bound.reasons_if_boosts_held_only_while_read
        if if_read and if_read != plan.lower_bound.reasons:
            lines += ["If boosts were held only while their tables are read:"] + [f"  {r}" for r in if_read]
    if plan.flagged:
        lines += ["", f"Flagged ({len(plan.flagged)}):"] + [f"  {f.name}: {f.reason}" for f in plan.flagged]
    if plan.skipped:
        lines += ["", f"Skipped ({len(plan.skipped)}):"] + [f"  {s.name}: {s.reason}" for s in plan.skipped]
    return "\n".join(lines)


def engines_summary(choices: list[tuple[str, EngineChoice]]) -> str:
    """Each table's cost on both engines and the cheaper one, the dearest tables first."""
    exported = [choice for _, choice in choices if choice.engine == "export"]
    total = sum(c.costs.export_usd if c.engine == "export" else c.costs.emr_usd for _, c in choices)
    lines = [
        f"{_count(len(choices), 'table')}: {len(exported):,} cheaper as a native export, "
        f"{len(choices) - len(exported):,} on EMR; ${total:,.2f} a night if each took the cheaper engine.",
        "",
        f"{'table':<32} {'engine':<12} {'EMR':>10} {'export':>10}  why",
    ]
    ordered = sorted(choices, key=lambda item: -max(item[1].costs.emr_usd, item[1].costs.export_usd))
    for name, choice in ordered:
        emr = f"${choice.costs.emr_usd:,.2f}" if choice.costs.emr_fits_window else "too slow"
        export = f"${choice.costs.export_usd:,.2f}"
        lines.append(f"{name:<32} {choice.engine:<12} {emr:>10} {export:>10}  {choice.reason}")
    return "\n".join(lines)


def _engines_json(choices: list[tuple[str, EngineChoice]]) -> str:
    """The engine choices as a JSON list, one object per table."""
    return json.dumps(
        [
            {"table": name, "engine": choice.engine, "reason": choice.reason, **choice.costs._asdict()}
            for name, choice in choices
        ],
        indent=2,
    )


def _count(number: int, noun: str) -> str:
    """``1 table``, ``2 tables``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min"


def _lower_bound_line(plan: Plan, late: int) -> str:
    """What the plan's lateness is against the fewest late tables any plan could have."""
    if plan.lower_bound is None:
        return "No lower bound on late tables was computed for this plan."
    bound = plan.lower_bound.late_tables
    cheapest = f"; no plan as late can cost less than ${plan.lower_bound.cost_usd:,.2f}"
    if_read = plan.lower_bound.late_tables_if_boosts_held_only_while_read
    # Boosts are held from their pipeline's start; raised only while read, fewer might be late.
    just_in_time = "" if if_read is None else f" (boosts held only while read: {if_read:,})"
    if late == bound:
        return f"Late tables: {late:,}, the fewest any plan can have under these limits{just_in_time}{cheapest}."
    return f"Late tables: {late:,}; no plan can have fewer than {bound:,} under these limits{just_in_time}{cheapest}."
