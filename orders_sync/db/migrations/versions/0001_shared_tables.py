"""Shared tables: pipelines, pipeline_run_summaries, store_master, and our pipeline rows.

A real deployment already has these three tables (other systems of the business use
them), so each is created only where missing — "missing" meaning not found through the
connection's ``search_path`` (``to_regclass``), so a ``store_master`` in another schema of the
path (``search_path=orders_sync,crm``) is used and never shadowed by a new, empty copy — and
the ``pipelines`` rows of orders_sync are inserted, into the ``pipelines`` the path finds, only
where missing. ``downgrade()`` never drops a shared table; it removes only the ``pipelines``
rows that this revision inserted.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PIPELINE_CODES = ("td_orders_sync", "uc_orders_sync", "orders_sync_run_profiler")


SHARED_TABLES = {
    "pipelines": """
        CREATE TABLE pipelines (
            id BIGSERIAL PRIMARY KEY,
            code VARCHAR(64) NOT NULL UNIQUE,
            description TEXT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
    """,
    "pipeline_run_summaries": """
        CREATE TABLE pipeline_run_summaries (
            id BIGSERIAL PRIMARY KEY,
            run_id VARCHAR(64) NOT NULL UNIQUE,
            pipeline_name VARCHAR(64) NOT NULL,
            run_env VARCHAR(32) NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NULL,
            report_date DATE NOT NULL,
            overall_status VARCHAR(16) NOT NULL,
            summary_text TEXT NULL
        )
    """,
    "store_master": """
        CREATE TABLE store_master (
            id BIGSERIAL PRIMARY KEY,
            store_code VARCHAR(8) NOT NULL UNIQUE,
            store_name TEXT NULL,
            sync_group VARCHAR(8) NOT NULL,
            cost_center VARCHAR(8) NULL,
            start_date DATE NULL,
            is_active BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
    """,
}


def upgrade() -> None:
    bind = op.get_bind()
    for table, ddl in SHARED_TABLES.items():
        # Found anywhere on the search_path: the deployment's own table, used as it is.
        if bind.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
            op.execute(ddl)
    # Record which rows we add, so that downgrade() removes only those.
    op.execute(
        """
        CREATE TABLE orders_sync_owned_pipelines (code VARCHAR(64) PRIMARY KEY)
        """
    )
    # A deployment's own pipelines table may have only (id, code): insert nothing else.
    for code in PIPELINE_CODES:
        op.execute(
            f"""
            WITH inserted AS (
                INSERT INTO pipelines (code)
                SELECT '{code}'
                WHERE NOT EXISTS (SELECT 1 FROM pipelines WHERE code = '{code}')
                RETURNING code
            )
            INSERT INTO orders_sync_owned_pipelines (code) SELECT code FROM inserted
            """
        )


def downgrade() -> None:
    op.execute("DELETE FROM pipelines WHERE code IN (SELECT code FROM orders_sync_owned_pipelines)")
    op.execute("DROP TABLE orders_sync_owned_pipelines")
