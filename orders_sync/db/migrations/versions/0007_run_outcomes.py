"""orders_sync_run_outcomes: the stores of a run that did not sync, and why.

A run's windows are in ``orders_sync_log``; a store that never got to log a failed window —
its task crashed, its window was interrupted, the database stopped answering, a stop request
came first — would otherwise vanish from the run's account. ``close_run`` writes one row per
such job (and per failed, partial or skipped one), so the summary, the DAG's ``check`` and the
alert tell the same story.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE orders_sync_run_outcomes (
            run_id VARCHAR(64) NOT NULL
                REFERENCES pipeline_run_summaries(run_id) ON DELETE CASCADE,
            pipeline VARCHAR(64) NOT NULL,
            store_code VARCHAR(8) NOT NULL,
            outcome VARCHAR(32) NOT NULL,
            detail TEXT NULL,
            windows_not_run INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, pipeline, store_code)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE orders_sync_run_outcomes")
