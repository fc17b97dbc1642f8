"""``td_orders``, ``td_sales``, ``uc_orders``: idempotent bulk upserts of source rows.

One call writes one batch (one source page) in the caller's transaction:

1. ``COPY`` the batch into a session-local staging table (``CREATE TEMP TABLE ... AS
   SELECT ... WITH NO DATA``, so its column types are the target's);
2. one ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE (target values) IS
   DISTINCT FROM (excluded values)``.

The ``SELECT`` leaves out staged rows whose key already holds exactly the same values, so an
unchanged re-fetch proposes nothing: no new tuple version, no row lock, no dirtied page, and
``last_synced_at`` / ``last_run_id`` keep saying when a sync last *changed* the row. The
``DO UPDATE ... WHERE`` repeats the test for rows that appear concurrently. A key that
occurs twice in one batch keeps its newest ``last_modified`` (``ON CONFLICT`` cannot touch a
row twice in one statement).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import psycopg
import sqlalchemy as sa

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine


@dataclasses.dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What one upsert did.

    Attributes:
        fetched: rows handed in (duplicates of a key included).
        inserted: keys that were new.
        updated: existing keys whose values changed.
    """

    fetched: int = 0
    inserted: int = 0
    updated: int = 0

    @property
    def unchanged(self) -> int:
        """Rows handed in that changed nothing."""
        return self.fetched - self.inserted - self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.fetched + other.fetched,
            self.inserted + other.inserted,
            self.updated + other.updated,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class DataTable:
    """How one data table is keyed and which source fields it stores.

    Attributes:
        name: the table.
        key: the source key besides ``store_code`` (the unique constraint is
            ``(store_code, key)``).
        fields: every source field, in the source row's attribute names, key included.
    """

    name: str
    key: str
    fields: tuple[str, ...]

    @property
    def staging(self) -> str:
        """Name of the session's temporary staging table."""
        return f"stage_{self.name}"

    @property
    def copy_columns(self) -> tuple[str, ...]:
        """Columns written by ``COPY``: ``store_code`` then every source field."""
        return ("store_code", *self.fields)

    @property
    def value_columns(self) -> tuple[str, ...]:
        """Columns an update may change (every source field but the key)."""
        return tuple(f for f in self.fields if f != self.key)


TD_ORDERS = DataTable(
    name="td_orders",
    key="order_number",
    fields=tuple(f.name for f in dataclasses.fields(TdOrder)),
)
TD_SALES = DataTable(
    name="td_sales",
    key="transaction_id",
    fields=tuple(f.name for f in dataclasses.fields(TdSale)),
)
UC_ORDERS = DataTable(
    name="uc_orders",
    key="invoice_no",
    fields=tuple(f.name for f in dataclasses.fields(UcGstLine)),
)
DATA_TABLES = (TD_ORDERS, TD_SALES, UC_ORDERS)


def _ensure_staging(cursor: psycopg.Cursor[Any], table: DataTable) -> None:
    # Created once per database session; ON COMMIT DELETE ROWS empties it at every commit.
    cursor.execute(
        f"""
        CREATE TEMP TABLE IF NOT EXISTS {table.staging} ON COMMIT DELETE ROWS AS
        SELECT {", ".join(table.copy_columns)} FROM {table.name} WITH NO DATA
        """
    )


def _upsert_sql(table: DataTable) -> str:
    key = ("store_code", table.key)
    values = table.value_columns
    columns = (*table.copy_columns, "last_run_id")
    target = ", ".join(f"t.{c}" for c in values)
    staged = ", ".join(f"s.{c}" for c in values)
    excluded = ", ".join(f"EXCLUDED.{c}" for c in values)
    current = ", ".join(f"{table.name}.{c}" for c in values)
    key_match = " AND ".join(f"t.{c} = s.{c}" for c in key)
    # The staging table is emptied by the same statement (DELETE ... RETURNING feeds the
    # INSERT), so a second batch of one transaction never sees the first.
    return f"""
        WITH staged AS (
            DELETE FROM {table.staging} RETURNING *
        ), latest AS (
            SELECT DISTINCT ON (store_code, {table.key}) *
            FROM staged
            ORDER BY store_code, {table.key}, last_modified DESC
        ), changed AS (
            INSERT INTO {table.name} ({", ".join(columns)})
            SELECT {", ".join(f"s.{c}" for c in table.copy_columns)}, %(run_id)s
            FROM latest s
            WHERE NOT EXISTS (
                SELECT 1 FROM {table.name} t
                WHERE {key_match} AND ({target}) IS NOT DISTINCT FROM ({staged})
            )
            ON CONFLICT ({", ".join(key)}) DO UPDATE SET
                {", ".join(f"{c} = EXCLUDED.{c}" for c in values)},
                last_synced_at = now(),
                last_run_id = EXCLUDED.last_run_id
            WHERE ({current}) IS DISTINCT FROM ({excluded})
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
        FROM changed
    """


_UPSERT_SQL = {table.name: _upsert_sql(table) for table in DATA_TABLES}


def _driver_connection(conn: sa.Connection) -> psycopg.Connection[Any]:
    raw = conn.connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError(f"orders_data needs a psycopg 3 connection, got {type(raw).__name__}")
    return raw


def stage_rows(conn: sa.Connection, table: DataTable, rows: Iterable[Sequence[Any]]) -> int:
    """``COPY`` rows (``table.copy_columns`` order) into the session's staging table.

    Returns:
        How many rows were staged.
    """
    staged = 0
    with _driver_connection(conn).cursor() as cursor:
        _ensure_staging(cursor, table)
        columns = ", ".join(table.copy_columns)
        with cursor.copy(f"COPY {table.staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                staged += 1
    return staged


def upsert_staged(conn: sa.Connection, table: DataTable, *, run_id: str) -> tuple[int, int]:
    """Merge the staging table into ``table``, emptying it, in one statement.

    Returns:
        ``(inserted, updated)``.
    """
    with _driver_connection(conn).cursor() as cursor:
        # prepare=False: a plan cached while the table was small (a sequential scan for the
        # anti-join) would be kept as it grows; a fresh plan per batch costs ~0.2 ms.
        cursor.execute(_UPSERT_SQL[table.name], {"run_id": run_id}, prepare=False)
        counts = cursor.fetchone()
    assert counts is not None  # an aggregate always returns one row
    return int(counts[0]), int(counts[1])


def upsert_rows(
    conn: sa.Connection,
    table: DataTable,
    *,
    store_code: str,
    rows: Sequence[Any],
    run_id: str,
) -> UpsertCounts:
    """Upsert source rows (dataclasses with ``table.fields`` attributes) of one store.

    Runs in the caller's transaction: commit it to make the batch visible, roll it back to
    leave no trace of it.

    Args:
        conn: a connection inside a transaction.
        table: ``TD_ORDERS``, ``TD_SALES`` or ``UC_ORDERS``.
        store_code: the store every row belongs to.
        rows: the batch, typically one source page.
        run_id: written to ``last_run_id`` of inserted and changed rows.
    """
    if not rows:
        return UpsertCounts()
    values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*table.fields)
    stage_rows(conn, table, ((store_code, *values(row)) for row in rows))
    inserted, updated = upsert_staged(conn, table, run_id=run_id)
    return UpsertCounts(fetched=len(rows), inserted=inserted, updated=updated)
