"""The DAG under a real CeleryExecutor, without Docker: Debian's redis-server as the broker,
``apache-airflow-providers-celery``, two ``airflow celery worker`` processes (one slot each).

The store locks, the pool and a run's ``max_workers`` hold across workers (stores syncing at
once, measured from ``orders_sync_log``, never above ``max_workers`` and reaching it; both
workers ran tasks), and the database outcome equals the CLI's on the same data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pendulum
import psycopg
import pytest
import sqlalchemy as sa

from tests.dags.conftest import (
    DAG_ID,
    REPO,
    TIMEZONE,
    clean_env,
    max_concurrency,
    profiler_run_ids,
    seed_stores,
    summary_row,
)
from tests.dags.test_scheduler import STORES, _log, _store_intervals

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def celery_stack() -> Iterator[object]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: the test command (make test) installs it")
    from orders_sync_devtools.airflow_stack import LocalAirflow, StackOptions

    state = Path(tempfile.mkdtemp(prefix="orders_sync_celery_"))
    options = StackOptions(
        airflow_home=state / "airflow",
        state_dir=state,
        api_port=0,
        max_workers=3,  # the pool
        seed_demo_stores=False,
        unpause=False,
        durable=False,
        celery_workers=2,
        worker_concurrency=1,
        extra_env={
            "ORDERS_SYNC_DAG_SCHEDULE": "none",
            "ORDERS_SYNC_TIMEZONE": TIMEZONE,
            "ORDERS_SYNC_HTTP_MAX_ATTEMPTS": "1",
        },
    )
    try:
        with LocalAirflow(options) as stack:
            yield stack
    finally:
        if not os.environ.get("ORDERS_SYNC_KEEP_CELERY_STATE"):
            shutil.rmtree(state, ignore_errors=True)


def test_two_celery_workers_keep_locks_pool_and_max_workers_and_match_the_cli(
    celery_stack: object,
) -> None:
    from orders_sync_devtools.airflow_stack import LOCAL_TD_TOKEN, LOCAL_UC_TOKEN, LocalAirflow

    stack = celery_stack
    assert isinstance(stack, LocalAirflow)
    today = pendulum.today(TIMEZONE).date()
    dag_url = stack.orders_url
    cli_url = dag_url.rsplit("/", 1)[0] + "/celery_cli"
    with psycopg.connect(dag_url.replace("+psycopg", "").rsplit("/", 1)[0] + "/postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute('DROP DATABASE IF EXISTS "celery_cli"')
        conn.execute('CREATE DATABASE "celery_cli"')
    from orders_sync.db.migrate import upgrade

    upgrade(cli_url)
    dag_engine, cli_engine = sa.create_engine(dag_url), sa.create_engine(cli_url)
    try:
        for engine in (dag_engine, cli_engine):
            seed_stores(engine, STORES, today)
        simulator = str(stack.simulator_url)
        httpx.post(f"{simulator}/_sim/faults", json={"latency_ms": 40}, timeout=10)
        now = pendulum.now(TIMEZONE).replace(microsecond=0).isoformat()
        # the source's data stays put between the DAG run and the CLI run
        httpx.post(f"{simulator}/_sim/clock", json={"now": now}, timeout=10).raise_for_status()
        stack.api.set_paused(DAG_ID, False)
        run = stack.api.trigger(DAG_ID, {"max_workers": 2, "window_days": 30})
        finished = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=600)
        tis = stack.api.task_instances(DAG_ID, run["dag_run_id"])
        stack.api.set_paused(DAG_ID, True)
        assert finished["state"] == "success", tis
        mapped = [ti for ti in tis if ti["task_id"] == "sync_store"]
        assert {ti["state"] for ti in mapped} == {"success"}
        # both workers ran batches (the TI's hostname is the machine's: read the workers' logs)
        received = {
            index: (stack.logs_dir / f"celery-worker-{index}.log").read_text().count(" received")
            for index in (1, 2)
        }
        assert all(received.values()), received

        [dag_run_id] = profiler_run_ids(dag_engine)
        rows = _log(dag_engine, dag_run_id)
        assert max_concurrency(_store_intervals(rows)) == 2  # max_workers, across workers

        cli = subprocess.run(
            [str(REPO / "scripts" / "orders_sync_run_profiler.sh"),
             "--max-workers", "2", "--window-days", "30"],
            env=clean_env(ORDERS_SYNC_DATABASE_URL=cli_url, ORDERS_SYNC_TIMEZONE=TIMEZONE,
                          TD_API_BASE_URL=simulator, TD_API_TOKEN=LOCAL_TD_TOKEN,
                          UC_API_BASE_URL=simulator, UC_API_TOKEN=LOCAL_UC_TOKEN),
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert cli.returncode == 0, cli.stderr[-2000:]
        [cli_run_id] = profiler_run_ids(cli_engine)

        def outcome(engine: sa.Engine, run_id: str) -> list[tuple[object, ...]]:
            return sorted(
                (r["store_code"], r["pipeline"], r["from_date"], r["status"])
                for r in _log(engine, run_id)
            )

        assert outcome(dag_engine, dag_run_id) == outcome(cli_engine, cli_run_id)
        dag_summary = summary_row(dag_engine, dag_run_id)
        assert dag_summary["summary_text"] == summary_row(cli_engine, cli_run_id)["summary_text"]
        for table in ("td_orders", "td_sales", "uc_orders"):
            counts = [
                e.connect().execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for e in (dag_engine, cli_engine)
            ]
            assert counts[0] == counts[1] > 0, table
    finally:
        dag_engine.dispose()
        cli_engine.dispose()
