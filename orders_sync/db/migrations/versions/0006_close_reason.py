"""orders_sync_log.close_reason: why the run lifecycle closed a window, as data.

A window the lifecycle closes instead of its source — its process died or its run ended while
it ran (``abandoned``), its run was stopped mid-window (``interrupted``) — is ``failed`` with a
reason here; a window that failed at the source has none. The stuck-day rule reads this column
instead of matching ``error_message`` prefixes, which stay for people. Old rows are filled from
those prefixes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE orders_sync_log ADD COLUMN close_reason VARCHAR(32) NULL")
    op.execute(
        """
        UPDATE orders_sync_log
        SET close_reason = split_part(error_message, ':', 1)
        WHERE status = 'failed'
          AND (error_message LIKE 'abandoned:%' OR error_message LIKE 'interrupted:%')
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE orders_sync_log DROP COLUMN close_reason")
