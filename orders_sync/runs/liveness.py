"""Which runs are alive, and closing the ones that are not.

Liveness, by owner kind (``orders_sync_run_owners``):

- ``process`` (the profiler CLI, the standalone pipeline CLIs): the owning process holds a
  session-level advisory lock on the run id for the run's whole life (:func:`hold_run`).
  PostgreSQL drops the lock with the connection when the process dies (kill -9, OOM), so
  "nobody holds the lock" means "nobody is running it". A slow run keeps its lock and is
  never touched. The lock is taken in shared mode: every job of the run (a thread, or an
  Airflow mapped task in another process) holds it too while it works on a store.
- ``airflow`` (the DAG): a DAG run spans many processes, so no single lock can mark it
  alive, and its tasks may wait for hours in a pool. The DAG has ``max_active_runs=1``:
  when a new run of the DAG starts, every earlier run of it has ended, so its start task
  closes earlier summaries of the same DAG still ``running`` (:func:`close_abandoned_runs`
  with ``airflow_owner_prefix``). A command-line run never closes an Airflow run.

Closing a run marks its summary ``failed`` with a text saying it was abandoned and what its
windows reached, and closes its windows still ``running`` store by store, under the store's
advisory lock (a store whose lock is held is left to its owner), with the close reason
``abandoned``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator

import sqlalchemy as sa

from orders_sync.db import locks
from orders_sync.db.repositories import run_summaries, sync_log
from orders_sync.domain import RUN_PROFILER, CloseReason, Status
from orders_sync.exceptions import OrdersSyncError
from orders_sync.runs.summary import summary_text
from orders_sync.sources import registry

logger = logging.getLogger(__name__)


def process_owner() -> str:
    """``host:pid`` of this process, recorded as the owner of the runs it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def hold_run(engine: sa.Engine, run_id: str) -> Iterator[None]:
    """Hold ``run_id``'s (shared) liveness lock for the duration of the block.

    Raises:
        OrdersSyncError: the lock could not be taken.
    """
    with locks.advisory_lock(engine, locks.run_lock_key(run_id), shared=True) as held:
        if not held:
            raise OrdersSyncError(f"could not take the liveness lock of run {run_id}.")
        yield


def is_run_alive(conn: sa.Connection, run_id: str) -> bool:
    """Whether some live session holds ``run_id``'s liveness lock."""
    return locks.is_locked(conn, locks.run_lock_key(run_id))


def close_run_windows(engine: sa.Engine, run_id: str, detail: str) -> int:
    """Close this run's windows still ``running`` as abandoned (``detail`` says why), store
    by store, under the store's lock.

    A store whose lock is held elsewhere is left alone (a live process may own the row).

    Returns:
        How many windows were closed.
    """
    with engine.connect() as conn:
        running = sync_log.running_rows(conn, run_id=run_id)
    closed = 0
    for store_code in sorted({row.store_code for row in running}):
        with locks.advisory_lock(engine, locks.store_lock_key(store_code)) as acquired:
            if not acquired:
                continue
            with engine.begin() as conn:
                closed += sync_log.close_rows(
                    conn,
                    [row for row in running if row.store_code == store_code],
                    CloseReason.ABANDONED,
                    detail,
                )
    return closed


def close_abandoned_runs(
    engine: sa.Engine,
    *,
    airflow_owner_prefix: str | None = None,
    current_owner: str | None = None,
) -> list[str]:
    """Close every abandoned run summary of orders_sync; returns their run ids.

    Args:
        airflow_owner_prefix: also close ``airflow`` runs whose owner starts with this
            (``"<dag_id>/"``); only the DAG's own start task may pass it.
        current_owner: the caller's own owner string, never closed.
    """
    with engine.connect() as conn:
        candidates = run_summaries.open_runs(conn, (RUN_PROFILER, *registry.pipeline_codes()))
    closed: list[str] = []
    for run in candidates:
        if run.owner == current_owner and current_owner is not None:
            continue
        if run.owner_kind == run_summaries.AIRFLOW_OWNER:
            if not airflow_owner_prefix or not (run.owner or "").startswith(airflow_owner_prefix):
                continue
            why = f"its Airflow run {run.owner} ended without finishing it"
            if _close(engine, run.run_id, why):
                closed.append(run.run_id)
            continue
        # process-owned (or of unknown owner): abandoned when nobody holds its lock. The
        # owner takes the lock before inserting the summary, so there is no gap to race.
        with engine.connect() as conn:
            if is_run_alive(conn, run.run_id):
                continue
        why = f"its process {run.owner or '(unknown)'} is gone"
        if _close(engine, run.run_id, why):
            closed.append(run.run_id)
    return closed


def _close(engine: sa.Engine, run_id: str, why: str) -> bool:
    with engine.connect() as conn:  # what the windows reached, before closing them
        reached = summary_text(sync_log.status_counts_for_run(conn, run_id))
    windows_closed = close_run_windows(
        engine, run_id, f"run {run_id} ended while this window was running"
    )
    with engine.begin() as conn:
        text = f"abandoned: {why}; windows reached: {reached}"
        done = run_summaries.close_abandoned(conn, run_id=run_id, summary_text=text)
    if done:
        logger.warning(
            "closed abandoned run %s (%s; %d running window(s) closed)",
            run_id,
            why,
            windows_closed,
            extra={"run_id": run_id, "status": Status.FAILED},
        )
    return done
