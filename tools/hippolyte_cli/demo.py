"""``hippolyte demo``: the nightly backup end to end on in-memory AWS (no account needed)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hippolyte_cli import JOB_FAILED


def register(verbs: Any) -> None:
    """Add the ``demo`` verb."""
    parser = verbs.add_parser("demo", help="run the nightly backup locally on in-memory AWS", description=__doc__)
    parser.add_argument("--tables", type=int, default=32, help="tables in the demo fleet (at least 30; default 32)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; exit 1 when any table failed."""
    if args.tables < 2:
        raise ValueError("--tables: must be at least 2")
    # Imported here: the local run needs moto (the `local` extra); the other verbs do not.
    from hippolyte_local.demo import print_summary, run_demo  # noqa: PLC0415

    result = run_demo(args.tables, quiet=args.quiet or args.json)
    if args.json:
        json.dump(
            {
                "status": result.execution.status,
                "seconds": round(result.seconds, 2),
                "states": [{"name": s.name, "seconds": s.seconds} for s in result.execution.states],
                "tables": result.tables,
                "restores": result.restores,
            },
            sys.stdout,
            indent=2,
        )
        print()
    else:
        print_summary(result)
    return JOB_FAILED if result.failed or result.execution.status != "SUCCEEDED" else 0
