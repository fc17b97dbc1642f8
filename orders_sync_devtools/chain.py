"""A retail chain's ``store_master`` and ``orders_sync_log`` in the shape of a real one, for
the coverage page's browser test and benchmark (issue 23).

Per 1,000 stores (650 TD, 350 UC; the pattern repeats for larger chains):

- 5 never synced (started 401–1,001 days ago, no successful window);
- 38 failing every day for 2–59 days: covered up to the streak, then one failed window a
  day, each run's window one day longer than the last (``(x1)`` each, one streak in fact);
- 39 silently behind by 2–59 days: covered up to then, nothing logged since;
- 13 with one partial day three days ago, covered on both sides;
- 5 running today's window;
- the rest up to date.

``dense`` logs one window per day for every covered stretch (a year of daily runs: about
370,000 rows per 1,000 stores, as the issue measured); otherwise one window per stretch
(a few thousand rows: quick to seed in a test). Rows are written with ``COPY``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator

import sqlalchemy as sa

HISTORY_DAYS = 365
RUN_PREFIX = "chain-"
ERROR = "orders: SourceServerError: HTTP 500 on page 1"
PARTIAL_ERROR = "sales: SourceServerError: HTTP 502 on page 3"


@dataclasses.dataclass(frozen=True, slots=True)
class ChainStore:
    """One store of the chain and what its log says."""

    store_code: str
    sync_group: str
    start_date: dt.date
    kind: str  # never | failing | behind | partial | running | healthy
    days: int  # never: days since start; failing/behind: days behind; else 0


def chain_stores(count: int, today: dt.date) -> list[ChainStore]:
    """The chain's ``count`` stores, A… for TD and U… for UC."""
    stores = []
    for index in range(count):
        group = "TD" if index % 20 < 13 else "UC"
        code = f"{'A' if group == 'TD' else 'U'}{index:04d}"
        slot = index % 1000
        start = today - dt.timedelta(days=HISTORY_DAYS - 1)
        kind, days = "healthy", 0
        if slot < 5:
            kind, days = "never", 401 + slot * 150
            start = today - dt.timedelta(days=days - 1)
        elif slot < 43:
            kind, days = "failing", 2 + (slot - 5) * 57 // 37
        elif slot < 82:
            kind, days = "behind", 2 + (slot - 43) * 57 // 38
        elif slot < 95:
            kind, days = "partial", 4
        elif slot < 100:
            kind = "running"
        stores.append(ChainStore(code, group, start, kind, days))
    return stores


@dataclasses.dataclass(frozen=True, slots=True)
class _Row:
    store: str
    group: str
    first: dt.date
    last: dt.date
    status: str
    day: dt.date  # the run's day: its run id and created_at
    error: str | None = None


def _stretch(store: ChainStore, first: dt.date, last: dt.date, dense: bool) -> Iterator[_Row]:
    if first > last:
        return
    if not dense:
        yield _Row(store.store_code, store.sync_group, first, last, "success", last)
        return
    day = first
    while day <= last:
        yield _Row(store.store_code, store.sync_group, day, day, "success", day)
        day += dt.timedelta(days=1)


def _rows(store: ChainStore, today: dt.date, dense: bool) -> Iterator[_Row]:
    one = dt.timedelta(days=1)
    if store.kind == "never":
        return
    if store.kind in ("failing", "behind"):
        through = today - dt.timedelta(days=store.days)
        yield from _stretch(store, store.start_date, through, dense)
        if store.kind == "failing":
            for run_day in range(1, store.days + 1):
                day = through + dt.timedelta(days=run_day)
                yield _Row(store.store_code, store.sync_group, through + one, day,
                           "failed", day, ERROR)  # fmt: skip
        return
    if store.kind == "partial":
        hole = today - dt.timedelta(days=3)
        yield from _stretch(store, store.start_date, hole - one, dense)
        yield _Row(store.store_code, store.sync_group, hole, hole, "partial", hole, PARTIAL_ERROR)
        yield from _stretch(store, hole + one, today, dense)
        return
    if store.kind == "running":
        yield from _stretch(store, store.start_date, today - one, dense)
        yield _Row(store.store_code, store.sync_group, today, today, "running", today)
        return
    yield from _stretch(store, store.start_date, today, dense)


def seed_chain(engine: sa.Engine, count: int, today: dt.date, *, dense: bool = False) -> int:
    """Write the chain of ``count`` stores into an empty, migrated orders database.

    Returns:
        the number of ``orders_sync_log`` rows written.
    """
    stores = chain_stores(count, today)
    with engine.begin() as conn:
        pipelines = {
            str(group): int(pid)
            for group, pid in conn.execute(
                sa.text(
                    "SELECT CASE code WHEN 'td_orders_sync' THEN 'TD' ELSE 'UC' END, id "
                    "FROM pipelines WHERE code IN ('td_orders_sync', 'uc_orders_sync')"
                )
            )
        }
        conn.execute(
            sa.text(
                "INSERT INTO store_master (store_code, store_name, sync_group, cost_center, "
                "start_date, is_active) VALUES (:code, :name, :group, 'CC1', :start, true)"
            ),
            [
                {"code": s.store_code, "name": f"store {s.store_code}", "group": s.sync_group,
                 "start": s.start_date}
                for s in stores
            ],
        )  # fmt: skip
        first_day = today - dt.timedelta(days=HISTORY_DAYS + 1)
        conn.execute(
            sa.text(
                "INSERT INTO pipeline_run_summaries (run_id, pipeline_name, run_env, started_at, "
                "finished_at, report_date, overall_status) "
                "SELECT :prefix || d::date, 'orders_sync_run_profiler', 'chain', "
                "d + interval '3 hours', d + interval '4 hours', d::date, 'success' "
                "FROM generate_series(CAST(:first AS date), CAST(:today AS date), "
                "interval '1 day') AS d"
            ),
            {"prefix": RUN_PREFIX, "first": first_day, "today": today},
        )
        buffer = io.StringIO()
        written = 0
        for store in stores:
            for row in _rows(store, today, dense):
                at = f"{row.day.isoformat()} 03:00:00+00"
                error = row.error if row.error is not None else "\\N"
                buffer.write(
                    f"{pipelines[row.group]}\t{RUN_PREFIX}{max(row.day, first_day)}\tchain\t"
                    f"{row.store}\t{row.first}\t{row.last}\t{row.status}\t{at}\t{at}\t{error}\n"
                )
                written += 1
        raw = conn.connection.dbapi_connection
        assert raw is not None
        copy_sql = (
            "COPY orders_sync_log (pipeline_id, run_id, run_env, store_code, from_date, "
            "to_date, status, created_at, updated_at, error_message) FROM STDIN"
        )
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]
            copy.write(buffer.getvalue())
        conn.execute(sa.text("ANALYZE orders_sync_log"))
    return written
