"""PostgreSQL advisory locks: one job per store at a time, across processes and hosts.

Locks are session-level and held on a dedicated connection for the whole job, so they
vanish with the connection if the process dies (kill -9, OOM, a lost worker): nothing is
ever left locked. Keys are derived stably from names (BLAKE2b, not PostgreSQL's
``hashtext``, whose output may change between major versions).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import sqlalchemy as sa

STORE_NAMESPACE = "orders_sync:store:"
RUN_NAMESPACE = "orders_sync:run:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def store_lock_key(store_code: str) -> int:
    """The advisory lock key of a store (shared by every pipeline of that store)."""
    return lock_key(STORE_NAMESPACE + store_code)


def run_lock_key(run_id: str) -> int:
    """The advisory lock key that marks a run as alive while its owner holds it."""
    return lock_key(RUN_NAMESPACE + run_id)


@contextlib.contextmanager
def advisory_lock(engine: sa.Engine, key: int) -> Iterator[bool]:
    """Try to take session-level advisory lock ``key`` on a connection of its own.

    Yields:
        ``True`` while the lock is held; ``False`` when another session holds it (the
        caller must then not do the locked work).
    """
    conn = engine.connect()
    try:
        acquired = bool(
            conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        )
        conn.commit()
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(sa.exc.DBAPIError):
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
    finally:
        with contextlib.suppress(sa.exc.DBAPIError):
            conn.close()


def is_locked(conn: sa.Connection, key: int) -> bool:
    """Whether any session currently holds advisory lock ``key`` (no waiting, no taking)."""
    return bool(
        conn.execute(
            sa.text(
                """
                SELECT EXISTS (
                    SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted
                      AND ((classid::bigint << 32) | objid::bigint) = :k
                )
                """
            ),
            {"k": key},
        ).scalar_one()
    )
