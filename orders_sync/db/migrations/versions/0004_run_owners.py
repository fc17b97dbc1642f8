"""orders_sync_run_owners: who owns each run summary, so abandoned runs can be closed.

``pipeline_run_summaries`` is shared with other systems, so ownership lives in a table of
our own. A ``process`` run is alive while its process holds the run's advisory lock; an
``airflow`` run is closed only by the next run of the same DAG (``max_active_runs=1``).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders_sync_run_owners (
            run_id VARCHAR(64) PRIMARY KEY
                REFERENCES pipeline_run_summaries(run_id) ON DELETE CASCADE,
            owner_kind VARCHAR(16) NOT NULL,
            owner TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT ck_orders_sync_run_owners_kind CHECK (owner_kind IN ('process', 'airflow'))
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE orders_sync_run_owners")
