"""The ``hippolyte`` command: one verb per module in this package.

Every verb registers itself with :func:`argparse` and returns an exit code. Errors a user can
cause (a bad file, a bad option, an unknown table) end in one line on stderr and exit code 2;
failures of the job itself exit 1. No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hippolyte import __version__
from hippolyte.errors import HippolyteError
from hippolyte.models import first_error
from pydantic import ValidationError

USAGE_ERROR = 2
JOB_FAILED = 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb registered."""
    # Imported here: each verb module imports hippolyte_cli for its exit codes.
    from hippolyte_cli import backups, demo, freshness, history, plan, restore, run, status  # noqa: PLC0415

    parser = argparse.ArgumentParser(
        prog="hippolyte",
        description="Nightly point-in-time backups of every DynamoDB table in an AWS account.",
    )
    parser.add_argument("--version", action="version", version=f"hippolyte {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for module in (plan, demo, backups, restore, run, status, history, freshness):
        module.register(verbs)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hippolyte`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("hippolyte: interrupted", file=sys.stderr)
        return 130
    except (HippolyteError, ValidationError, OSError, ValueError) as error:
        print(f"hippolyte {args.verb}: {one_line(error)}", file=sys.stderr)
        return USAGE_ERROR


def one_line(error: BaseException) -> str:
    """An error as one readable line (pydantic errors name the field)."""
    if isinstance(error, ValidationError):
        field, message = first_error(error)
        return f"{field}: {message}"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
