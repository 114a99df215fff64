"""``hippolyte status``: where a night is, or how it ended.

Reads one execution of the deployed stack's backup state machine (``--stack`` /
``$HIPPOLYTE_STACK``): EXECUTION, its name or ARN, or by default the latest one. Prints the state
it is in (the last one it entered), when it started and how long it ran, its console link, each
batch's status (its pipeline or native exports), the tables backed up, failed, skipped and
pending, and every failed table with the reason; a night that has ended is followed by its report.
``--follow`` goes on showing a running night until it ends, as ``hippolyte run --follow`` does.

Exit codes: 0 the night succeeded, or runs with no table failed so far; 1 a table failed or the
night failed; 2 bad input (no such execution, no stack).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3
from hippolyte.errors import ConfigurationError

from hippolyte_cli.nights import (
    add_interval_option,
    add_stack_options,
    aws_errors,
    backup_stack,
    describe_execution,
    ending,
    execution_arn,
    failure_line,
    follow,
    now,
    read_night,
    recent_executions,
    view,
)
from hippolyte_cli.run import DEFAULT_INTERVAL


def register(verbs: Any) -> None:
    """Add the ``status`` verb."""
    parser = verbs.add_parser(
        "status",
        help="show a night: its state, batches and tables (default: the latest)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("execution", nargs="?", metavar="EXECUTION", help="the execution's name or ARN")
    parser.add_argument("--follow", action="store_true", help="go on showing a running night until it ends")
    add_interval_option(parser, DEFAULT_INTERVAL)
    add_stack_options(parser, json_help="print the night as JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Show the night; exit 0, 1 or 2 (see the module's doc)."""
    if args.interval <= 0:
        raise ValueError("--interval: must be more than 0 seconds")
    session = boto3.session.Session(region_name=args.region)
    with aws_errors():
        stack = backup_stack(session, args.stack)
        sfn = session.client("stepfunctions", region_name=stack.region)
        s3 = session.client("s3", region_name=stack.region)
        if args.execution:
            arn = execution_arn(stack.state_machine_arn, args.execution)
        else:
            latest = recent_executions(sfn, stack.state_machine_arn, 1)
            if not latest:
                raise ConfigurationError(f"EXECUTION: the backup state machine of stack {stack.name} has never run")
            arn = latest[0]["executionArn"]
        night = read_night(sfn, s3, stack.bucket, describe_execution(sfn, arn))
        if args.follow and not night.finished:
            show = None if args.json else _progress
            night = follow(sfn, s3, stack.bucket, arn, args.interval, show)
    if args.json:
        json.dump(night.as_json(now()), sys.stdout, indent=2)
        print()
    else:
        for _, line in view(night, at=now()):
            print(line)
        if night.finished:
            print()
            print(ending(night))
    problem = failure_line(night)
    if problem is not None:
        print(f"hippolyte status: {problem}", file=sys.stderr)
    return night.exit_code()


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
