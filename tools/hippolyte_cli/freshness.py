"""``hippolyte freshness``: every table that should be backed up, and the age of its newest verified backup.

The tables are those the deployed stack (``--stack`` / ``$HIPPOLYTE_STACK``) backs up on a nightly
run, chosen by discovery's own rules as DiscoverTables applies them: every table of the region
(ListTables), less the tables tagged ``hippolyte:backup=false`` and those ``ExcludePatterns``
matches, except the ones ``AlwaysBackup`` names. A table the native export engine would skip
because point-in-time recovery is off still counts: it should be backed up, and a stale line is
how a person learns it is not.

For each, the newest *verified* backup in the stack's bucket (as ``hippolyte backups`` shows it:
its manifest says it was checked and its files are unchanged). A table is stale when it has none,
or when the newest is older than ``--hours`` (26 by default: a night, plus slack for a night that
ran late). Stale tables come first, worst first.

Exit codes: 0 every table has a fresh verified backup; 1 some table is stale; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import boto3
from hippolyte.adapters.backup_catalog import newest_verified_backup
from hippolyte.adapters.tables import tagged_tables
from hippolyte.discovery import DiscoveryRules, split_selected
from hippolyte.freshness import DEFAULT_MAX_AGE_HOURS, Freshness, assess_freshness
from hippolyte.settings import load_settings

from hippolyte_cli import JOB_FAILED
from hippolyte_cli.nights import BackupStack, add_stack_options, aws_errors, backup_stack, duration, now

# Reads in flight at once (DescribeTable and tags; a listing and a manifest per table): as many as
# DiscoverTables uses.
WORKERS = 8


def register(verbs: Any) -> None:
    """Add the ``freshness`` verb."""
    parser = verbs.add_parser(
        "freshness",
        help="every table that should be backed up, and the age of its newest verified backup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--hours",
        type=float,
        default=DEFAULT_MAX_AGE_HOURS,
        help=f"a backup older than this is stale (default {DEFAULT_MAX_AGE_HOURS:g})",
    )
    add_stack_options(parser, json_help="print the tables as JSON")
    parser.set_defaults(run=run)


def discovery_rules(stack: BackupStack) -> DiscoveryRules:
    """The stack's filters, from the parameters it was deployed with.

    The parameters (DescribeStacks, which the command reads anyway for the bucket), not the
    functions' environment: template.yaml makes EXCLUDE_PATTERNS and ALWAYS_BACKUP from exactly
    these parameters, and reading them needs no Lambda permission. They are validated as the
    functions validate their environment (a pattern that does not compile is an error here too).
    """
    settings = load_settings(
        {
            "BACKUP_BUCKET": stack.bucket,
            "EXCLUDE_PATTERNS": stack.parameters.get("ExcludePatterns", ""),
            "ALWAYS_BACKUP": stack.parameters.get("AlwaysBackup", ""),
        }
    )
    return DiscoveryRules(
        exclude_patterns=tuple(settings.exclude_patterns), always_backup=frozenset(settings.always_backup)
    )


def tables_to_back_up(dynamodb: Any, rules: DiscoveryRules) -> list[str]:
    """The tables a nightly run of the stack would back up, by discovery's rules."""
    tags = tagged_tables(dynamodb, workers=WORKERS)
    selected, _ = split_selected(tags, tags, rules)
    return selected


def newest_backup_times(s3: Any, bucket: str, tables: list[str]) -> dict[str, datetime | None]:
    """Each table's newest verified backup's time (None: it has none)."""
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        found = list(pool.map(lambda table: newest_verified_backup(s3, bucket, table), tables))
    return {table: None if backup is None else backup.time for table, backup in zip(tables, found, strict=True)}


def render(stack: str, freshness: Freshness) -> list[str]:
    """The human table: stale ones first, each with its newest verified backup and its age."""
    limit = f"{freshness.max_age_hours:g} h"
    lines = [
        f"{len(freshness.tables)} tables backed up by {stack}; {len(freshness.stale)} without a verified backup "
        f"in the last {limit} (at {freshness.now:%Y-%m-%d %H:%M} UTC)"
    ]
    if not freshness.tables:
        return lines
    width = max(len("table"), *(len(entry.table) for entry in freshness.tables))
    lines.append(f"{'table':<{width}}  {'newest verified backup':<22}  {'age':>6}  fresh")
    for entry in freshness.tables:
        newest = "none" if entry.newest_backup is None else f"{entry.newest_backup:%Y-%m-%d %H:%M:%S}"
        age = "-" if entry.age_seconds is None else duration(entry.age_seconds)
        lines.append(f"{entry.table:<{width}}  {newest:<22}  {age:>6}  {'STALE' if entry.stale else 'yes'}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Check every table's newest verified backup; exit 0 when all are fresh, 1 otherwise."""
    if args.hours <= 0:
        raise ValueError("--hours: must be more than 0")
    session = boto3.session.Session(region_name=args.region)
    with aws_errors():
        stack = backup_stack(session, args.stack)
        rules = discovery_rules(stack)
        tables = tables_to_back_up(session.client("dynamodb", region_name=stack.region), rules)
        newest = newest_backup_times(session.client("s3", region_name=stack.region), stack.bucket, tables)
    freshness = assess_freshness(tables, newest, now(), args.hours)
    if args.json:
        json.dump(freshness.model_dump(mode="json"), sys.stdout, indent=2)
        print()
    else:
        print("\n".join(render(stack.name, freshness)))
    if freshness.stale:
        names = ", ".join(freshness.stale[:5]) + (
            f" and {len(freshness.stale) - 5} more" if len(freshness.stale) > 5 else ""
        )
        print(
            f"hippolyte freshness: {len(freshness.stale)} without a verified backup in the last "
            f"{args.hours:g} h: {names}",
            file=sys.stderr,
        )
        return JOB_FAILED
    return 0
