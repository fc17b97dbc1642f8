"""``pipelines``: resolve pipeline codes to ids."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from orders_sync.domain import PipelineRef
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import registry


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


def source_pipelines(conn: sa.Connection) -> dict[str, PipelineRef]:
    """Every source's pipeline, by the ``store_master.sync_group`` it syncs.

    Raises:
        ConfigurationError: a source's pipeline has no row (the schema was not migrated).
    """
    by_group = {source.sync_group: source.pipeline_code for source in registry.sources()}
    ids = resolve_pipeline_ids(conn, by_group.values())
    return {group: PipelineRef(code=code, id=ids[code]) for group, code in by_group.items()}
