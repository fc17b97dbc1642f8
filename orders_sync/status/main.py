"""``scripts/orders_sync_status.sh`` (``python -m orders_sync.status``): which stores are behind,
since when, and why — read-only, from ``orders_sync_log``.

Exit status 0; 2 for bad usage (unknown store, unknown format) or an unreachable database,
with one line on stderr. It writes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from orders_sync.cli import (
    EXIT_OK,
    CommandParser,
    command_settings,
    run_main,
)
from orders_sync.config import Settings
from orders_sync.db.engine import check_connection, get_engine
from orders_sync.exceptions import UsageError
from orders_sync.sources import registry
from orders_sync.status.coverage import StoreStatus
from orders_sync.status.load import read_statuses
from orders_sync.status.render import render_grid, render_table

FORMATS = ("table", "json")


def build_parser() -> CommandParser:
    """The status command's argument parser."""
    parser = CommandParser(
        prog="orders_sync_status",
        description="Coverage of every store + pipeline from orders_sync_log: covered through, "
        "days behind, missing ranges, failing windows, running now. Read-only.",
    )
    parser.add_argument("--sync-group", choices=registry.sync_group_choices(), default="ALL")
    parser.add_argument("--store-code", metavar="C", help="only this store_master.store_code")
    parser.add_argument("--format", default="table", help="table (default) or json")
    parser.add_argument(
        "--days", type=int, metavar="N", help="also a store x day grid of the last N days"
    )
    parser.add_argument(
        "--stuck-after",
        type=int,
        default=2,
        metavar="R",
        help="report days failed in R distinct runs as stuck (default 2, as the profiler)",
    )
    parser.add_argument(
        "--max-days-behind",
        type=int,
        default=1,
        metavar="D",
        help="a store more days behind than this counts as behind (default 1, as the DAG)",
    )
    return parser


def load_statuses(
    engine: sa.Engine,
    settings: Settings,
    *,
    sync_group: str = "ALL",
    store_code: str | None = None,
    stuck_after: int = 2,
) -> list[StoreStatus]:
    """The status of every store the profiler would select (the same filters), today.

    Raises:
        UsageError: ``store_code`` names no runnable store of the group.
    """
    with engine.connect() as conn:
        return read_statuses(
            conn,
            today=settings.today(),
            sync_group=sync_group,
            store_code=store_code,
            stuck_after=stuck_after,
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the status; returns the exit status."""
    return run_main(lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.format not in FORMATS:
        raise UsageError(f"--format must be table or json, got {args.format!r}.")
    if args.days is not None and args.days < 1:
        raise UsageError(f"--days must be 1 or more, got {args.days}.")
    if args.stuck_after < 0:
        raise UsageError(f"--stuck-after must be 0 or more, got {args.stuck_after}.")
    if args.max_days_behind < 0:
        raise UsageError(f"--max-days-behind must be 0 or more, got {args.max_days_behind}.")
    settings = command_settings()
    engine = get_engine(settings)
    check_connection(engine)
    statuses = load_statuses(
        engine,
        settings,
        sync_group=args.sync_group,
        store_code=args.store_code,
        stuck_after=args.stuck_after,
    )
    today = settings.today()
    if args.format == "json":
        payload = {
            "today": today.isoformat(),
            "timezone": settings.pipeline_timezone,
            "stores": [s.to_json() for s in statuses],
        }
        print(json.dumps(payload))
        return EXIT_OK
    print(render_table(statuses, today, settings.pipeline_timezone, args.max_days_behind))
    if args.days:
        utf8 = (getattr(sys.stdout, "encoding", "") or "").lower().replace("-", "") == "utf8"
        print()
        print(render_grid(statuses, today, args.days, utf8=utf8 and sys.stdout.isatty()))
    return EXIT_OK
