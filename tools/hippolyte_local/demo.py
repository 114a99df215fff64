"""``make demo``: the nightly backup, end to end, on in-memory AWS.

Deploys the stack from template.yaml into moto, builds the demo fleet, runs the real state
machine with the real handlers (the EMR side emulated), then prints the execution history and a
per-table summary, and reads every backup back to compare it with its table.

It ends with a restore for each engine: one table backed up through Data Pipeline and
one through the native export are restored into new tables by the real restore state machine,
and each new table is compared with its original, item for item and index for index.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from hippolyte.backup_manifest import schema_from_description, shape_differences
from hippolyte.models import RunProgress

from hippolyte_local.fleet import DemoTable, create_table, demo_fleet
from hippolyte_local.native_export import export_items
from hippolyte_local.session import ExecutionResult, LocalSession, execution_states, local_session
from hippolyte_local.verify import backup_items, same_items, table_items

# The demo's stack: a one-hour window and a 25% read share, so that the planner has a reason to
# raise one table's capacity (a 7 MB table at 1 RCU) without the demo fleet taking long to build.
DEMO_PARAMETERS = {
    "Stage": "demo",
    # auto: each untagged table on the emr engine or the native export, whichever costs less (the
    # demo's tables have no point-in-time recovery, so they stay on EMR); three are tagged for the
    # export and three for Data Pipeline, so one night runs all three engines.
    "Engine": "auto",
    "WindowHours": "1",
    "ReadThroughputPercent": "0.25",
    "NotificationEmail": "ops@example.com",
}

# Tables the native export engine backs up (tag hippolyte:engine=export, PITR on) and tables Data
# Pipeline backs up (tag hippolyte:engine=datapipeline): every engine runs in one night, and the
# demo restores one table of each.
DEMO_EXPORT_TABLES = 3
DEMO_DATAPIPELINE_TABLES = 3
RESTORE_MAX_ITEMS = 300


@dataclass
class DemoResult:
    """What the demo did, for the summary and for --json."""

    execution: ExecutionResult
    tables: list[dict[str, Any]] = field(default_factory=list)
    verified: int = 0
    seconds: float = 0.0
    # Issue 5: one restore per engine, each compared with its original table.
    restores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Tables not backed up, backups that differ from their table, and restores that failed or differ."""
        return sum(1 for table in self.tables if table["status"] == "failed" or table.get("verified") is False) + sum(
            1 for restore in self.restores if not restore["identical"]
        )


class Progress:
    """Prints each state as the execution enters it (to stderr, so stdout stays for results)."""

    def __init__(self, session: LocalSession, out: TextIO, quiet: bool) -> None:
        self.session, self.out, self.quiet, self.shown = session, out, quiet, 0

    def say(self, text: str) -> None:
        """One progress line."""
        if not self.quiet:
            print(text, file=self.out, flush=True)

    def __call__(self, arn: str) -> None:
        states = execution_states(self.session.client("stepfunctions"), arn)
        for state in states[self.shown :]:
            self.say(f"  -> {state.name}")
        self.shown = len(states)


def _summaries(session: LocalSession, run_id: str) -> list[dict[str, Any]]:
    s3 = session.client("s3")
    bucket = session.stack.bucket
    progress = RunProgress.model_validate_json(
        s3.get_object(Bucket=bucket, Key=f"runs/{run_id}/progress.json")["Body"].read()
    )
    inventory = json.loads(s3.get_object(Bucket=bucket, Key=f"runs/{run_id}/inventory.json")["Body"].read())
    rows = []
    for skipped in inventory["skipped"]:
        rows.append({"name": skipped["name"], "status": "skipped", "reason": skipped["reason"]})
    for outcome in progress.outcomes.values():
        rows.append(outcome.model_dump(mode="json", exclude_none=True))
    return sorted(rows, key=lambda row: row["name"])


def run_demo(tables: int = 32, out: TextIO = sys.stderr, quiet: bool = False) -> DemoResult:
    """Run the whole demo and return what happened."""
    started = time.monotonic()
    with local_session(parameters=DEMO_PARAMETERS) as session:
        progress = Progress(session, out, quiet)
        progress.say("In-memory AWS is up; template.yaml deployed (functions, state machine, bucket, topic, ledger).")
        dynamodb, autoscaling = session.client("dynamodb"), session.client("application-autoscaling")
        fleet = demo_fleet(tables, export_tables=DEMO_EXPORT_TABLES, datapipeline_tables=DEMO_DATAPIPELINE_TABLES)
        for number, table in enumerate(fleet, start=1):
            create_table(dynamodb, autoscaling, table)
            progress.say(f"  [{number}/{len(fleet)}] created {table.name} ({table.items} items)")
        progress.say("Running the nightly backup state machine:")
        execution = session.run({"poll_seconds": 120}, timeout=300, name="demo-nightly", on_poll=progress)
        progress(execution.arn)
        result = DemoResult(execution=execution, tables=_summaries(session, "demo-nightly"))
        s3 = session.client("s3")
        for row in result.tables:
            if row["status"] == "backed_up":
                read = export_items if row.get("engine") == "export" else backup_items
                row["verified"] = same_items(read(s3, row["s3_path"]), table_items(dynamodb, row["name"]))
                result.verified += row["verified"]
        result.restores = restore_one_per_engine(session, fleet, result.tables, progress)
    result.seconds = time.monotonic() - started
    return result


