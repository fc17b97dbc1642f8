"""Read the status of the stores a run selects: the stores, then their coverage (set-based)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from orders_sync.db.repositories.coverage import load_coverage
from orders_sync.db.repositories.pipelines import source_pipelines
from orders_sync.run_profiler.load_plan import select_stores
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.status.coverage import StoreStatus, store_statuses


def read_statuses(
    conn: sa.Connection,
    *,
    today: dt.date,
    sync_group: str = "ALL",
    store_code: str | None = None,
    stuck_after: int = 2,
) -> list[StoreStatus]:
    """The status of every store the profiler would select with these filters.

    Raises:
        UsageError: ``store_code`` names no runnable store of the group.
    """
    selection = ProfilerOptions(env="status", sync_group=sync_group, store_code=store_code)
    stores = select_stores(conn, selection, require_any=False)
    pipelines = source_pipelines(conn)
    coverage = load_coverage(
        conn,
        pipeline_ids=sorted(p.id for p in pipelines.values()),
        store_codes=[s.store_code for s in stores],
        stuck_after=stuck_after,
    )
    return store_statuses(stores, pipelines, coverage, today)


def stale(statuses: list[StoreStatus], max_days_behind: int) -> list[StoreStatus]:
    """The stores whose ``days_behind`` exceeds ``max_days_behind`` (the freshness check)."""
    return [s for s in statuses if s.days_behind > max_days_behind]
