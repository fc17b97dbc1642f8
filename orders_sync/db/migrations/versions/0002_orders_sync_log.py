"""orders_sync_log: the source of truth of what ran, exactly as the requirement's §A.

Adds, beyond the requirement's DDL, a trigger that keeps ``updated_at`` on every UPDATE
(also when the caller forgets), and nullable bookkeeping columns allowed by the interface
contract (``window_reason``, ``rows_*``, ``duration_ms``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders_sync_log (
            id BIGSERIAL PRIMARY KEY,
            pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
            run_id VARCHAR(64) NOT NULL REFERENCES pipeline_run_summaries(run_id),
            run_env VARCHAR(32) NOT NULL,
            cost_center VARCHAR(8),
            store_code VARCHAR(8) NOT NULL,
            from_date DATE NOT NULL,
            to_date DATE NOT NULL,
            orders_pulled_at TIMESTAMPTZ NULL,
            sales_pulled_at TIMESTAMPTZ NULL,
            status VARCHAR(16) NOT NULL,      -- running | partial | success | failed
            attempt_no INT NOT NULL DEFAULT 1,
            error_message TEXT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            window_reason VARCHAR(32) NULL,
            rows_fetched INT NULL,
            rows_inserted INT NULL,
            rows_updated INT NULL,
            duration_ms INT NULL
        )
        """
    )
    op.execute(
        """
        CREATE UNIQUE INDEX uq_orders_sync_log_window
        ON orders_sync_log (pipeline_id, store_code, from_date, to_date, run_id)
        """
    )
    op.execute(
        """
        CREATE INDEX ix_orders_sync_log_lookup
        ON orders_sync_log (pipeline_id, store_code, from_date, to_date, status)
        """
    )
    op.execute(
        "CREATE INDEX ix_orders_sync_log_store_recent "
        "ON orders_sync_log (store_code, created_at DESC)"
    )
    op.execute(
        "CREATE INDEX ix_orders_sync_log_pipeline_recent "
        "ON orders_sync_log (pipeline_id, created_at DESC)"
    )
    op.execute(
        """
        CREATE FUNCTION orders_sync_log_touch_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER trg_orders_sync_log_updated_at
        BEFORE UPDATE ON orders_sync_log
        FOR EACH ROW EXECUTE FUNCTION orders_sync_log_touch_updated_at()
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE orders_sync_log")
    op.execute("DROP FUNCTION orders_sync_log_touch_updated_at()")
