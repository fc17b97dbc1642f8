"""``pipelines``: resolve pipeline codes to ids."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from orders_sync.domain import RUN_PROFILER, TD_ORDERS_SYNC, UC_ORDERS_SYNC
from orders_sync.exceptions import ConfigurationError

__all__ = ["RUN_PROFILER", "TD_ORDERS_SYNC", "UC_ORDERS_SYNC", "resolve_pipeline_ids"]


def resolve_pipeline_ids(conn: sa.Connection, codes: Iterable[str]) -> dict[str, int]:
    """``SELECT id FROM pipelines WHERE code = ...`` for each code, in one statement.

    Raises:
        ConfigurationError: a code has no row (the schema was not migrated).
    """
    wanted = sorted(set(codes))
    rows = conn.execute(
        sa.text("SELECT code, id FROM pipelines WHERE code = ANY(:codes)"), {"codes": wanted}
    ).all()
    found = {str(code): int(pid) for code, pid in rows}
    missing = [code for code in wanted if code not in found]
    if missing:
        raise ConfigurationError(
            f"pipelines has no row for {', '.join(missing)}; run `alembic upgrade head` first."
        )
    return found
