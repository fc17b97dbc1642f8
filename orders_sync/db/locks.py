"""PostgreSQL advisory locks: one job per store at a time, across processes and hosts.

Locks are session-level and held on a dedicated connection for the whole job, so they
vanish with the connection if the process dies (kill -9, OOM, a lost worker): nothing is
ever left locked. A job's store lock and its run's shared liveness lock share one
connection (``with_shared``), so an open job costs one database session. Keys are derived
stably from names (BLAKE2b, not PostgreSQL's ``hashtext``, whose output may change between
major versions).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence

import psycopg
import sqlalchemy as sa

from orders_sync.config import get_settings
from orders_sync.db.engine import retry_when_disconnected

STORE_NAMESPACE = "orders_sync:store:"
RUN_NAMESPACE = "orders_sync:run:"

_HELD_BY_ME = sa.text(
    """
    SELECT EXISTS (
        SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
          AND ((classid::bigint << 32) | objid::bigint) = :k AND objsubid = 1
    )
    """
)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name``."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def store_lock_key(store_code: str) -> int:
    """The advisory lock key of a store (shared by every pipeline of that store)."""
    return lock_key(STORE_NAMESPACE + store_code)


def run_lock_key(run_id: str) -> int:
    """The advisory lock key that marks a run as alive while anyone holds it."""
    return lock_key(RUN_NAMESPACE + run_id)


class HeldLock:
    """An advisory lock taken (or not) on a connection of its own; truthy when held.

    ``with_shared`` keys are taken in shared mode on the same connection first, whatever
    becomes of ``key``, and released with it.
    """

    def __init__(
        self, engine: sa.Engine, key: int, *, shared: bool, with_shared: Sequence[int] = ()
    ) -> None:
        self._engine = engine
        self._key = key
        self._suffix = "_shared" if shared else ""
        self._with_shared = tuple(with_shared)
        self._conn: sa.Connection | None = None
        self.retaken = False
        self._database_wait_s = get_settings().database_wait_s
        self.acquired = self._try_waiting()

    def __bool__(self) -> bool:
        return self.acquired

    def _try(self) -> bool:
        self._conn = self._engine.connect()
        for key in self._with_shared:
            self._conn.execute(sa.text("SELECT pg_try_advisory_lock_shared(:k)"), {"k": key})
        acquired = bool(
            self._conn.execute(
                sa.text(f"SELECT pg_try_advisory_lock{self._suffix}(:k)"), {"k": self._key}
            ).scalar_one()
        )
        self._conn.commit()
        return acquired

    def _try_waiting(self) -> bool:
        """:meth:`_try`, waiting up to ``ORDERS_SYNC_DATABASE_WAIT`` for a database that went
        away.

        Raises:
            DatabaseLost: the database did not answer again in time.
        """
        return retry_when_disconnected(
            self._engine,
            self._try_or_discard,
            wait_s=self._database_wait_s,
            what="the lock could not be taken",
        )

    def _try_or_discard(self) -> bool:
        """:meth:`_try`; a connection that failed it is thrown away."""
        try:
            return self._try()
        except (sa.exc.SQLAlchemyError, psycopg.Error):
            self._discard()
            raise

    def verify(self) -> bool:
        """Whether the lock is still held; if its connection died, take it again if free.

        A lost connection (an operator's ``pg_terminate_backend``, a database restart, a
        network cut) releases the lock silently; checking before each unit of work keeps "one
        job per store". When the database does not answer, this waits for it up to
        ``ORDERS_SYNC_DATABASE_WAIT`` seconds. :attr:`retaken` tells the caller the lock was
        lost and taken again (someone else may have worked meanwhile).

        Raises:
            DatabaseLost: the database did not answer again in time.
        """
        if not self.acquired:
            return False
        try:
            assert self._conn is not None
            held = bool(self._conn.execute(_HELD_BY_ME, {"k": self._key}).scalar_one())
            self._conn.commit()
        except (sa.exc.SQLAlchemyError, psycopg.Error):
            held = False
        if not held:
            self.release()
            self.retaken = True
            self.acquired = self._try_waiting()
        return self.acquired

    def _discard(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sa.exc.SQLAlchemyError, psycopg.Error):
                self._conn.invalidate()
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        """Unlock and close the connection (errors of a dead connection are ignored)."""
        if self._conn is None:
            return
        with contextlib.suppress(sa.exc.SQLAlchemyError, psycopg.Error):
            if self.acquired:
                self._conn.execute(
                    sa.text(f"SELECT pg_advisory_unlock{self._suffix}(:k)"), {"k": self._key}
                )
            for key in self._with_shared:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock_shared(:k)"), {"k": key})
            self._conn.commit()
        with contextlib.suppress(sa.exc.SQLAlchemyError, psycopg.Error):
            self._conn.close()  # a dead connection is discarded by the pool's pre-ping
        self._conn = None


@contextlib.contextmanager
def advisory_lock(
    engine: sa.Engine, key: int, *, shared: bool = False, with_shared: Sequence[int] = ()
) -> Iterator[HeldLock]:
    """Try to take session-level advisory lock ``key`` on a connection of its own.

    Args:
        with_shared: keys taken in shared mode on the same connection for the block too.

    Yields:
        A :class:`HeldLock`, truthy while the lock is held and falsy when another session
        holds it (the caller must then not do the locked work).
    """
    lock = HeldLock(engine, key, shared=shared, with_shared=with_shared)
    try:
        yield lock
    finally:
        lock.release()


def is_locked(conn: sa.Connection, key: int) -> bool:
    """Whether any session of this database holds advisory lock ``key`` (shared or not)."""
    return bool(
        conn.execute(
            sa.text(
                """
                SELECT EXISTS (
                    SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND objsubid = 1
                      AND database = (SELECT oid FROM pg_database
                                      WHERE datname = current_database())
                      AND ((classid::bigint << 32) | objid::bigint) = :k
                )
                """
            ),
            {"k": key},
        ).scalar_one()
    )
