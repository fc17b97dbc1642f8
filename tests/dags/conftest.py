"""Fixtures of the DAG tests.

Airflow never runs inside the pytest process: importing it configures logging and settings
process-wide. The tests run it in subprocesses (probes/, ``dag.test()``) or as a real
stack of processes (:class:`~orders_sync.airflow_support.local_stack.LocalAirflow`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

from orders_sync.db.repositories import stores
from orders_sync.sources.simulator.server import DEFAULT_SEED, SimulatorServer

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
PROBES = Path(__file__).resolve().parent / "probes"
PYTHON = sys.executable
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAG_ID = "orders_sync_run_profiler"
TD_TOKEN = "dag-test-td-token"
UC_TOKEN = "dag-test-uc-token"
TIMEZONE = "Asia/Kolkata"

# Variables of the test process that must not leak into Airflow's processes.
_NOT_INHERITED_PREFIXES = ("AIRFLOW", "ORDERS_SYNC_", "TD_API_", "UC_API_")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Airflow/orders_sync variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED_PREFIXES)}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """An Airflow with SQLite metadata in ``home``, this repository's dags and plugins."""
    return clean_env(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS_FOLDER),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        ORDERS_SYNC_TIMEZONE=TIMEZONE,
        **extra,
    )


def run_probe(
    script: str, args: list[str], env: Mapping[str, str], timeout_s: float = 240
) -> dict[str, Any]:
    """Run ``probes/<script>`` and return the JSON of its ``RESULT`` line."""
    done = subprocess.run(
        [PYTHON, str(PROBES / script), *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    raise AssertionError(
        f"{script} printed no result (exit {done.returncode}):\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )


@pytest.fixture(scope="session")
def sqlite_airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ``AIRFLOW_HOME`` whose SQLite metadata is migrated (``airflow db migrate``)."""
    home = tmp_path_factory.mktemp("airflow_home")
    subprocess.run(
        [AIRFLOW, "db", "migrate"],
        env=airflow_env(home),
        check=True,
        capture_output=True,
        timeout=300,
    )
    return home


@pytest.fixture(scope="session")
def source_now() -> dt.datetime:
    """The simulator's frozen clock: now, so today's data exists and stays put."""
    return pendulum.now(TIMEZONE)


@pytest.fixture
def crm(source_now: dt.datetime) -> Iterator[SimulatorServer]:
    """A CRM simulator over loopback HTTP with its clock frozen; the DAG and the CLI share it."""
    with SimulatorServer(
        seed=DEFAULT_SEED, td_token=TD_TOKEN, uc_token=UC_TOKEN, clock=source_now
    ) as sim:
        yield sim


def crm_env(sim: SimulatorServer) -> dict[str, str]:
    """The interfaces.md variables that point the pipelines at ``sim``."""
    return {
        "TD_API_BASE_URL": sim.base_url,
        "TD_API_TOKEN": TD_TOKEN,
        "UC_API_BASE_URL": sim.base_url,
        "UC_API_TOKEN": UC_TOKEN,
        # Fail fast on the injected 500s: retries would only slow the tests down.
        "ORDERS_SYNC_HTTP_MAX_ATTEMPTS": "1",
    }


def seed_stores(engine: sa.Engine, rows: list[tuple[str, str, int]], today: dt.date) -> None:
    """Insert stores ``(code, sync group, days of history)``."""
    with engine.begin() as conn:
        stores.insert_stores(
            conn,
            [
                {
                    "store_code": code,
                    "store_name": f"{group} store {code}",
                    "sync_group": group,
                    "cost_center": "CC1",
                    "start_date": today - dt.timedelta(days=days),
                }
                for code, group, days in rows
            ],
        )


def log_rows(engine: sa.Engine, run_id: str) -> list[dict[str, Any]]:
    """The run's ``orders_sync_log`` rows, in a run-independent, comparable form."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT p.code AS pipeline, l.store_code, l.from_date, l.to_date, l.status,
                       l.window_reason, l.attempt_no, l.run_env, l.cost_center,
                       l.orders_pulled_at IS NOT NULL AS orders_pulled,
                       l.sales_pulled_at IS NOT NULL AS sales_pulled,
                       l.rows_fetched, l.error_message IS NOT NULL AS has_error
                FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
                WHERE l.run_id = :run_id
                ORDER BY l.store_code, p.code, l.from_date
                """
            ),
            {"run_id": run_id},
        )
        return [dict(row._mapping) for row in rows]


def summary_row(engine: sa.Engine, run_id: str) -> dict[str, Any]:
    """The run's ``pipeline_run_summaries`` row."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM pipeline_run_summaries WHERE run_id = :r"), {"r": run_id}
        ).one()
        return dict(row._mapping)


def profiler_run_ids(engine: sa.Engine) -> list[str]:
    """Every profiler run id in the database, oldest first."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT run_id FROM pipeline_run_summaries "
                    "WHERE pipeline_name = 'orders_sync_run_profiler' ORDER BY started_at"
                )
            ).scalars()
        )


@pytest.fixture
def other_db_url(pg_server: Any, template_db: str) -> Iterator[str]:
    """A second fresh, migrated database (the CLI's, beside the DAG's ``db_url``)."""
    import psycopg

    name = f"t_other_{os.getpid()}_{next(_other_counter)}"
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield pg_server.url(name)
    from orders_sync.db.engine import dispose_engines

    dispose_engines()
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_other_counter = itertools.count()


STACK_POOL_SLOTS = 3


@pytest.fixture(scope="session")
def airflow_stack(
    pg_server: Any, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """One real Airflow for the session: api-server, scheduler (LocalExecutor) and
    dag-processor, metadata in a database of its own on the embedded PostgreSQL, the
    pool ``orders_sync`` with 3 slots, the connections, one CRM simulator process.

    Tests point the ``orders_sync_db`` connection at their own database
    (:meth:`LocalAirflow.use_orders_database`).
    """
    import psycopg

    from orders_sync.airflow_support.local_stack import LocalAirflow, StackOptions

    orders = f"airflow_stack_orders_{os.getpid()}"
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{orders}" TEMPLATE "{template_db}"')
    options = StackOptions(
        airflow_home=tmp_path_factory.mktemp("airflow_stack"),
        state_dir=pg_server.pgdata.parent,
        metadata_database=f"airflow_meta_{os.getpid()}",
        orders_database_url=pg_server.url(orders),
        api_port=0,
        max_workers=STACK_POOL_SLOTS,
        components=("api-server", "scheduler", "dag-processor"),
        seed_demo_stores=False,
        durable=False,
        extra_env={
            "ORDERS_SYNC_DAG_SCHEDULE": "none",  # only the runs the tests trigger
            "ORDERS_SYNC_TIMEZONE": TIMEZONE,
            "ORDERS_SYNC_HTTP_MAX_ATTEMPTS": "1",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        },
    )
    with LocalAirflow(options) as stack:
        yield stack


def max_concurrency(intervals: list[tuple[Any, Any]]) -> int:
    """The largest number of ``(start, end)`` intervals open at one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, step in events:  # at equal instants, ends (-1) sort before starts (+1)
        open_now += step
        peak = max(peak, open_now)
    return peak
