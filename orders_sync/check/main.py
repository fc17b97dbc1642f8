"""``scripts/orders_sync_check.sh [--format table|json] [--offline]``: the preflight command.

Exit 0: ready (warnings allowed); 1: at least one check failed; 2: bad usage. Writes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from orders_sync.check.preflight import ready, render_table, run_checks
from orders_sync.cli import EXIT_FAILED, EXIT_OK, CommandParser, command_settings, run_main
from orders_sync.db.engine import get_engine

FORMATS = ("table", "json")


def build_parser() -> CommandParser:
    """The preflight's argument parser."""
    parser = CommandParser(
        prog="orders_sync_check",
        description="Check that this deployment is ready to sync: the database, the schema, "
        "the privileges a run needs, the stores, each source. Writes nothing. Exit 0 ready, "
        "1 a check failed, 2 bad usage.",
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument(
        "--offline", action="store_true", help="send no request to the CRMs (configuration only)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check, print them, return the exit status."""

    def body() -> int:
        args = build_parser().parse_args(argv)
        settings = command_settings()
        checks = run_checks(get_engine(settings), settings, offline=args.offline)
        if args.format == "json":
            document = {"ready": ready(checks), "checks": [c.to_json() for c in checks]}
            print(json.dumps(document))
        else:
            print(render_table(checks))
        sys.stdout.flush()
        return EXIT_OK if ready(checks) else EXIT_FAILED

    return run_main(body)


if __name__ == "__main__":
    raise SystemExit(main())
