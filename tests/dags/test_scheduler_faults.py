"""Faults under a real scheduler (issue "The DAG survives a real deployment's restarts"): a
finished ``sync_store`` cleared and run again, and the orders database restarted under a DAG
run. Each ends with the run's true outcome — success, since only infrastructure blinked —
nothing ``running``, no duplicate key, and every window logged once per run (a retry is the
same row, ``attempt_no`` + 1)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orders_sync_devtools import embedded_postgres as embedded
from tests.dags.conftest import DAG_ID, RunningStack, profiler_run_ids, seed_stores, summary_row
from tests.dags.test_scheduler import STORES, _simulator, _today

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(airflow_stack: RunningStack, db_url: str) -> RunningStack:
    airflow_stack.use_orders_database(db_url)
    _simulator(airflow_stack, "reset", {})
    return airflow_stack


def _rows(engine: sa.Engine, run_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(row._mapping)
            for row in conn.execute(
                sa.text(
                    "SELECT store_code, from_date, to_date, status, attempt_no "
                    "FROM orders_sync_log WHERE run_id = :r ORDER BY store_code, from_date"
                ),
                {"r": run_id},
            )
        ]


def _duplicates(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM (SELECT store_code, order_number FROM td_orders "
                    "GROUP BY 1, 2 HAVING count(*) > 1) d"
                )
            ).scalar_one()
        )


def _wait_until_running_again(stack: RunningStack, dag_run_id: str) -> None:
    deadline = time.monotonic() + 60
    while stack.api.get_run(DAG_ID, dag_run_id)["state"] == "success":
        assert time.monotonic() < deadline, "the cleared run never started again"
        time.sleep(0.5)


def test_a_cleared_finished_sync_store_resumes_from_the_log(
    stack: RunningStack, db_url: str
) -> None:
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, _today())
        run = stack.api.trigger(DAG_ID, {"max_workers": 2, "window_days": 60})
        first = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=240)
        assert first["state"] == "success"
        [run_id] = profiler_run_ids(engine)
        before = _rows(engine, run_id)

        stack.api.request(
            "POST",
            f"/dags/{DAG_ID}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run["dag_run_id"],
                "task_ids": [["sync_store", 0]],
                "only_failed": False,
                "include_downstream": True,
                "reset_dag_runs": True,
            },
        )
        _wait_until_running_again(stack, run["dag_run_id"])
        again = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=240)

        assert again["state"] == "success"
        assert _rows(engine, run_id) == before  # finished plans not run again: same rows
        assert summary_row(engine, run_id)["overall_status"] == "success"
        assert _duplicates(engine) == 0
    finally:
        engine.dispose()


def test_the_orders_database_restarted_under_a_dag_run_is_waited_out(
    stack: RunningStack, db_url: str, pg_server: Any
) -> None:
    if not isinstance(pg_server, embedded.EmbeddedServer):
        pytest.skip("restarts the test's own embedded server")
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, _today())
        _simulator(stack, "faults", {"latency_ms": 150})
        run = stack.api.trigger(DAG_ID, {"max_workers": 3, "window_days": 30})
        deadline = time.monotonic() + 120
        while not _rows_exist(engine):
            assert time.monotonic() < deadline, "no window started"
            time.sleep(0.2)
        engine.dispose()
        embedded.restart(pg_server)
        finished = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=300)

        [run_id] = profiler_run_ids(engine)
        tis = stack.api.task_instances(DAG_ID, run["dag_run_id"])
        with engine.connect() as conn:
            outcomes = conn.execute(sa.text("SELECT * FROM orders_sync_run_outcomes")).all()
            summary = summary_row(engine, run_id)
        assert finished["state"] == "success", (
            [(ti["task_id"], ti["map_index"], ti["state"], ti.get("try_number")) for ti in tis],
            outcomes,
            summary,
        )
        rows = _rows(engine, run_id)
        assert rows and {row["status"] for row in rows} == {"success"}
        assert summary_row(engine, run_id)["overall_status"] == "success"
        assert _duplicates(engine) == 0
        with engine.connect() as conn:
            assert not conn.execute(
                sa.text("SELECT count(*) FROM orders_sync_log WHERE status = 'running'")
            ).scalar_one()
        stats = httpx.get(f"{stack.simulator_url}/_sim/stats", timeout=10).json()
        assert stats["requests_total"] > 0
    finally:
        _simulator(stack, "reset", {})
        engine.dispose()


def _rows_exist(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM orders_sync_log)")).scalar()
            )
    except sa.exc.OperationalError:
        return False
