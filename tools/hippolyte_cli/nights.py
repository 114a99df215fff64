"""One night of the backup state machine, read from AWS and shown to a person.

Shared by ``hippolyte run``, ``status`` and ``history``. A night is one execution of the stack's
backup state machine (its ``BackupStateMachineArn`` output) and the documents its run keeps under
``runs/<execution name>/`` in the backup bucket (its ``BackupBucketName`` output): the inventory,
the plan (with its cost estimate), the progress (every batch and every table's outcome so far) and,
once the night has ended, ``report.txt``. Every call here is a read: DescribeStacks,
DescribeExecution, ListExecutions, GetExecutionHistory and GetObject.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from hippolyte import runtime
from hippolyte.adapters.run_store import load_stored
from hippolyte.adapters.stack_outputs import describe_stack, stack_name
from hippolyte.errors import ConfigurationError
from hippolyte.models import Inventory, Plan, RunProgress, RunRef, TableOutcome
from hippolyte.report import execution_console_url, final_outcomes

RUNNING = "RUNNING"
# How many of an execution's newest events are read to find the state it is in: a state's entry is
# always among the last few, even inside a Map running several iterations.
HISTORY_TAIL = 100


def add_stack_options(parser: Any, json_help: str) -> None:
    """The options every verb that reads a deployed stack takes: ``--stack``, ``--region``, ``--json``."""
    parser.add_argument("--stack", help="the deployed stack's name (default: $HIPPOLYTE_STACK)")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    parser.add_argument("--json", action="store_true", help=json_help)


def add_interval_option(parser: Any, default: float) -> None:
    """``--interval``: how often a verb that follows a night looks at it."""
    parser.add_argument(
        "--interval",
        type=float,
        default=default,
        help=f"seconds between two looks at the night when following (default {default:.0f})",
    )


def now() -> datetime:
    """The time to measure nights and backups against.

    The handlers' clock (:data:`hippolyte.runtime.CLOCK`): the real UTC time, except in a local
    session, where it is the session's clock, so that ages and durations agree with the local
    night's own times.
    """
    return runtime.CLOCK()


@dataclass(frozen=True)
class BackupStack:
    """The deployed stack's parts a night is read from."""

    name: str
    state_machine_arn: str
    bucket: str
    # The parameters the stack was deployed with (CloudFormation's strings).
    parameters: dict[str, str]

    @property
    def region(self) -> str:
        """The stack's region, from its state machine's ARN."""
        return self.state_machine_arn.split(":")[3]


def backup_stack(session: Any, stack: str | None) -> BackupStack:
    """The stack ``--stack`` (or ``$HIPPOLYTE_STACK``) names: one DescribeStacks."""
    deployed = describe_stack(session.client("cloudformation"), stack_name(stack))
    return BackupStack(
        name=deployed.name,
        state_machine_arn=deployed.output("BackupStateMachineArn"),
        bucket=deployed.output("BackupBucketName"),
        parameters=deployed.parameters,
    )


