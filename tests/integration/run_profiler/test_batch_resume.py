"""A DAG batch executed again in the same run (an Airflow retry, a scheduler that reset it, an
operator's *Clear*) resumes from the log: finished plans are not run again, the window that was
in flight is retried on its own row, and nothing crashes on the run's unique window key."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from orders_sync.airflow_support.batch_runner import run_batch
from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.db.repositories.run_summaries import AIRFLOW_OWNER
from orders_sync.run_profiler.load_plan import plan_run
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.runs import lifecycle
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores

RUN_ID = "af-resume-test"
OPTIONS = ProfilerOptions(env="test", window_days=7, max_workers=2)


def _log(engine: sa.Engine) -> list[tuple[str, dt.date, str, int]]:
    with engine.connect() as conn:
        return [
            (str(store), first, str(status), int(attempt))
            for store, first, status, attempt in conn.execute(
                sa.text(
                    "SELECT store_code, from_date, status, attempt_no FROM orders_sync_log "
                    "WHERE run_id = :r ORDER BY store_code, from_date"
                ),
                {"r": RUN_ID},
            )
        ]


def _keys(engine: sa.Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [
            (str(s), str(n))
            for s, n in conn.execute(
                sa.text("SELECT store_code, order_number FROM td_orders ORDER BY 1, 2")
            )
        ]


def test_a_batch_run_again_resumes_from_the_log(settings: Settings, sim: SimulatorServer) -> None:
    engine = get_engine(settings)
    seed_stores(
        engine,
        [Store("A001", "TD", TODAY - dt.timedelta(days=20)), Store("A002", "TD", TODAY)],
    )
    lifecycle.open_run(
        engine,
        run_id=RUN_ID,
        pipeline_name="orders_sync_run_profiler",
        run_env="test",
        report_date=TODAY,
        owner_kind=AIRFLOW_OWNER,
        owner="orders_sync_run_profiler/manual__1",
    )
    jobs = plan_run(engine, OPTIONS, settings, today=TODAY)
    first = run_batch(engine, jobs, label="all", run_id=RUN_ID, options=OPTIONS)
    assert [r.status for r in first] == ["success", "success"]
    done = _log(engine)
    assert [status for *_, status, _ in done] == ["success"] * 4
    keys = _keys(engine)

    # The same batch again (a cleared task): nothing runs twice, the results are the same.
    again = run_batch(engine, jobs, label="all", run_id=RUN_ID, options=OPTIONS)
    assert [(r.store_code, r.status, len(r.windows)) for r in again] == [
        (r.store_code, r.status, len(r.windows)) for r in first
    ]
    assert _log(engine) == done

    # A worker died mid-way through A001: its second window was in flight, the third never ran.
    with engine.begin() as conn:
        second = done[1][1]
        conn.execute(
            sa.text(
                "UPDATE orders_sync_log SET status = 'running' "
                "WHERE run_id = :r AND store_code = 'A001' AND from_date = :d"
            ),
            {"r": RUN_ID, "d": second},
        )
        conn.execute(
            sa.text(
                "DELETE FROM orders_sync_log "
                "WHERE run_id = :r AND store_code = 'A001' AND from_date > :d"
            ),
            {"r": RUN_ID, "d": second},
        )
    retried = run_batch(engine, jobs, label="all", run_id=RUN_ID, options=OPTIONS)
    assert [(r.store_code, r.status, len(r.windows)) for r in retried] == [
        ("A001", "success", 3),
        ("A002", "success", 1),
    ]
    assert _log(engine) == [
        (store, first_day, "success", 2 if first_day == second and store == "A001" else 1)
        for store, first_day, _, _ in done
    ]
    assert _keys(engine) == keys  # every key once: the upserts are idempotent
