"""A store made one run's for a while: :func:`claim_store`.

Work on a store goes through a claim: the store's exclusive advisory lock, the run's shared
liveness lock (:mod:`orders_sync.runs.liveness`), and the store's ``running`` rows sorted
into abandoned ones (closed) and ones of a live run (the store is busy: a job whose lock
connection died may still be writing).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator

import sqlalchemy as sa

from orders_sync.config import get_settings
from orders_sync.db import locks
from orders_sync.db.engine import retry_when_disconnected
from orders_sync.db.repositories import sync_log
from orders_sync.domain import CloseReason
from orders_sync.runs.liveness import is_run_alive

SORT_ATTEMPTS = 3
"""How often a store's running rows are sorted when the database drops the connection."""

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class StoreClaim:
    """The outcome of :func:`claim_store`.

    Attributes:
        acquired: the store is ours for the block.
        busy_with: when not acquired, the run holding the store (``None``: its lock).
        closed: abandoned ``running`` rows closed before starting.
        lock: the store lock, for :meth:`verify` before each window.
        engine / store_code / run_id: what the claim is of, for :meth:`verify`.
    """

    acquired: bool
    busy_with: str | None = None
    closed: int = 0
    lock: locks.HeldLock | None = None
    engine: sa.Engine | None = None
    store_code: str = ""
    run_id: str = ""

    def verify(self) -> bool:
        """Whether the store is still ours.

        The lock's connection may have died (a database restart, a network cut): the lock is
        then taken again (:meth:`orders_sync.db.locks.HeldLock.verify`, waiting for the
        database up to ``ORDERS_SYNC_DATABASE_WAIT``), and the store is ours again only if
        no other live run started writing it meanwhile.

        Raises:
            DatabaseLost: the database did not answer again in time.
        """
        if not (self.acquired and self.lock is not None and self.engine is not None):
            return False
        if not self.lock.verify():
            return False
        if self.lock.retaken:
            self.lock.retaken = False
            with self.engine.connect() as conn:
                running = sync_log.running_rows(conn, store_code=self.store_code)
                if _live_runs(conn, running, self.run_id):
                    return False
        return True


def _live_runs(conn: sa.Connection, running: list[sync_log.RunningRow], run_id: str) -> list[str]:
    """The other runs, still alive, that ``running`` rows belong to."""
    return sorted(
        {row.run_id for row in running if row.run_id != run_id and is_run_alive(conn, row.run_id)}
    )


def _sort_running_rows(
    engine: sa.Engine, store_lock: locks.HeldLock, store_code: str, run_id: str
) -> tuple[str | None, int] | None:
    """Under the store's lock, close the ``running`` rows nobody writes any more, or find the
    live run that still does: ``(busy_with, closed)``. A database that drops the connection
    meanwhile is waited for (``ORDERS_SYNC_DATABASE_WAIT``), the lock checked — taken again —
    and the rows sorted again; ``None`` when another run took the lock in between.

    Raises:
        DatabaseLost: the database did not answer again in time.
    """
    wait_s = get_settings().database_wait_s
    retrying = False

    def sort_once() -> tuple[str | None, int] | None:
        nonlocal retrying
        if retrying and not store_lock.verify():  # the lock died with the connection
            return None
        retrying = True
        with engine.begin() as conn:
            running = sync_log.running_rows(conn, store_code=store_code)
            live = _live_runs(conn, running, run_id)
            if live:
                return live[0], 0
            return None, sync_log.close_rows(
                conn,
                running,
                CloseReason.ABANDONED,
                f"the process running this window died; closed by run {run_id}",
            )

    def say_waiting(exc: BaseException) -> None:
        logger.warning(
            "store %s: the orders database stopped answering while its running windows "
            "were sorted; waiting up to %.0f s",
            store_code,
            wait_s,
            extra={"run_id": run_id, "store_code": store_code},
        )

    return retry_when_disconnected(
        engine,
        sort_once,
        wait_s=wait_s,
        what=f"store {store_code} could not be claimed",
        attempts=SORT_ATTEMPTS,
        on_wait=say_waiting,
    )


@contextlib.contextmanager
def claim_store(engine: sa.Engine, store_code: str, run_id: str) -> Iterator[StoreClaim]:
    """Make ``store_code`` this run's for the block, or say who has it.

    Under the store's advisory lock, its ``running`` rows are sorted: rows of dead runs
    (nobody holds their liveness lock) and earlier rows of this very run (a previous
    attempt of this job died) are closed as ``abandoned``; a row of another live run means
    that run is still writing although its lock connection died, so the store is busy.
    """
    with locks.advisory_lock(
        engine, locks.store_lock_key(store_code), with_shared=(locks.run_lock_key(run_id),)
    ) as store_lock:
        if not store_lock:
            yield StoreClaim(acquired=False)
            return
        sorted_rows = _sort_running_rows(engine, store_lock, store_code, run_id)
        if sorted_rows is None:  # the database dropped the lock and another run took it
            yield StoreClaim(acquired=False)
            return
        busy_with, closed = sorted_rows
        if busy_with is not None:
            yield StoreClaim(acquired=False, busy_with=busy_with)
            return
        if closed:
            logger.warning(
                "store %s: closed %d abandoned running window(s)",
                store_code,
                closed,
                extra={"run_id": run_id, "store_code": store_code},
            )
        yield StoreClaim(
            acquired=True,
            closed=closed,
            lock=store_lock,
            engine=engine,
            store_code=store_code,
            run_id=run_id,
        )
