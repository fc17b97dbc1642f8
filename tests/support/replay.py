"""Replay harness: a month of daily profiler runs against the simulator, then a truth check.

Each simulated day ``D`` is one profiler run "at" ``D`` ``hour``:00 in the pipeline timezone:

1. the simulator's source clock is frozen at that instant, so the sources serve exactly what
   existed then (late-entered orders, later statuses, revised invoices appear on later days);
2. the profiler runs with ``today=D`` (:func:`orders_sync.run_profiler.execution.run_profiler`);
3. ``orders_sync_log.created_at`` of the run's rows is rewritten to that instant. The
   database stamps ``created_at`` with its real ``now()``, but whether a day is *settled*
   is computed from ``created_at``'s date in the pipeline timezone, so without the rewrite
   every replayed run would look as if it had started today. This is an honest replay of
   "this run started at D hour:00"; nothing else is touched.

At the end, :meth:`Replay.compare` reads every stored row of ``td_orders``, ``td_sales`` and
``uc_orders`` of the days older than a horizon and compares it, by key and on every source
field, with the simulator's truth at the final clock.

Used by ``tests/integration/convergence/`` and ``benchmarks/convergence.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import zoneinfo
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from orders_sync.config import Endpoint, Settings
from orders_sync.db.repositories import stores as stores_repo
from orders_sync.domain import WindowReason
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.sources.spec import DataTable
from orders_sync.sources.td import TD_ORDERS, TD_SALES
from orders_sync.sources.uc import UC_ORDERS
from orders_sync_devtools.simulator.server import SimulatorServer

TOKEN = "replay-token-not-secret"

_DATE_FIELD = {
    TD_ORDERS.name: "order_date",
    TD_SALES.name: "payment_date",
    UC_ORDERS.name: "invoice_date",
}


@dataclasses.dataclass(frozen=True)
class StoreSpec:
    """A store of the replay (``store_master`` row)."""

    store_code: str
    sync_group: str  # TD or UC
    start_date: dt.date
    cost_center: str | None = None

    def as_row(self) -> dict[str, object]:
        return {
            "store_code": self.store_code,
            "store_name": f"replay {self.store_code}",
            "sync_group": self.sync_group,
            "cost_center": self.cost_center,
            "start_date": self.start_date,
        }


def make_stores(
    td: int, uc: int, *, start_date: dt.date, prefix_td: str = "R", prefix_uc: str = "U"
) -> list[StoreSpec]:
    """``td`` TD stores and ``uc`` UC stores, all starting on ``start_date``."""
    return [
        StoreSpec(f"{prefix_td}{n:03d}", "TD", start_date, f"C{n:02d}") for n in range(1, td + 1)
    ] + [StoreSpec(f"{prefix_uc}{n:03d}", "UC", start_date, None) for n in range(1, uc + 1)]


def replay_settings(simulator: SimulatorServer, database_url: str, state_dir: Path) -> Settings:
    """Settings whose TD and UC APIs are ``simulator``; fast retries, Asia/Kolkata."""
    return Settings(
        database_url=database_url,
        pipeline_timezone="Asia/Kolkata",
        env="replay",
        endpoints={
            "TD": Endpoint(simulator.base_url, TOKEN),
            "UC": Endpoint(simulator.base_url, TOKEN),
        },
        http_max_attempts=2,
        http_backoff_base_s=0.0,
        state_dir=state_dir,
    )


@dataclasses.dataclass(frozen=True)
class WindowRun:
    """One window the run executed."""

    store_code: str
    pipeline: str
    from_date: dt.date
    to_date: dt.date
    status: str
    reasons: tuple[str, ...]
    rows_fetched: int

    @property
    def days(self) -> int:
        return (self.to_date - self.from_date).days + 1


@dataclasses.dataclass(frozen=True)
class DayRecord:
    """What the run of one simulated day did.

    Attributes:
        day: the simulated ``today``.
        started_at: the simulated start instant (``created_at`` of its log rows).
        run: the profiler's result.
        windows: every window that ran.
        requests: source HTTP requests the run made.
        days_fetched: window days, summed over stores.
        days_refetched: window days already covered by an earlier success of the store.
        wall_s: real time the run took.
    """

    day: dt.date
    started_at: dt.datetime
    run: ProfilerRun
    windows: tuple[WindowRun, ...]
    requests: int
    days_fetched: int
    days_refetched: int
    wall_s: float

    @property
    def status(self) -> str:
        return self.run.outcome.overall_status

    @property
    def rows_fetched(self) -> int:
        return sum(window.rows_fetched for window in self.windows)

    def windows_with(self, reason: WindowReason) -> list[WindowRun]:
        return [window for window in self.windows if str(reason) in window.reasons]


@dataclasses.dataclass(frozen=True)
class TableDiff:
    """Stored rows vs the source's truth, for one table, over the compared days."""

    table: str
    source_rows: int
    stored_rows: int
    missing: int  # in the source, not stored
    differing: int  # stored with some field unlike the source
    extra: int  # stored, not in the source

    @property
    def stale(self) -> int:
        return self.missing + self.differing + self.extra


