"""``python -m orders_sync.run_profiler.main``: one run of the orders_sync run profiler.

It reads ``orders_sync_log`` and, per store + pipeline, runs the date windows that are
missing or due again — fixed N-day chunks from the last success (or the store's start
date) up to today, always re-running the last K successful days, then today's refresh —
in parallel across stores under PostgreSQL advisory locks. No manual backfill modes.

Exit status: 0 every window succeeded (or nothing was due); 1 a window failed or was
partial, or the run was interrupted; 2 bad usage or configuration, nothing written.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from orders_sync.cli import (
    EXIT_FAILED,
    EXIT_OK,
    CommandParser,
    add_common_arguments,
    command_settings,
    configure_logging,
    run_main,
)
from orders_sync.config import Settings, get_settings
from orders_sync.db.engine import check_connection, get_engine
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.load_plan import plan_run
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.planning import describe_plan
from orders_sync.run_profiler.progress import render_run_table
from orders_sync.runs.stopping import stop_on_signals
from orders_sync.runs.summary import run_succeeded
from orders_sync.sources import registry

DESCRIPTION = (
    "Auto backfill + continuous refresh of the TD and UC orders pipelines, decided from "
    "orders_sync_log. Per store + pipeline it starts at the store's start_date (no success "
    "yet) or at the last successful day minus (K-1), runs N-day windows up to today in the "
    "pipeline timezone (windows overlapping the last K successful days always run, others "
    "only if that exact window never succeeded), then refreshes today if no window "
    "included it; a store stops at its first failed or partial window."
)


def build_parser(settings: Settings) -> CommandParser:
    """The profiler's argument parser (flags of requirement §D, plus extensions)."""
    parser = CommandParser(
        prog="orders_sync_run_profiler",
        description=DESCRIPTION,
    )
    add_common_arguments(parser, default_env=settings.env)
    parser.add_argument(
        "--sync-group",
        choices=registry.sync_group_choices(),
        default="ALL",
        help="which stores: store_master.sync_group TD, UC, or ALL (default)",
    )
    parser.add_argument(
        "--window-days",
        type=int,
        default=90,
        metavar="N",
        help="size of each backfill chunk in days (default 90)",
    )
    parser.add_argument(
        "--overlap-days",
        type=int,
        default=1,
        metavar="K",
        help="most recent successful days always re-run (default 1)",
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=settings.max_workers,
        metavar="M",
        help="stores synced in parallel (default ORDERS_SYNC_MAX_WORKERS or 3)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="ignore success windows; re-run everything from start_date",
    )
    parser.add_argument(
        "--store-code", metavar="C", help="run only this store_master.store_code (exact match)"
    )
    parser.add_argument(
        "--settle-days",
        type=int,
        default=settings.settle_days,
        metavar="S",
        help="also re-fetch covered days not yet re-fetched S days after them "
        "(default ORDERS_SYNC_SETTLE_DAYS or 0 = off)",
    )
    parser.add_argument(
        "--stuck-after",
        type=int,
        default=2,
        metavar="R",
        help="a day that failed in R distinct runs (no success since) is stuck: its windows "
        "run after the store's others, still every run (default 2; 0 = never)",
    )
    parser.add_argument(
        "--max-days-behind",
        type=int,
        default=1,
        metavar="D",
        help="freshness check: a store more than D days behind after the run is stale, "
        "counted in the summary and named in alerts (default 1)",
    )
    parser.add_argument(
        "--time-budget",
        type=int,
        default=None,
        metavar="SECONDS",
        help="start no new window after SECONDS (windows in flight finish); the next run "
        "continues where this one stopped — a huge backfill spread over several runs",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (each window and why it runs); write nothing",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, run the profiler once, print the outcome; returns the exit status."""
    return run_main(lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    settings = get_settings()
    args = build_parser(settings).parse_args(argv)
    configure_logging(args.log_format)
    options = ProfilerOptions(
        env=args.env,
        sync_group=args.sync_group,
        window_days=args.window_days,
        overlap_days=args.overlap_days,
        max_workers=args.max_workers,
        force=args.force,
        store_code=args.store_code,
        settle_days=args.settle_days,
        dry_run=args.dry_run,
        stuck_after=args.stuck_after,
        max_days_behind=args.max_days_behind,
        time_budget_s=args.time_budget,
    )
    settings = command_settings()
    engine = get_engine(settings)
    if options.dry_run:
        check_connection(engine)
        today = settings.today()
        jobs = plan_run(engine, options, settings, today=today)
        print(f"Plan for today {today} ({settings.pipeline_timezone}):")
        print(describe_plan(jobs))
        return EXIT_OK
    with stop_on_signals((signal.SIGINT, signal.SIGTERM), announce=True) as stop_event:
        run: ProfilerRun = run_profiler(engine, options, settings, stop_event=stop_event)
    print(render_run_table(run), file=sys.stdout)
    sys.stdout.flush()
    if run.interrupted:
        return EXIT_FAILED
    return EXIT_OK if run_succeeded(run.outcome.overall_status) else EXIT_FAILED


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Windows still blocked on the network after an interrupt must not hold the exit.
    import os

    os._exit(status)
