"""Read back what a run left in the database: log rows, intervals, summaries, row counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

WRITTEN_TABLES = (
    "pipeline_run_summaries",
    "orders_sync_log",
    "td_orders",
    "td_sales",
    "uc_orders",
)
"""The tables a profiler run writes (``table_counts`` checks every table of the schema)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LogEntry:
    """One ``orders_sync_log`` row, with its pipeline code."""

    id: int
    run_id: str
    pipeline: str
    store_code: str
    from_date: dt.date
    to_date: dt.date
    status: str
    error_message: str | None
    window_reason: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    attempt_no: int = 1
    close_reason: str | None = None

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """``(from_date, to_date)``."""
        return (self.from_date, self.to_date)


def log_entries(engine: sa.Engine, *, run_id: str | None = None) -> list[LogEntry]:
    """Every log row (of one run, if given), oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT l.id, l.run_id, p.code, l.store_code, l.from_date, l.to_date, l.status,
                       l.error_message, l.window_reason, l.created_at, l.updated_at,
                       l.attempt_no, l.close_reason
                FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
                WHERE CAST(:run_id AS TEXT) IS NULL OR l.run_id = :run_id
                ORDER BY l.id
                """
            ),
            {"run_id": run_id},
        ).all()
    return [LogEntry(*row) for row in rows]


def windows_by_store(entries: Iterable[LogEntry]) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """``{store_code: [(from, to), ...]}`` in log order."""
    result: dict[str, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for entry in entries:
        result[entry.store_code].append(entry.window)
    return dict(result)


def statuses_by_store(entries: Iterable[LogEntry]) -> dict[str, list[str]]:
    """``{store_code: [status, ...]}`` in log order."""
    result: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        result[entry.store_code].append(entry.status)
    return dict(result)


def max_overlap(intervals: Sequence[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals open at the same instant (an end and a start at one instant
    do not overlap)."""
    events: list[tuple[dt.datetime, int]] = []
    for start, end in intervals:
        events.append((start, 1))
        events.append((end, -1))
    events.sort(key=lambda event: (event[0], event[1]))  # ends (-1) before starts (+1)
    open_now = peak = 0
    for _, delta in events:
        open_now += delta
        peak = max(peak, open_now)
    return peak


def store_overlaps(entries: Iterable[LogEntry]) -> dict[str, int]:
    """``{store_code: most windows of that store open at once}`` from the log intervals."""
    per_store: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for entry in entries:
        per_store[entry.store_code].append((entry.created_at, entry.updated_at))
    return {store: max_overlap(intervals) for store, intervals in per_store.items()}


def running_rows(engine: sa.Engine, store_code: str | None = None) -> list[LogEntry]:
    """Log rows still ``running`` (of one store, if given)."""
    return [
        entry
        for entry in log_entries(engine)
        if entry.status == "running" and (store_code is None or entry.store_code == store_code)
    ]


def summary(engine: sa.Engine, run_id: str) -> Mapping[str, Any]:
    """The ``pipeline_run_summaries`` row of ``run_id`` as a dict."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM pipeline_run_summaries WHERE run_id = :r"), {"r": run_id}
        ).one()
    return dict(row._mapping)


def profiler_summaries(engine: sa.Engine) -> list[Mapping[str, Any]]:
    """Every profiler run summary, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT * FROM pipeline_run_summaries "
                "WHERE pipeline_name = 'orders_sync_run_profiler' ORDER BY started_at, run_id"
            )
        ).all()
    return [dict(row._mapping) for row in rows]


def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row count of every table of the ``public`` schema ("nothing written" means none of
    them changed), the tables a run writes included."""
    with engine.connect() as conn:
        tables = conn.execute(
            sa.text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        counts = {
            str(table): int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in tables
        }
    missing = set(WRITTEN_TABLES) - set(counts)
    assert not missing, f"tables missing from the schema: {sorted(missing)}"
    return counts


def summary_counts(text: str) -> dict[str, dict[str, int]]:
    """Parse ``summary_text``: ``{pipeline: {status: n}}`` plus ``{"": {extra: n}}``."""
    parsed: dict[str, dict[str, int]] = defaultdict(dict)
    for part in text.split(";"):
        part = part.strip()
        if ":" in part:
            pipeline, _, fields = part.partition(":")
            for name, value in re.findall(r"(\w+)=(\d+)", fields):
                parsed[pipeline.strip()][name] = int(value)
        else:
            for name, value in re.findall(r"(\w+)=(\d+)", part):
                parsed[""][name] = int(value)
    return dict(parsed)


def order_numbers(engine: sa.Engine, store_code: str) -> set[str]:
    """``td_orders.order_number`` of one store."""
    with engine.connect() as conn:
        return {
            str(n)
            for n in conn.execute(
                sa.text("SELECT order_number FROM td_orders WHERE store_code = :s"),
                {"s": store_code},
            ).scalars()
        }


def keys(engine: sa.Engine, table: str, key: str, store_code: str) -> set[str]:
    """The source keys stored in ``table`` for one store."""
    with engine.connect() as conn:
        return {
            str(n)
            for n in conn.execute(
                sa.text(f"SELECT {key} FROM {table} WHERE store_code = :s"), {"s": store_code}
            ).scalars()
        }