@dataclasses.dataclass(frozen=True)
class StaleReport:
    """:meth:`Replay.compare`: every table over the days before ``before``."""

    before: dt.date
    since: dt.date | None
    tables: tuple[TableDiff, ...]
    examples: tuple[str, ...]

    @property
    def source_rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    @property
    def stale(self) -> int:
        return sum(t.stale for t in self.tables)

    @property
    def stale_pct(self) -> float:
        return 100.0 * self.stale / self.source_rows if self.source_rows else 0.0

    def describe(self) -> str:
        parts = [
            f"{t.table}: {t.stale}/{t.source_rows} stale "
            f"(missing={t.missing} differing={t.differing} extra={t.extra})"
            for t in self.tables
        ]
        last = self.before - dt.timedelta(days=1)
        span = f"days {self.since}..{last}" if self.since else f"days up to {last}"
        return f"{span}: " + "; ".join(parts)


class Replay:
    """Daily profiler runs over simulated days, against one database and one simulator.

    Args:
        engine: the orders database (migrated).
        simulator: the running simulator whose clock the replay drives.
        settings: settings pointing at ``simulator`` (see :func:`replay_settings`).
        stores: the stores; inserted into ``store_master`` by :meth:`seed`.
        options: the profiler's options (K, S, N, workers).
        hour: local hour of the daily run in the pipeline timezone.
    """

    def __init__(
        self,
        engine: sa.Engine,
        simulator: SimulatorServer,
        settings: Settings,
        stores: Sequence[StoreSpec],
        options: ProfilerOptions,
        *,
        hour: int = 21,
    ) -> None:
        self.engine = engine
        self.simulator = simulator
        self.settings = settings
        self.stores = list(stores)
        self.options = options
        self.hour = hour
        self.zone = zoneinfo.ZoneInfo(settings.pipeline_timezone)
        self.records: list[DayRecord] = []
        self._covered: dict[tuple[str, str], set[dt.date]] = {}

    def seed(self) -> None:
        """Insert the stores into ``store_master``."""
        with self.engine.begin() as conn:
            stores_repo.insert_stores(conn, [store.as_row() for store in self.stores])

    def start_instant(self, day: dt.date) -> dt.datetime:
        """``day`` at ``hour``:00 in the pipeline timezone (aware)."""
        return dt.datetime.combine(day, dt.time(self.hour), tzinfo=self.zone)

    def run_day(self, day: dt.date) -> DayRecord:
        """One profiler run "at" ``day`` ``hour``:00; returns what it did."""
        instant = self.start_instant(day)
        self.simulator.set_clock(instant)
        before = self.simulator.requests_total
        started = time.monotonic()
        run = run_profiler(self.engine, self.options, self.settings, today=day)
        wall = time.monotonic() - started
        requests = self.simulator.requests_total - before
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE orders_sync_log SET created_at = :at WHERE run_id = :run_id"),
                {"at": instant, "run_id": run.outcome.run_id},
            )
        windows = tuple(
            WindowRun(
                store_code=report.store_code,
                pipeline=report.pipeline,
                from_date=report.from_date,
                to_date=report.to_date,
                status=report.status,
                reasons=report.reasons,
                rows_fetched=report.rows_fetched,
            )
            for result in run.results
            for report in result.windows
        )
        fetched = refetched = 0
        for window in windows:
            covered = self._covered.setdefault((window.store_code, window.pipeline), set())
            days = {window.from_date + dt.timedelta(n) for n in range(window.days)}
            fetched += len(days)
            refetched += len(days & covered)
        for window in windows:
            if window.status == "success":
                self._covered[(window.store_code, window.pipeline)].update(
                    window.from_date + dt.timedelta(n) for n in range(window.days)
                )
        record = DayRecord(day, instant, run, windows, requests, fetched, refetched, wall)
        self.records.append(record)
        return record

    def run_days(
        self,
        first_day: dt.date,
        days: int,
        on_day: Callable[[DayRecord], None] | None = None,
    ) -> list[DayRecord]:
        """Run ``days`` consecutive days from ``first_day``."""
        done: list[DayRecord] = []
        for n in range(days):
            record = self.run_day(first_day + dt.timedelta(days=n))
            done.append(record)
            if on_day is not None:
                on_day(record)
        return done

    # ------------------------------------------------------------------ truth check

    def compare(
        self, before: dt.date, *, since: dt.date | None = None, max_examples: int = 5
    ) -> StaleReport:
        """Stored rows vs the truth at the simulator's current clock, days ``< before``.

        With ``since``, only days ``since <= day < before`` are compared.

        A row's day is its ``order_date`` / ``payment_date`` / ``invoice_date``. Every
        source field is compared; ``Numeric`` and ``timestamptz`` values compare by value.
        """
        diffs: list[TableDiff] = []
        examples: list[str] = []
        last = before - dt.timedelta(days=1)
        for table, group in ((TD_ORDERS, "TD"), (TD_SALES, "TD"), (UC_ORDERS, "UC")):
            source_n = stored_n = missing = differing = extra = 0
            for store in self.stores:
                first = max(store.start_date, since) if since else store.start_date
                if store.sync_group != group or last < first:
                    continue
                truth = {
                    getattr(row, table.key): _as_tuple(row, table)
                    for row in self._truth(table, store.store_code, first, last)
                }
                stored = self._stored(table, store.store_code, first, before)
                source_n += len(truth)
                stored_n += len(stored)
                for key, values in truth.items():
                    if key not in stored:
                        missing += 1
                        _example(examples, max_examples, f"{table.name} {key}: missing")
                    elif stored[key] != values:
                        differing += 1
                        _example(
                            examples,
                            max_examples,
                            f"{table.name} {key}: stored {_delta(table, stored[key], values)}",
                        )
                extra += len(stored.keys() - truth.keys())
            diffs.append(TableDiff(table.name, source_n, stored_n, missing, differing, extra))
        return StaleReport(before, since, tuple(diffs), tuple(examples))

    def _truth(self, table: DataTable, store_code: str, first: dt.date, last: dt.date) -> list[Any]:
        if table is TD_ORDERS:
            return self.simulator.truth_td_orders(store_code, first, last)
        if table is TD_SALES:
            return self.simulator.truth_td_sales(store_code, first, last)
        return self.simulator.truth_uc_gst(store_code, first, last)

    def _stored(
        self, table: DataTable, store_code: str, first: dt.date, before: dt.date
    ) -> dict[Any, tuple[Any, ...]]:
        date_field = _DATE_FIELD[table.name]
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT {', '.join(table.fields)} FROM {table.name} WHERE store_code = "
                    f":store AND {date_field} >= :first AND {date_field} < :before"
                ),
                {"store": store_code, "first": first, "before": before},
            ).all()
        key_index = table.fields.index(table.key)
        return {row[key_index]: tuple(row) for row in rows}


def _as_tuple(row: Any, table: DataTable) -> tuple[Any, ...]:
    return tuple(getattr(row, field) for field in table.fields)


def _delta(table: DataTable, stored: tuple[Any, ...], truth: tuple[Any, ...]) -> str:
    return ", ".join(
        f"{field}={a!r} (source {b!r})"
        for field, a, b in zip(table.fields, stored, truth, strict=True)
        if a != b
    )


def _example(examples: list[str], limit: int, text: str) -> None:
    if len(examples) < limit:
        examples.append(text)


def steady_state(records: Sequence[DayRecord], last: int = 10) -> dict[str, float]:
    """Averages per run over the last ``last`` records: requests, days, rows, wall time."""
    tail = list(records)[-last:]
    n = len(tail) or 1
    return {
        "requests": sum(r.requests for r in tail) / n,
        "windows": sum(len(r.windows) for r in tail) / n,
        "days_fetched": sum(r.days_fetched for r in tail) / n,
        "days_refetched": sum(r.days_refetched for r in tail) / n,
        "rows_fetched": sum(r.rows_fetched for r in tail) / n,
        "wall_s": sum(r.wall_s for r in tail) / n,
    }
