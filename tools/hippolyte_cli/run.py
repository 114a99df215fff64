"""``hippolyte run``: start a night now (every table, or only ``--tables``), and follow it if asked.

Starts the deployed stack's backup state machine (the ``BackupStateMachineArn`` output of
``--stack`` / ``$HIPPOLYTE_STACK``), as the nightly schedule does: every table the stack's rules
select, or, with ``--tables``, exactly the tables named (the manual re-run, whatever the filters
say). The input is checked before anything starts: a name that cannot be a table's, a table named
twice, a ``--poll-seconds`` out of range, or a table that does not exist is refused with one line.

Without ``--follow``, prints the execution's name, ARN and console link, and exits 0.

With ``--follow``, shows the night as it goes, on stderr (nothing with ``--json``): the state it is
in, each batch's status and the tables backed up, failed and pending, read from the run's progress
every ``--interval`` seconds; a line is printed when what it shows changes. It ends with the
night's report on stdout (the whole night as JSON with ``--json``). Ctrl-C stops following; the
night goes on (``hippolyte status`` shows it).

Exit codes: 0 started (or, following, every table backed up or skipped with a reason); 1 a table
failed or the night failed; 2 bad input or a refusal (one line says why; nothing is started).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import boto3
from hippolyte.adapters.tables import describe_table
from hippolyte.discovery import missing_tables
from hippolyte.history_budget import MIN_POLL_SECONDS
from hippolyte.models import ExecutionInput, first_error
from hippolyte.report import execution_console_url
from pydantic import ValidationError

from hippolyte_cli import USAGE_ERROR
from hippolyte_cli.nights import (
    add_interval_option,
    add_stack_options,
    aws_errors,
    backup_stack,
    ending,
    failure_line,
    first_line,
    follow,
    now,
)

# Errors DiscoverTables raises for input a person can fix: exit 2, like a bad option. The checks
# below catch most before anything starts; these remain for what changes in between (a table
# deleted, another run taking a table).
REFUSALS = frozenset({"InvalidExecutionInputError", "UnknownTableError", "RunAlreadyRunningError"})
_OPTIONS = {"tables": "--tables", "poll_seconds": "--poll-seconds"}
# Step Functions execution names: at most 80 characters.
NAME_LIMIT = 80
DEFAULT_INTERVAL = 10.0


def register(verbs: Any) -> None:
    """Add the ``run`` verb."""
    parser = verbs.add_parser(
        "run",
        help="start a backup night now (or re-run some tables), and follow it",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--tables", nargs="+", metavar="TABLE", help="back up only these tables, whatever the filters say"
    )
    parser.add_argument(
        "--poll-seconds",
        type=int,
        help=f"seconds between the night's looks at its backups ({MIN_POLL_SECONDS} to 3600; default 300)",
    )
    parser.add_argument("--follow", action="store_true", help="show the night until it ends, then its report")
    add_interval_option(parser, DEFAULT_INTERVAL)
    add_stack_options(parser, json_help="print the result as JSON, and no progress")
    parser.set_defaults(run=run)


def execution_input(tables: Sequence[str] | None, poll_seconds: int | None) -> ExecutionInput:
    """The execution input, validated here so that a bad option fails before anything starts."""
    raw: dict[str, Any] = {}
    if tables is not None:
        raw["tables"] = list(tables)
    if poll_seconds is not None:
        raw["poll_seconds"] = poll_seconds
    try:
        return ExecutionInput.model_validate(raw)
    except ValidationError as error:
        field, message = first_error(error)
        option, _, index = field.partition(".")
        named = f" ({raw['tables'][int(index)]!r})" if option == "tables" and index.isdigit() else ""
        raise ValueError(f"{_OPTIONS.get(option, option)}{named}: {message}") from None


def execution_name(tables: Sequence[str] | None, at: datetime) -> str:
    """A name saying what the execution is and when it started; the suffix keeps two starts apart.

    >>> from datetime import UTC
    >>> execution_name(["orders"], datetime(2026, 11, 28, 14, 5, tzinfo=UTC))[:-7]
    'rerun-orders-20261128T140500Z'
    >>> execution_name(None, datetime(2026, 11, 28, 14, 5, tzinfo=UTC))[:-7]
    'manual-20261128T140500Z'
    """
    stamp, suffix = f"{at:%Y%m%dT%H%M%SZ}", uuid.uuid4().hex[:6]
    if not tables:
        return f"manual-{stamp}-{suffix}"
    # Table names are letters, digits, '_', '.' and '-': all allowed in an execution's name.
    what = tables[0] if len(tables) == 1 else f"{tables[0]}-and-{len(tables) - 1}-more"
    room = NAME_LIMIT - len(f"rerun--{stamp}-{suffix}")
    return f"rerun-{what[:room]}-{stamp}-{suffix}"


def _missing(dynamodb: Any, tables: Sequence[str]) -> list[str]:
    """The named tables DynamoDB does not have (DescribeTable each)."""
    return missing_tables(tables, [name for name in tables if describe_table(dynamodb, name) is not None])


def run(args: argparse.Namespace) -> int:
    """Start the night (and follow it); exit 0, 1 or 2 (see the module's doc)."""
    if args.interval <= 0:
        raise ValueError("--interval: must be more than 0 seconds")
    request = execution_input(args.tables, args.poll_seconds)
    session = boto3.session.Session(region_name=args.region)
    with aws_errors():
        stack = backup_stack(session, args.stack)
        if request.tables is not None:
            missing = _missing(session.client("dynamodb", region_name=stack.region), request.tables)
            if missing:
                raise ValueError(f"--tables: no such table: {', '.join(missing)}")
        sfn = session.client("stepfunctions", region_name=stack.region)
        s3 = session.client("s3", region_name=stack.region)
        name = execution_name(request.tables, now())
        arn = sfn.start_execution(
            stateMachineArn=stack.state_machine_arn, name=name, input=request.model_dump_json(exclude_unset=True)
        )["executionArn"]
        link = execution_console_url(stack.region, arn)
        if not args.follow:
            if args.json:
                json.dump({"name": name, "execution_arn": arn, "console_url": link}, sys.stdout)
                print()
            else:
                print(f"Started {name}\n  {arn}\n  {link}")
            return 0
        show = None if args.json else _progress
        if show is not None:
            show(f"Started {name}; following it every {args.interval:g}s (Ctrl-C stops following, not the night)")
        try:
            night = follow(sfn, s3, stack.bucket, arn, args.interval, show)
        except KeyboardInterrupt:
            print(f"hippolyte run: no longer following; the night goes on: {arn}", file=sys.stderr)
            raise
    refused = night.error in REFUSALS
    if args.json:
        json.dump(night.as_json(now()), sys.stdout, indent=2)
        print()
    elif not refused:  # a night refused at its first state changed nothing and wrote no report
        print(ending(night))
    if refused:
        print(f"hippolyte run: {first_line(night.cause)}", file=sys.stderr)
        return USAGE_ERROR
    problem = failure_line(night)
    if problem is not None:
        print(f"hippolyte run: {problem}", file=sys.stderr)
    return night.exit_code()


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