@dataclass(frozen=True)
class Night:
    """One execution of the backup state machine and its run's documents."""

    execution_arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None = None
    # The state the execution entered last (None when not read, or before the first state).
    state: str | None = None
    error: str | None = None
    cause: str | None = None
    inventory: Inventory | None = None
    plan: Plan | None = None
    progress: RunProgress | None = None
    report: str | None = None

    @property
    def region(self) -> str:
        """The execution's region, from its ARN."""
        return self.execution_arn.split(":")[3]

    @property
    def console_url(self) -> str:
        """The execution's page in the Step Functions console."""
        return execution_console_url(self.region, self.execution_arn)

    @property
    def finished(self) -> bool:
        """True once the execution has ended, whatever its outcome."""
        return self.status != RUNNING

    @property
    def outcomes(self) -> list[TableOutcome]:
        """Every table's outcome so far; once the night has ended, every table the run found has one."""
        progress = self.progress or RunProgress()
        if self.finished:
            return final_outcomes(self.inventory, progress)
        outcomes = dict(progress.outcomes)
        for skipped in self.inventory.skipped if self.inventory else []:
            outcomes.setdefault(skipped.name, TableOutcome(name=skipped.name, status="skipped", reason=skipped.reason))
        return sorted(outcomes.values(), key=lambda outcome: outcome.name)

    @property
    def pending(self) -> list[str]:
        """Tables the run will back up that have no outcome yet (none once the night has ended)."""
        if self.finished or self.inventory is None:
            return []
        done = {outcome.name for outcome in self.outcomes}
        return sorted(table.name for table in self.inventory.tables if table.name not in done)

    @property
    def counts(self) -> dict[str, int]:
        """Tables backed up, failed, skipped and pending."""
        counted = Counter(outcome.status for outcome in self.outcomes)
        return {
            "backed_up": counted["backed_up"],
            "failed": counted["failed"],
            "skipped": counted["skipped"],
            "pending": len(self.pending),
        }

    @property
    def failed_tables(self) -> list[TableOutcome]:
        """The tables that were not backed up, with the reason."""
        return [outcome for outcome in self.outcomes if outcome.status == "failed"]

    @property
    def bytes_backed_up(self) -> int:
        """What the night's backups hold, as their outcomes count it."""
        return sum(outcome.bytes or 0 for outcome in self.outcomes if outcome.status == "backed_up")

    @property
    def estimated_cost_usd(self) -> float | None:
        """The plan's cost estimate (None before the plan is made, or when the run made none)."""
        return self.plan.cost.total_usd if self.plan else None

    def seconds(self, at: datetime) -> float:
        """How long the night ran (until ``at`` while it runs)."""
        return ((self.stopped or at) - self.started).total_seconds()

    def exit_code(self) -> int:
        """0 while nothing failed (the night ended SUCCEEDED, or runs with no table failed yet); 1 otherwise."""
        if self.finished:
            return 0 if self.status == "SUCCEEDED" and not self.failed_tables else 1
        return 1 if self.failed_tables else 0

    def as_json(self, at: datetime) -> dict[str, Any]:
        """The night as JSON-ready data."""
        return {
            "execution_arn": self.execution_arn,
            "name": self.name,
            "status": self.status,
            "state": self.state,
            "started": self.started.isoformat(),
            "stopped": self.stopped.isoformat() if self.stopped else None,
            "seconds": round(self.seconds(at), 3),
            "error": self.error,
            "cause": self.cause,
            "tables": self.counts,
            "failed_tables": [{"name": o.name, "reason": o.reason} for o in self.failed_tables],
            "pending_tables": self.pending,
            "bytes": self.bytes_backed_up,
            "estimated_cost_usd": self.estimated_cost_usd,
            "batches": [
                batch.model_dump(mode="json") for batch in (self.progress.batches.values() if self.progress else [])
            ],
            "console_url": self.console_url,
            "report": self.report,
        }


def execution_arn(state_machine_arn: str, execution: str) -> str:
    """An execution's ARN from its name (or its ARN, returned as it is).

    >>> execution_arn("arn:aws:states:eu-west-1:123456789012:stateMachine:hippolyte-prod-backup", "n1")
    'arn:aws:states:eu-west-1:123456789012:execution:hippolyte-prod-backup:n1'
    """
    if execution.startswith("arn:"):
        return execution
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{execution}"


