"""The store lock (§D 4, "a store is locked so only one job runs for it at a time") when
the connection holding it dies while the job goes on.

The lock is session-level on a dedicated connection; everything else the job does uses
pooled connections that reconnect transparently (``pool_pre_ping``). If only the lock's
connection is lost (``idle_session_timeout``, a proxy or network cut, an operator's
``pg_terminate_backend``), PostgreSQL releases the lock at once, and another run can take
the store while the first one is still writing its windows.
"""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db import locks
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli, observe
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores

OPTIONS = ProfilerOptions(env="test", window_days=7, max_workers=1)


def _terminate_lock_holder(engine: sa.Engine, key: int) -> int:
    """``pg_terminate_backend`` of the session holding advisory lock ``key``."""
    with engine.connect() as conn:
        pids = conn.execute(
            sa.text(
                """
                SELECT pid FROM pg_locks
                WHERE locktype = 'advisory' AND granted
                  AND ((classid::bigint << 32) | objid::bigint) = :k
                """
            ),
            {"k": key},
        ).scalars()
        pids = list(pids)
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        conn.commit()
    return len(pids)


def test_a_job_whose_lock_connection_died_does_not_share_its_store(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", dt.date(2026, 1, 1))])
    sim.faults.set_latency(0.2)
    key = locks.store_lock_key("A001")
    first: list[ProfilerRun] = []
    worker = threading.Thread(
        target=lambda: first.append(run_profiler(engine, OPTIONS, settings, today=TODAY))
    )
    worker.start()
    try:
        cli.wait_until(lambda: bool(observe.log_entries(engine)), what="the first window")
        with engine.connect() as conn:
            assert locks.is_locked(conn, key)
        assert _terminate_lock_holder(engine, key) == 1

        second = run_profiler(engine, OPTIONS, settings, today=TODAY)
    finally:
        worker.join(timeout=60)

    entries = observe.log_entries(engine)
    assert second.outcome.overall_status in ("success", "failed")
    # the store's windows must still never overlap, whichever run wrote them
    assert observe.store_overlaps(entries) == {"A001": 1}
    # and no live window of the first run may be closed as "abandoned" by the second
    assert not [
        e
        for e in entries
        if e.run_id == first[0].outcome.run_id and (e.error_message or "").startswith("abandoned")
    ]
