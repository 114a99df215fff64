"""``hippolyte history``: the last nights, newest first, one line each.

Reads the deployed stack's backup state machine's executions (``--stack`` /
``$HIPPOLYTE_STACK``; ListExecutions) and each one's run documents in the backup bucket. One line
per execution, scheduled nights and manual runs alike: its start (UTC), how long it ran, its
outcome, the tables backed up, failed and skipped, the bytes its backups hold, the plan's
estimated cost, its name and its console link. A night still running shows RUNNING, its tables
so far and how long it has run.

Exit code 0 (the list is information, whatever the nights' outcomes); 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3

from hippolyte_cli.backups import human_size
from hippolyte_cli.nights import (
    Night,
    add_stack_options,
    aws_errors,
    backup_stack,
    duration,
    history_entry,
    now,
    read_night,
    recent_executions,
)

DEFAULT_NIGHTS = 7


def register(verbs: Any) -> None:
    """Add the ``history`` verb."""
    parser = verbs.add_parser(
        "history",
        help="the last nights, newest first: outcome, tables, bytes, cost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--nights", type=int, default=DEFAULT_NIGHTS, help=f"how many executions to show (default {DEFAULT_NIGHTS})"
    )
    add_stack_options(parser, json_help="print the nights as JSON")
    parser.set_defaults(run=run)


HEADER = (
    f"{'start (UTC)':<16}  {'duration':>8}  {'outcome':<10}  {'backed up':>9}  {'failed':>6}  {'skipped':>7}"
    f"  {'bytes':>10}  {'est. cost':>9}  execution and its console link"
)


def line(night: Night) -> str:
    """One night's line (see HEADER)."""
    counts = night.counts
    cost = "-" if night.estimated_cost_usd is None else f"${night.estimated_cost_usd:,.2f}"
    took = duration(night.seconds(now()))
    return (
        f"{night.started:%Y-%m-%d %H:%M}  {took:>8}  {night.status:<10}  {counts['backed_up']:>9}"
        f"  {counts['failed']:>6}  {counts['skipped']:>7}  {human_size(night.bytes_backed_up):>10}  {cost:>9}"
        f"  {night.name}  {night.console_url}"
    )


def run(args: argparse.Namespace) -> int:
    """List the nights; exit 0."""
    if args.nights < 1:
        raise ValueError("--nights: must be at least 1")
    session = boto3.session.Session(region_name=args.region)
    with aws_errors():
        stack = backup_stack(session, args.stack)
        sfn = session.client("stepfunctions", region_name=stack.region)
        s3 = session.client("s3", region_name=stack.region)
        nights = [
            read_night(sfn, s3, stack.bucket, execution, with_state=False, with_report=False)
            for execution in recent_executions(sfn, stack.state_machine_arn, args.nights)
        ]
    if args.json:
        at = now()
        json.dump([history_entry(night, at) for night in nights], sys.stdout, indent=2)
        print()
        return 0
    if not nights:
        print(f"No nights yet: the backup state machine of stack {stack.name} has never run")
        return 0
    print(HEADER)
    for night in nights:
        print(line(night))
    return 0
