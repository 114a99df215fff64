"""``hippolyte backups``: a table's backups, newest first, and whether each can be restored.

The backup bucket is ``--bucket``, or the ``BackupBucketName`` output of the deployed stack named
by ``--stack`` (or ``$HIPPOLYTE_STACK``). Read-only: ListObjectsV2 over ``<table>/`` and one
GetObject per backup's ``hippolyte-manifest.json``.

A backup is *verified* when its manifest says Hippolyte checked its files when it was made, and
every file is still there with the size and ETag it had then (and ``_SUCCESS`` for the Data
Pipeline engine). Only verified backups are ever restored.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from hippolyte.adapters.backup_catalog import list_backups
from hippolyte.adapters.stack_outputs import stack_name, stack_output
from hippolyte.restore_models import BackupListing


def register(verbs: Any) -> None:
    """Add the ``backups`` verb."""
    parser = verbs.add_parser(
        "backups",
        help="list a table's backups, newest first",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--table", required=True, help="the table whose backups to list")
    parser.add_argument("--region", help="the stack's region (default: the AWS configuration's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--bucket", help="the backup bucket (default: the stack's BackupBucketName output)")
    where.add_argument("--stack", help="the deployed stack's name (default: $HIPPOLYTE_STACK)")
    parser.add_argument("--json", action="store_true", help="print the list as JSON")
    parser.set_defaults(run=run)


def human_size(num_bytes: int | None) -> str:
    """Bytes for people.

    >>> human_size(1536), human_size(None)
    ('1.5 KiB', '-')
    """
    if num_bytes is None:
        return "-"
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def backup_bucket(session: Any, bucket: str | None, stack: str | None) -> str:
    """The bucket to read: ``--bucket``, or the stack's ``BackupBucketName`` output."""
    if bucket:
        return bucket
    return stack_output(session.client("cloudformation"), stack_name(stack), "BackupBucketName")


def render(table: str, bucket: str, backups: list[BackupListing], out: TextIO) -> None:
    """The human table: time, engine, items, size, verified (or why not)."""
    if not backups:
        print(f"No backups of table {table} in s3://{bucket}/", file=out)
        return
    print(f"Backups of {table} in s3://{bucket}/ (newest first)", file=out)
    print(f"{'time (UTC)':<20} {'engine':<13} {'items':>10} {'size':>10}  verified", file=out)
    for backup in backups:
        items = "-" if backup.items is None else f"{backup.items:,}"
        verified = "yes" if backup.verified else f"no: {backup.problem}"
        print(
            f"{backup.time:%Y-%m-%d %H:%M:%S}  {backup.engine or '?':<13} {items:>10} {human_size(backup.bytes):>10}"
            f"  {verified}",
            file=out,
        )


def run(args: argparse.Namespace) -> int:
    """List the backups; exit 0 (an empty list included)."""
    session = boto3.session.Session(region_name=args.region)
    try:
        bucket = backup_bucket(session, args.bucket, args.stack)
        backups = list_backups(session.client("s3"), bucket, args.table)
    except ClientError as error:
        raise ValueError(f"AWS refused: {error.response['Error'].get('Message') or error}") from None
    except BotoCoreError as error:
        raise ValueError(f"AWS: {error}") from None
    if args.json:
        json.dump([backup.model_dump(mode="json") for backup in backups], sys.stdout, indent=2)
        print()
    else:
        render(args.table, bucket, backups, sys.stdout)
    return 0
