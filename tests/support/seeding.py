"""Seed ``store_master`` and ``orders_sync_log`` with exactly the rows a test needs."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from orders_sync.db.repositories import run_summaries

SEED_RUN_ID = "seeded-history"
"""``run_id`` of every log row a test seeds (one ``pipeline_run_summaries`` row)."""

TD_ORDERS_SYNC = "td_orders_sync"
UC_ORDERS_SYNC = "uc_orders_sync"
"""The pipeline codes of interfaces.md."""
PIPELINE_OF_GROUP = {"TD": TD_ORDERS_SYNC, "UC": UC_ORDERS_SYNC}


@dataclasses.dataclass(frozen=True, slots=True)
class Store:
    """A ``store_master`` row; ``start_date=None`` and ``is_active=False`` are allowed."""

    store_code: str
    sync_group: str = "TD"
    start_date: dt.date | None = None
    is_active: bool = True
    cost_center: str | None = "CC1"

    @property
    def pipeline(self) -> str:
        """The pipeline code of the store's sync group."""
        return PIPELINE_OF_GROUP[self.sync_group]


def seed_stores(engine: sa.Engine, stores: Iterable[Store]) -> None:
    """Insert ``stores`` into ``store_master`` (naming only the contract's columns)."""
    rows = [
        {**dataclasses.asdict(store), "store_name": f"store {store.store_code}"} for store in stores
    ]
    if not rows:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO store_master
                    (store_code, store_name, sync_group, cost_center, start_date, is_active)
                VALUES (:store_code, :store_name, :sync_group, :cost_center, :start_date,
                        :is_active)
                """
            ),
            rows,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class LogRow:
    """An ``orders_sync_log`` row to seed (a past run's window)."""

    store_code: str
    from_date: dt.date
    to_date: dt.date
    status: str = "success"
    pipeline: str = TD_ORDERS_SYNC
    created_at: dt.datetime | None = None
    error: str | None = None
    close_reason: str | None = None


def pipeline_ids(engine: sa.Engine) -> dict[str, int]:
    """``{code: id}`` of the ``pipelines`` table."""
    with engine.connect() as conn:
        return {str(c): int(i) for c, i in conn.execute(sa.text("SELECT code, id FROM pipelines"))}


def seed_log(engine: sa.Engine, rows: Sequence[LogRow], *, run_id: str = SEED_RUN_ID) -> None:
    """Insert past windows into ``orders_sync_log`` under one (finished) seeded run."""
    if not rows:
        return
    ids = pipeline_ids(engine)
    with engine.begin() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pipeline_run_summaries WHERE run_id = :r"), {"r": run_id}
        ).first()
        if exists is None:
            run_summaries.start_run(
                conn,
                run_id=run_id,
                pipeline_name="seeded",
                run_env="test",
                report_date=dt.date(2026, 1, 1),
            )
            run_summaries.finish_run(
                conn, run_id=run_id, overall_status="success", summary_text="seeded"
            )
        conn.execute(
            sa.text(
                """
                INSERT INTO orders_sync_log
                    (pipeline_id, run_id, run_env, store_code, from_date, to_date, status,
                     created_at, error_message, close_reason)
                VALUES (:pipeline_id, :run_id, 'test', :store_code, :from_date, :to_date,
                        :status, COALESCE(CAST(:created_at AS TIMESTAMPTZ), now()), :error,
                        :close_reason)
                """
            ),
            [
                {
                    "pipeline_id": ids[row.pipeline],
                    "run_id": run_id,
                    "store_code": row.store_code,
                    "from_date": row.from_date,
                    "to_date": row.to_date,
                    "status": row.status,
                    "created_at": row.created_at,
                    "error": row.error,
                    "close_reason": row.close_reason,
                }
                for row in rows
            ],
        )


def daily_chunks(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """``first..last`` cut into consecutive ranges of ``days`` days (the last may be shorter)."""
    chunks: list[tuple[dt.date, dt.date]] = []
    start = first
    while start <= last:
        end = min(start + dt.timedelta(days=days - 1), last)
        chunks.append((start, end))
        start = end + dt.timedelta(days=1)
    return chunks
