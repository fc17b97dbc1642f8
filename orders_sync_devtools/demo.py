"""The README's main command (``make run``): set up, seed demo stores, run the profiler.

With zero configuration (``make run`` sets ``ORDERS_SYNC_SOURCES=simulator``) it uses the
embedded PostgreSQL and the bundled CRM simulator.
It migrates the schema, seeds a handful of TD and UC demo stores into an *empty*
``store_master`` (a real one is never touched), then runs the profiler twice: the first
run backfills every store from its start date, the second only re-runs the overlap day
and today — the profiler's steady state.
"""

from __future__ import annotations

import datetime as dt
import sys

from orders_sync.cli import EXIT_OK, command_settings, configure_logging, run_main
from orders_sync.config import SOURCES_SIMULATOR, Settings
from orders_sync.db.engine import check_connection, database_url, describe_url, get_engine
from orders_sync.db.migrate import upgrade
from orders_sync.db.repositories import stores
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.progress import render_run_table

# (code, name, group, cost center, months back of start_date)
DEMO_STORES = (
    ("A001", "TD Indiranagar", "TD", "CC10", 18),
    ("A002", "TD Koramangala", "TD", "CC10", 12),
    ("A003", "TD Whitefield", "TD", "CC11", 6),
    ("UC101", "UC Andheri", "UC", "CC20", 15),
    ("UC104", "UC Powai", "UC", "CC20", 9),
)


def demo_store_rows(today: dt.date) -> list[dict[str, object]]:
    """The demo stores with start dates 6 to 18 months before ``today``."""
    return [
        {
            "store_code": code,
            "store_name": name,
            "sync_group": group,
            "cost_center": cost_center,
            "start_date": today - dt.timedelta(days=round(months * 30.44)),
        }
        for code, name, group, cost_center, months in DEMO_STORES
    ]


def seed_demo_stores(settings: Settings) -> int:
    """Insert the demo stores if ``store_master`` is empty; returns how many were added."""
    with get_engine(settings).begin() as conn:
        if stores.count_stores(conn):
            return 0
        return stores.insert_stores(conn, demo_store_rows(settings.today()))


def main() -> int:
    """Set up and run; returns the exit status of the last profiler run."""
    return run_main(_main)


def _main() -> int:
    configure_logging("text")
    settings = command_settings()
    url = database_url(settings)
    engine = get_engine(settings)
    check_connection(engine)
    upgrade(url)
    print(f"schema ready on {describe_url(url)}")
    added = seed_demo_stores(settings)
    if added:
        print(f"seeded {added} demo stores into the empty store_master")
    if settings.sources == SOURCES_SIMULATOR:
        print("ORDERS_SYNC_SOURCES=simulator: syncing from the bundled CRM simulator")
    options = ProfilerOptions(env=settings.env)
    status = EXIT_OK
    for title in ("First run (backfill where needed)", "Second run (steady state)"):
        print(f"\n== {title}")
        run = run_profiler(engine, options, settings)
        print(render_run_table(run))
        status = EXIT_OK if run.outcome.overall_status == "success" else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