def recent_executions(sfn: Any, state_machine_arn: str, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` executions of the state machine, newest first (ListExecutions' entries)."""
    found: list[dict[str, Any]] = []
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, PaginationConfig={"PageSize": min(count, 1000)}
    )
    for page in pages:
        found += page.get("executions", [])
        if len(found) >= count:
            break
    # ListExecutions lists newest first; sorting again costs nothing and does not rely on it.
    return sorted(found, key=lambda execution: execution["startDate"], reverse=True)[:count]


def describe_execution(sfn: Any, arn: str) -> dict[str, Any]:
    """DescribeExecution; an execution Step Functions does not know is a one-line error."""
    try:
        description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ExecutionDoesNotExist", "InvalidArn"):
            raise ConfigurationError(f"EXECUTION: no execution {arn.rsplit(':', 1)[-1]} ({arn})") from None
        raise
    return description


def current_state(sfn: Any, arn: str) -> str | None:
    """The state the execution entered last: the newest StateEntered event of its history."""
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=HISTORY_TAIL)["events"]
    entered = [event for event in events if event["type"].endswith("StateEntered")]
    # Asked newest first; the highest event id is the newest whatever order the answer came in.
    newest = max(entered, key=lambda event: event["id"], default=None)
    return None if newest is None else str(newest["stateEnteredEventDetails"]["name"])


def _report_text(s3: Any, bucket: str, key: str) -> str | None:
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return None
        raise


def read_night(
    sfn: Any,
    s3: Any,
    bucket: str,
    execution: dict[str, Any],
    *,
    with_state: bool = True,
    with_report: bool = True,
    earlier: Night | None = None,
) -> Night:
    """A night from its execution (DescribeExecution's or ListExecutions' entry) and its run's documents.

    ``earlier``, a read of the same night, saves reading again what a run never rewrites: the
    inventory and the plan.
    """
    arn, name = execution["executionArn"], execution["name"]
    # The run's id is its execution's name (DiscoverTables); RunRef knows where its documents are.
    run = RunRef(run_id=name, execution_id=arn, bucket=bucket, started_at=execution["startDate"])
    inventory = earlier.inventory if earlier else None
    plan = earlier.plan if earlier else None
    if inventory is None:
        inventory = load_stored(s3, bucket, run.key("inventory"), Inventory)
    if plan is None:
        plan = load_stored(s3, bucket, run.key("plan"), Plan)
    status = execution["status"]
    return Night(
        execution_arn=arn,
        name=name,
        status=status,
        started=execution["startDate"],
        stopped=execution.get("stopDate"),
        state=current_state(sfn, arn) if with_state else None,
        error=execution.get("error"),
        cause=execution.get("cause"),
        inventory=inventory,
        plan=plan,
        progress=load_stored(s3, bucket, run.key("progress"), RunProgress),
        report=_report_text(s3, bucket, f"{run.prefix}report.txt") if with_report and status != RUNNING else None,
    )


def duration(seconds: float) -> str:
    """A duration for people.

    >>> duration(45), duration(3 * 3600 + 125), duration(26 * 3600)
    ('45s', '3h02m', '1d02h')
    """
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def first_line(cause: str | None) -> str:
    """The first line of an execution's cause (a Lambda error's cause is its JSON payload).

    >>> first_line('{"errorMessage": "no such table: x", "errorType": "UnknownTableError"}')
    'no such table: x'
    """
    text = cause or ""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        text = str(payload.get("errorMessage", text))
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def view(night: Night, at: datetime | None = None) -> Iterator[tuple[str, str]]:
    """The night as lines, each with a key naming what it shows (``follow`` prints a line when it changes).

    ``at`` adds how long the night has run until then (left out when following: it would change on
    every poll).
    """
    where = f", in {night.state}" if night.state else ""
    yield "night", f"Night {night.name}: {night.status}{where}"
    when = f"  started {night.started:%Y-%m-%d %H:%M:%S} UTC"
    if night.stopped is not None:
        when += f", ended {night.stopped:%Y-%m-%d %H:%M:%S} UTC ({duration(night.seconds(night.stopped))})"
    elif at is not None:
        when += f", running for {duration(night.seconds(at))}"
    yield "when", when
    yield "link", f"  {night.console_url}"
    if night.error and night.error != "TablesFailed":
        yield "error", f"  the execution {night.status.lower()}: {night.error}: {first_line(night.cause)}"
    batches = night.progress.batches if night.progress else {}
    planned = {batch.id: batch for batch in night.plan.batches} if night.plan else {}
    if batches:
        by_status = Counter(batch.status for batch in batches.values())
        yield "batches", "Batches: " + ", ".join(f"{count} {status}" for status, count in sorted(by_status.items()))
    for batch_id in sorted(batches):
        batch = batches[batch_id]
        plan = planned.get(batch_id)
        tables = f"{len(plan.tables)} table{'s' if len(plan.tables) != 1 else ''}" if plan else ""
        engine = plan.engine if plan else ""
        where_it_runs = ""
        if batch.pipeline_id:
            where_it_runs = f"  pipeline {batch.pipeline_id}" + (
                f" ({batch.pipeline_state})" if batch.pipeline_state else ""
            )
        elif batch.export_arns:
            where_it_runs = f"  {len(batch.export_arns)} native export(s)"
        yield f"batch {batch_id}", f"  {batch_id}  {engine:<12} {batch.status:<11} {tables:>10}{where_it_runs}"
    counts = night.counts
    if night.inventory is not None or night.progress is not None:
        yield (
            "tables",
            f"Tables: {counts['backed_up']} backed up, {counts['failed']} failed, {counts['skipped']} skipped, "
            f"{counts['pending']} pending",
        )
    for outcome in night.failed_tables:
        yield f"failed {outcome.name}", f"  failed: {outcome.name}: {outcome.reason}"


def ending(night: Night) -> str:
    """What ends the view of a finished night: its report, or, when the run wrote none, the execution's error."""
    if night.report:
        return night.report.rstrip("\n")
    if night.error:
        return f"The night {night.status.lower()}: {night.error}: {first_line(night.cause)}"
    return f"The night ended {night.status}; its run wrote no report."


def follow(
    sfn: Any,
    s3: Any,
    bucket: str,
    arn: str,
    interval: float,
    show: Callable[[str], None] | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Night:
    """Read the night every ``interval`` seconds until its execution ends; returns the last read.

    ``show`` gets the view's lines the first time, then each line whose content changed (the state,
    a batch, the table counts, a table that failed).
    """
    shown: dict[str, str] = {}
    night: Night | None = None
    while True:
        night = read_night(sfn, s3, bucket, describe_execution(sfn, arn), earlier=night)
        if show is not None:
            for key, line in view(night):
                if shown.get(key) != line:
                    show(line)
                    shown[key] = line
        if night.finished:
            return night
        sleep(interval)


def history_entry(night: Night, at: datetime) -> dict[str, Any]:
    """One line of ``hippolyte history`` as data."""
    return {
        "name": night.name,
        "execution_arn": night.execution_arn,
        "started": night.started.isoformat(),
        "seconds": round(night.seconds(at), 3),
        "status": night.status,
        "backed_up": night.counts["backed_up"],
        "failed": night.counts["failed"],
        "skipped": night.counts["skipped"],
        "pending": night.counts["pending"],
        "bytes": night.bytes_backed_up,
        "estimated_cost_usd": night.estimated_cost_usd,
        "console_url": night.console_url,
    }


def failure_line(night: Night) -> str | None:
    """One line saying why the night is not a success (None when it is, or runs with nothing failed)."""
    failed = [outcome.name for outcome in night.failed_tables]
    if failed:
        names = ", ".join(failed[:5]) + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")
        return f"{len(failed)} table{'s' if len(failed) != 1 else ''} not backed up: {names}"
    if night.finished and night.status != "SUCCEEDED":
        reason = first_line(night.cause)
        return f"the night {night.status.lower()}: {night.error or night.status}" + (f": {reason}" if reason else "")
    return None


@contextmanager
def aws_errors() -> Iterator[None]:
    """AWS's refusals as one-line errors (the CLI prints them and exits 2), as ``backups`` does."""
    try:
        yield
    except ClientError as error:
        raise ValueError(f"AWS refused: {error.response['Error'].get('Message') or error}") from None
    except BotoCoreError as error:
        raise ValueError(f"AWS: {error}") from None
