"""``store_master``: which stores a run covers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa


@dataclasses.dataclass(frozen=True, slots=True)
class StoreRow:
    """The columns of ``store_master`` that orders_sync uses."""

    store_code: str
    sync_group: str
    cost_center: str | None
    start_date: dt.date | None
    is_active: bool


_COLUMNS = "store_code, sync_group, cost_center, start_date, is_active"


def select_runnable_stores(
    conn: sa.Connection, *, sync_groups: Sequence[str], store_code: str | None = None
) -> list[StoreRow]:
    """Active stores with a start date and a code (requirement §D), filtered.

    Args:
        sync_groups: the ``store_master.sync_group`` values to select (``['TD']``).
        store_code: exact ``store_master.store_code``; ``None`` for every store.
    """
    rows = conn.execute(
        sa.text(
            f"""
            SELECT {_COLUMNS}
            FROM store_master
            WHERE is_active = true
              AND start_date IS NOT NULL
              AND store_code IS NOT NULL
              AND sync_group = ANY(:sync_groups)
              AND (CAST(:store_code AS TEXT) IS NULL OR store_code = :store_code)
            ORDER BY store_code
            """
        ),
        {"sync_groups": list(sync_groups), "store_code": store_code},
    ).all()
    return [StoreRow(*row) for row in rows]


def store_master_location(conn: sa.Connection) -> str:
    """Where ``store_master`` was found through the ``search_path``: ``schema.store_master`` in
    ``database`` on ``host:port`` — no credentials (for messages)."""
    schema, database, address, port = conn.execute(
        sa.text(
            """
            SELECT n.nspname, current_database(), COALESCE(host(inet_server_addr()), 'local'),
                   COALESCE(inet_server_port(), 5432)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = to_regclass('store_master')
            """
        )
    ).one()
    return f"{schema}.store_master of the database {database} on {address}:{port}"


def get_store(conn: sa.Connection, store_code: str) -> StoreRow | None:
    """The ``store_master`` row of ``store_code`` whatever its state, or ``None``."""
    row = conn.execute(
        sa.text(f"SELECT {_COLUMNS} FROM store_master WHERE store_code = :code"),
        {"code": store_code},
    ).one_or_none()
    return StoreRow(*row) if row else None


def explain_unrunnable(store: StoreRow | None, store_code: str, sync_groups: Sequence[str]) -> str:
    """One sentence saying why ``store_code`` cannot be run (for exit status 2)."""
    if store is None:
        return f"unknown store code {store_code!r}: no such row in store_master."
    if not store.is_active:
        return f"store {store_code!r} is inactive in store_master."
    if store.start_date is None:
        return f"store {store_code!r} has no start_date in store_master."
    if store.sync_group not in sync_groups:
        return (
            f"store {store_code!r} belongs to sync group {store.sync_group}, not "
            f"{' or '.join(sync_groups)}."
        )
    return f"store {store_code!r} cannot be run."


def insert_stores(conn: sa.Connection, stores: list[dict[str, object]]) -> int:
    """Insert stores that are missing (by code); returns how many were added (demo seeding)."""
    added = 0
    for store in stores:
        result = conn.execute(
            sa.text(
                """
                INSERT INTO store_master (store_code, store_name, sync_group, cost_center,
                                          start_date, is_active)
                VALUES (:store_code, :store_name, :sync_group, :cost_center, :start_date, true)
                ON CONFLICT (store_code) DO NOTHING
                """
            ),
            store,
        )
        added += result.rowcount
    return added


def count_stores(conn: sa.Connection) -> int:
    """How many rows ``store_master`` holds."""
    return int(conn.execute(sa.text("SELECT count(*) FROM store_master")).scalar_one())