def _restore_candidate(fleet: list[DemoTable], rows: list[dict[str, Any]], engine: str) -> str | None:
    backed_up = {row["name"] for row in rows if row["status"] == "backed_up" and row.get("engine") == engine}
    # A table with a global index shows the most (items, keys, an index and its projection); the
    # largest one small enough to import in a moment keeps the demo short.
    candidates = sorted(
        (t for t in fleet if t.name in backed_up and t.items <= RESTORE_MAX_ITEMS),
        key=lambda t: (t.gsi, t.items),
        reverse=True,
    )
    return candidates[0].name if candidates else None


def restore_one_per_engine(
    session: LocalSession, fleet: list[DemoTable], rows: list[dict[str, Any]], progress: Progress
) -> list[dict[str, Any]]:
    """Restore one backed-up table per engine into a new table and compare the two."""
    dynamodb = session.client("dynamodb")
    restores = []
    for engine in ("emr", "datapipeline", "export"):
        source = _restore_candidate(fleet, rows, engine)
        if source is None:
            continue
        target = f"{source}-restored"
        progress.say(f"Restoring {source} ({engine} backup) into {target} with the restore state machine:")
        progress.shown = 0
        began = time.monotonic()
        execution = session.run(
            {"table": source, "target": target, "at": "latest", "poll_seconds": 120},
            machine="RestoreStateMachine",
            name=f"demo-restore-{engine}",
            timeout=120,
            on_poll=progress,
        )
        progress(execution.arn)
        row: dict[str, Any] = {
            "table": source,
            "target": target,
            "engine": engine,
            "status": execution.status,
            "seconds": time.monotonic() - began,
            "identical": False,
        }
        if execution.status == "SUCCEEDED":
            original, restored = table_items(dynamodb, source), table_items(dynamodb, target)
            differences = shape_differences(
                schema_from_description(dynamodb.describe_table(TableName=source)["Table"]),
                schema_from_description(dynamodb.describe_table(TableName=target)["Table"]),
            )
            row.update(items=len(restored), same_items=same_items(original, restored), shape_differences=differences)
            row["identical"] = row["same_items"] and not differences
        else:
            row["error"] = f"{execution.error}: {execution.cause}"
        restores.append(row)
    return restores


def print_summary(result: DemoResult, out: TextIO = sys.stdout) -> None:
    """The execution history and the per-table summary, as text."""
    print("\nExecution history (state, seconds):", file=out)
    for state in result.execution.states:
        print(f"  {state.name:<28} {state.seconds:7.3f}{'  FAILED' if state.failed else ''}", file=out)
    print(
        f"\nExecution {result.execution.status}" + (f": {result.execution.error}" if result.execution.error else ""),
        file=out,
    )
    print(f"\n{'table':<24} {'status':<10} {'engine':<13} {'items':>6} {'bytes':>9}  details", file=out)
    for row in result.tables:
        detail = row.get("s3_path") or row.get("reason") or ""
        if row.get("verified") is not None:
            detail += "  [read back: " + ("identical" if row["verified"] else "DIFFERS") + "]"
        engine = row.get("engine", "") if row["status"] != "skipped" else ""
        print(
            f"{row['name']:<24} {row['status']:<10} {engine:<13} {row.get('items', ''):>6} {row.get('bytes', ''):>9}"
            f"  {detail}",
            file=out,
        )
    engines = sorted({row["engine"] for row in result.tables if row["status"] == "backed_up" and "engine" in row})
    print(f"\nEngines used tonight: {', '.join(engines)}", file=out)
    if result.restores:
        print("\nRestores (the real restore state machine, then the new table compared with its original):", file=out)
    for restore in result.restores:
        if restore["status"] != "SUCCEEDED":
            print(
                f"  {restore['table']} -> {restore['target']} ({restore['engine']}): {restore['status']} "
                f"{restore.get('error', '')}",
                file=out,
            )
            continue
        items = "identical items" if restore["same_items"] else "ITEMS DIFFER"
        shape = (
            "same keys, indexes and projections"
            if not restore["shape_differences"]
            else "DIFFERENT " + ", ".join(restore["shape_differences"])
        )
        print(
            f"  {restore['table']} -> {restore['target']} ({restore['engine']}): {restore['items']} items, "
            f"{items}, {shape} ({restore['seconds']:.1f}s)",
            file=out,
        )
    backed = sum(1 for row in result.tables if row["status"] == "backed_up")
    print(
        f"\n{backed} backed up ({result.verified} read back identical), {result.failed} failed, "
        f"{sum(1 for row in result.tables if row['status'] == 'skipped')} skipped, in {result.seconds:.1f}s",
        file=out,
    )
