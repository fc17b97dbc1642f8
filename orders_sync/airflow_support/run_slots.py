"""A run-scoped semaphore: at most ``max_workers`` mapped ``sync_store`` tasks work at once.

Airflow caps the mapped tasks of *all* runs together with the pool ``orders_sync`` (the
deployment's max-workers), but it has no per-run cap that a run's conf can set
(``max_active_tis_per_dagrun`` is fixed when the DAG is parsed). So each ``sync_store`` task
first takes one of ``max_workers`` slots of its run: slot *i* is the PostgreSQL advisory
lock ``lock_key("orders_sync:run_slot:<run_id>:<i>")``, tried with ``pg_try_advisory_lock``
on a connection of its own and held until the job ends. A task that finds every slot taken
polls until one frees. The locks are session-level, so a killed worker frees its slot
with its connection; they live in the orders database, so they hold across workers and
machines (LocalExecutor or Celery alike).

The cost: a task waiting for a slot holds its pool slot and an executor slot while it
sleeps. That only happens when a run asks for fewer workers than the pool has.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from orders_sync.db import locks

logger = logging.getLogger(__name__)

SLOT_NAMESPACE = "orders_sync:run_slot:"
DEFAULT_POLL_S = 0.5


def slot_lock_key(run_id: str, slot: int) -> int:
    """The advisory lock key of slot ``slot`` of run ``run_id``."""
    return locks.lock_key(f"{SLOT_NAMESPACE}{run_id}:{slot}")


@contextlib.contextmanager
def run_slot(
    engine: sa.Engine,
    run_id: str,
    slots: int,
    *,
    poll_s: float = DEFAULT_POLL_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[int]:
    """Hold one of the ``slots`` slots of ``run_id`` for the body; wait for a free one.

    Args:
        engine: the orders database (where the advisory locks live).
        run_id: the profiler run whose workers are capped.
        slots: the run's ``max_workers`` (at least 1).
        poll_s: mean wait between two tries while every slot is taken (jittered ±50%).
        sleep: the wait function (tests).

    Yields:
        The index of the slot held.
    """
    if slots < 1:
        raise ValueError(f"a run needs at least one slot, got {slots}")
    waited_since: float | None = None
    while True:
        for slot in range(slots):
            with locks.advisory_lock(engine, slot_lock_key(run_id, slot)) as acquired:
                if not acquired:
                    continue
                if waited_since is not None:
                    logger.info(
                        "run %s: got worker slot %d of %d after %.1f s",
                        run_id,
                        slot + 1,
                        slots,
                        time.monotonic() - waited_since,
                    )
                yield slot
                return
        if waited_since is None:
            waited_since = time.monotonic()
            logger.info(
                "run %s: all %d worker slot(s) busy (max_workers); waiting for one", run_id, slots
            )
        sleep(poll_s * random.uniform(0.5, 1.5))
