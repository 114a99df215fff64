"""``hippolyte restore``: restore a table's backup into a new table, through the restore state machine.

Starts the deployed stack's restore state machine (``--state-machine ARN``, or the
``RestoreStateMachineArn`` output of ``--stack`` / ``$HIPPOLYTE_STACK``) and follows it, one line
per step on stderr, until it ends. The state machine picks the latest verified backup at or before
``--at`` (or the one ``--backup`` names), creates the table from the backup's manifest (or lets
ImportTable create it, for native exports), imports, checks the item count, puts capacity and TTL
back as the original had them, and emails the report topic.

``--at`` takes ``2026-11-28T00:10:00Z`` (no offset: UTC), ``2026-11-28`` (the end of that day,
UTC), a backup directory's name ``2026-11-28-00-10-05``, or ``latest``.

Exit codes: 0 restored; 1 the restore failed; 2 bad input or a refusal (no such backup or table,
the target exists), with one line saying why. Nothing is created on a refusal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from hippolyte.adapters.stack_outputs import stack_name, stack_output
from hippolyte.history_budget import MIN_RESTORE_POLL_SECONDS
from hippolyte.restore_models import RestoreRequest
from pydantic import ValidationError

from hippolyte_cli import JOB_FAILED, USAGE_ERROR

# Errors FindBackup raises for input a person can fix: exit 2, like a bad option.
REFUSALS = frozenset(
    {
        "InvalidRestoreRequestError",
        "UnknownTableError",
        "BackupNotFoundError",
        "RestoreTargetExistsError",
        "BackupNotRestorableError",
    }
)
FOLLOW_SECONDS = 2.0
IMPORT_LOOP = frozenset({"WaitForImport", "CheckImport", "ImportFinished"})
IMPORT_NOTE_SECONDS = 60.0
_OPTIONS = {"table": "--table", "target": "--to", "at": "--at", "backup": "--backup", "poll_seconds": "--poll-seconds"}


def register(verbs: Any) -> None:
    """Add the ``restore`` verb."""
    parser = verbs.add_parser(
        "restore",
        help="restore a table's backup into a new table",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, help="the table whose backup is restored")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--at", help="the latest verified backup at or before this time")
    which.add_argument("--backup", help="one backup's directory, s3://<bucket>/<table>/<timestamp>/")
    parser.add_argument("--to", required=True, dest="target", metavar="NEW_TABLE", help="the table to restore into")
    parser.add_argument(
        "--into-existing",
        action="store_true",
        help="restore into NEW_TABLE even though it exists, if it is empty (Data Pipeline backups)",
    )
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--state-machine", help="the restore state machine's ARN (default: the stack's output)")
    where.add_argument("--stack", help="the deployed stack's name (default: $HIPPOLYTE_STACK)")
    parser.add_argument(
        "--poll-seconds",
        type=int,
        default=120,
        help=f"how often the state machine looks at the import (at least {MIN_RESTORE_POLL_SECONDS})",
    )
    parser.add_argument("--timeout", type=float, default=48 * 3600, help="stop following after this many seconds")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(run=run)


def restore_request(args: argparse.Namespace) -> RestoreRequest:
    """The execution input, validated here so that a bad option fails before anything starts."""
    raw = {
        "table": args.table,
        "target": args.target,
        "at": args.at,
        "backup": args.backup,
        "into_existing": args.into_existing,
        "poll_seconds": args.poll_seconds,
    }
    try:
        return RestoreRequest.model_validate({key: value for key, value in raw.items() if value is not None})
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "input"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{_OPTIONS.get(field, field)}: {message}") from None


def _history_states(sfn: Any, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [event["stateEnteredEventDetails"]["name"] for event in events if event["type"].endswith("StateEntered")]


def follow(sfn: Any, arn: str, timeout: float, interval: float, quiet: bool) -> dict[str, Any]:
    """Show each state as the execution first enters it (stderr) until it ends; returns DescribeExecution.

    The import's WaitForImport / CheckImport loop is shown once, then as one line a minute.
    """
    started = time.monotonic()
    deadline, shown, seen, told = started + timeout, 0, set(), started
    while True:
        description = sfn.describe_execution(executionArn=arn)
        if not quiet:
            states = _history_states(sfn, arn)
            for name in states[shown:]:
                if name not in seen:
                    print(f"  -> {name}", file=sys.stderr, flush=True)
                seen.add(name)
            shown = len(states)
            if states and states[-1] in IMPORT_LOOP and time.monotonic() - told >= IMPORT_NOTE_SECONDS:
                told = time.monotonic()
                print(f"  .. importing ({(told - started) / 60:.0f} min so far)", file=sys.stderr, flush=True)
        if description["status"] != "RUNNING":
            return description
        if time.monotonic() > deadline:
            raise TimeoutError(f"--timeout: still running after {timeout:.0f}s; the restore goes on: {arn}")
        time.sleep(interval)


def run(args: argparse.Namespace) -> int:
    """Start the restore and follow it; exit 0, 1 or 2 (see the module's doc)."""
    request = restore_request(args)
    session = boto3.session.Session(region_name=args.region)
    sfn = session.client("stepfunctions")
    try:
        machine = args.state_machine or stack_output(
            session.client("cloudformation"), stack_name(args.stack), "RestoreStateMachineArn"
        )
        name = f"restore-{request.target}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"[:80]
        arn = sfn.start_execution(stateMachineArn=machine, name=name, input=request.model_dump_json(exclude_none=True))[
            "executionArn"
        ]
        if not args.quiet:
            print(f"Restoring {request.table} into {request.target}: {arn}", file=sys.stderr, flush=True)
        interval = min(FOLLOW_SECONDS, max(0.1, float(args.poll_seconds)))
        try:
            description = follow(sfn, arn, args.timeout, interval, args.quiet)
        except TimeoutError as error:
            print(f"hippolyte restore: {error}", file=sys.stderr)
            return JOB_FAILED
        except KeyboardInterrupt:
            print(f"hippolyte restore: no longer following; the restore goes on: {arn}", file=sys.stderr)
            raise
    except ClientError as error:
        raise ValueError(f"AWS refused: {error.response['Error'].get('Message') or error}") from None
    except BotoCoreError as error:
        raise ValueError(f"AWS: {error}") from None
    return _report(description, args.json)


def error_message(cause: str) -> str:
    """The first line of a failed execution's cause (a Lambda error's cause is its JSON payload).

    >>> error_message('{"errorMessage": "no backup of table t", "errorType": "BackupNotFoundError"}')
    'no backup of table t'
    """
    try:
        payload = json.loads(cause)
    except ValueError:
        payload = None
    text = str(payload.get("errorMessage", cause)) if isinstance(payload, dict) else cause
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _report(description: dict[str, Any], as_json: bool) -> int:
    status, output = description["status"], json.loads(description.get("output") or "null")
    error, cause = description.get("error"), description.get("cause") or ""
    if as_json:
        json.dump(
            {
                "status": status,
                "execution_arn": description["executionArn"],
                "result": output,
                "error": error,
                "cause": cause or None,
            },
            sys.stdout,
            indent=2,
        )
        print()
    if status == "SUCCEEDED":
        if not as_json:
            print(
                f"Restored {output.get('table')} into {output.get('target')}: {output.get('items')} items "
                f"from {output.get('backup')}"
            )
        return 0
    first_line = error_message(cause) or status
    print(
        f"hippolyte restore: {first_line}"
        if error in REFUSALS
        else f"hippolyte restore: the restore {status.lower()}: {error}: {first_line}",
        file=sys.stderr,
    )
    return USAGE_ERROR if error in REFUSALS else JOB_FAILED
