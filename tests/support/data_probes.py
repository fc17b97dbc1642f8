"""Read-only probes of the data tables and the log for tests and benchmarks (not production)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from orders_sync.sources.spec import DataTable


def count_rows(conn: sa.Connection, table: DataTable, store_code: str | None = None) -> int:
    """Rows of ``table`` (of one store, if given)."""
    return int(
        conn.execute(
            sa.text(
                f"SELECT count(*) FROM {table.name} "
                "WHERE CAST(:store_code AS TEXT) IS NULL OR store_code = :store_code"
            ),
            {"store_code": store_code},
        ).scalar_one()
    )


def row_versions(conn: sa.Connection, table: DataTable) -> dict[tuple[str, str], str]:
    """``{(store_code, key): xmin}`` of every row: a changed ``xmin`` is a new row version."""
    rows = conn.execute(
        sa.text(f"SELECT store_code, {table.key}, xmin::text FROM {table.name}")
    ).all()
    return {(str(store), str(key)): str(xmin) for store, key, xmin in rows}


def rows_for_run(conn: sa.Connection, run_id: str) -> list[Mapping[str, object]]:
    """Every log row of ``run_id``, oldest first."""
    return [
        dict(row._mapping)
        for row in conn.execute(
            sa.text(
                """
                SELECT l.*, p.code AS pipeline_code
                FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
                WHERE l.run_id = :run_id ORDER BY l.id
                """
            ),
            {"run_id": run_id},
        )
    ]
