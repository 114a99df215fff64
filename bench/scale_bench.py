"""Benchmark: one whole night at 1,000, 2,500 and 10,000 tables, in the local harness.

Run with ``make bench-scale`` (``.venv/bin/python bench/scale_bench.py``). Each account size runs
in a process of its own (so that its peak memory is its own), through the real state machine and
the real handlers on in-memory AWS, on a simulated clock: see :mod:`tests.support.scale_night`
for what is emulated (AWS's rules, the account's API rates, Lambda's timeout, EMR's timing) and
what is assumed. It prints, for each size, and writes to ``bench/results/scale.md``:

- wall time and peak memory of the harness;
- the night's simulated duration, and each function's longest invocation against its timeout
  (and its peak memory against its MemorySize with ``--memory``);
- history events used against 25,000, the largest state input and output against 256 KB;
- API calls per quota, their peak per second, the headroom against the quota, throttles met;
- tables backed up, failed and skipped, and any not accounted for;
- the night's cost: Step Functions transitions, Lambda GB-seconds, EMR, boosted and on-demand reads.

It exits 1 when the largest size misses a target: every quota with at least 2x headroom, every
table accounted for, capacity back as it was with no lease left open, no invocation past its
timeout, and the harness under 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for path in (ROOT, ROOT / "functions", ROOT / "tools"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from tests.support.scale_night import run_night  # noqa: E402

SIZES = (1_000, 2_500, 10_000)
MIN_HEADROOM = 2.0
WALL_LIMIT_SECONDS = 600.0
HISTORY_QUOTA = 25_000
PAYLOAD_QUOTA = 262_144


def run_one(count: int, memory: bool, engine: str = "datapipeline") -> dict[str, Any]:
    """One night in this process, as JSON-ready data."""
    night = run_night(count, measure_memory=memory, engine=engine)
    data = asdict(night)
    data["outcomes"] = dict(night.outcomes)
    data["min_headroom"] = night.min_headroom
    return data


def _hours(seconds: float) -> str:
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _headroom(value: float) -> str:
    return "unbounded" if value >= 1e5 else f"{value:,.1f}x"


def misses(night: dict[str, Any]) -> list[str]:
    """The targets one night missed, each named."""
    found = []
    if night["status"] not in ("SUCCEEDED",) and night["outcomes"].get("failed", 0) == 0:
        found.append(f"the execution ended {night['status']}: {night['error']}")
    if night["unaccounted"]:
        found.append(f"{len(night['unaccounted'])} tables not in the report")
    if night["capacity_differs"]:
        found.append(f"{len(night['capacity_differs'])} tables' capacity not back as it was")
    if night["open_leases"]:
        found.append(f"{len(night['open_leases'])} leases left open")
    for quota in night["quotas"]:
        if quota["calls"] and quota["headroom"] < MIN_HEADROOM:
            found.append(f"{quota['name']}: headroom {quota['headroom']:.2f}x < {MIN_HEADROOM}x")
    for function in night["functions"]:
        if function["timed_out"]:
            found.append(f"{function['function']}: {function['timed_out']} invocations past the timeout")
        if function["longest_seconds"] * MIN_HEADROOM > function["timeout_seconds"]:
            longest = function["longest_seconds"]
            found.append(f"{function['function']}: longest invocation {longest:.0f} s, over half its timeout")
    if night["history_events"] * MIN_HEADROOM > HISTORY_QUOTA:
        found.append(f"history {night['history_events']} events, over half of {HISTORY_QUOTA}")
    if max(night["largest_input"], night["largest_output"]) * MIN_HEADROOM > PAYLOAD_QUOTA:
        found.append("a state's input or output is over half of 256 KB")
    if night["wall_seconds"] > WALL_LIMIT_SECONDS:
        found.append(f"the harness took {night['wall_seconds']:.0f} s, over {WALL_LIMIT_SECONDS:.0f} s")
    return found


def render(nights: list[dict[str, Any]], memory: bool) -> str:
    """The Markdown report."""
    lines = [
        "# A night at scale, in the local harness",
        "",
        f"`make bench-scale` on {platform.machine()}, Python {platform.python_version()}, "
        "one process per account size. Accounts are generated (seed 11): log-normal sizes "
        "around 30 MB, 4 giants of 0.5-5 TB per 1,000 tables, RCU log-uniform 5-10,000, 20% on-demand, "
        "5% auto-scaled, 10% with a GSI; 1% of tables read 3x slower than planned. Stack defaults "
        "(7 h window, 100 pipelines, 25% read share), 1,000,000 RCU of budget, polls every 5 min, "
        "30 ms of simulated time per AWS call.",
        "",
        "## Growth with the table count",
        "",
        "| tables | harness wall | harness peak RSS | night (simulated) | history events | largest state I/O | "
        "calls | throttles | backed up / failed / skipped | unaccounted | cost |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for night in nights:
        outcomes = night["outcomes"]
        lines.append(
            f"| {night['tables']:,} | {night['wall_seconds']:.0f} s | {night['harness_peak_mb']:,.0f} MB | "
            f"{_hours(night['night_seconds'])} | {night['history_events']:,} / 25,000 | "
            f"{max(night['largest_input'], night['largest_output']):,} B / 262,144 | "
            f"{sum(night['calls_by_operation'].values()):,} | {night['throttles']} | "
            f"{outcomes.get('backed_up', 0):,} / {outcomes.get('failed', 0)} / {outcomes.get('skipped', 0)} | "
            f"{len(night['unaccounted'])} | ${night['cost_usd']['total']:,.2f} |"
        )
    for night in nights:
        lines += ["", f"## {night['tables']:,} tables", ""]
        lines += [f"Execution {night['status']}" + (f" ({night['error']})" if night["error"] else "") + "."]
        if night["failures"]:
            shown = list(night["failures"].items())[:5]
            lines += ["", "Tables not backed up (first 5):", ""]
            lines += [f"- `{name}`: {reason}" for name, reason in shown]
        lines += [
            "",
            "| function | invocations | longest (simulated) | timeout | peak memory | MemorySize | timed out |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for f in night["functions"]:
            peak = f"{f['peak_mb']:.0f} MB" if f["peak_mb"] is not None else ("n/a" if memory else "not measured")
            lines.append(
                f"| {f['function']} | {f['invocations']} | {f['longest_seconds']:.1f} s | "
                f"{f['timeout_seconds']:.0f} s | {peak} | {f['memory_mb']} MB | {f['timed_out']} |"
            )
        lines += [
            "",
            "| quota | rate / burst | calls | peak per second | headroom | throttles | source |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for q in night["quotas"]:
            if q["calls"] or q["throttles"]:
                lines.append(
                    f"| {q['name']} | {q['per_second']:g}/s / {q['burst']:g} | {q['calls']:,} | "
                    f"{q['peak_per_second']} | {_headroom(q['headroom'])} | {q['throttles']} | {q['source']} |"
                )
        cost = night["cost_usd"]
        lines += [
            "",
            "Cost: " + ", ".join(f"{name.replace('_', ' ')} ${value:,.2f}" for name, value in cost.items()) + ".",
            "",
            "Calls per operation: "
            + ", ".join(f"{op} {count:,}" for op, count in night["calls_by_operation"].items())
            + ".",
        ]
        missed = misses(night)
        lines += ["", "Targets: " + ("all met." if not missed else "missed: " + "; ".join(missed) + ".")]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the sizes asked for, each in its own process; print and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, nargs="+", default=list(SIZES), help="account sizes to run")
    parser.add_argument("--memory", action="store_true", help="measure each invocation's peak memory (slower)")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "scale.md", help="where to write the report")
    parser.add_argument(
        "--engine", choices=["datapipeline", "emr"], default="datapipeline", help="the cluster engine of the night"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(count < 1 for count in args.tables):
        parser.error("--tables: every size must be at least 1")
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.memory, args.engine)))
        return 0
    nights = []
    for count in args.tables:
        print(f"running a night of {count:,} tables...", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--one", str(count), "--engine", args.engine]
        command += ["--memory"] if args.memory else []
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-4000:], file=sys.stderr)
            return 1
        nights.append(json.loads(done.stdout.strip().splitlines()[-1]))
        night = nights[-1]
        print(
            f"  {night['tables']:,} tables: {night['status']}, {night['wall_seconds']:.0f} s wall, "
            f"night {_hours(night['night_seconds'])}, {night['history_events']:,} events, "
            f"{night['outcomes']}",
            file=sys.stderr,
        )
    report = render(nights, args.memory)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    (args.out.with_suffix(".json")).write_text(json.dumps(nights, indent=1, default=str) + "\n")
    print(report)
    missed = misses(max(nights, key=lambda n: n["tables"]))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
