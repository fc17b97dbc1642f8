"""orders_sync_run_batches: the plan of a DAG run, batch by batch, keyed by the run.

The DAG's mapped ``sync_store`` tasks run batches of store + pipeline plans; the plans live
here instead of in XCom, so at any number of stores every XCom value stays a few bytes per
batch. ``finish`` reads the planned jobs back; a plan is kept a week (it ties each store to
its mapped task, for the coverage page), then pruned.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders_sync_run_batches (
            run_id VARCHAR(64) NOT NULL
                REFERENCES pipeline_run_summaries(run_id) ON DELETE CASCADE,
            batch_index INTEGER NOT NULL,
            label TEXT NOT NULL,
            plans JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, batch_index)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE orders_sync_run_batches")
