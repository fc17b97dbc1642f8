"""Fixtures of the DAG tests.

Airflow never runs inside the pytest process: importing it configures logging and settings
process-wide. The tests run it in subprocesses (probes/, ``dag.test()``) or as a real
stack of processes (:class:`~orders_sync_devtools.airflow_stack.LocalAirflow`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

from orders_sync.db.repositories import stores
from orders_sync_devtools.simulator.server import DEFAULT_SEED, SimulatorServer

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
            if isinstance(result, dict):
                result["warnings"] = warning_lines(done.stdout + done.stderr)
            return result
    raise AssertionError(
        f"{script} printed no result (exit {done.returncode}):\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )


def warning_lines(output: str) -> list[str]:
    """The log lines of ``output`` at WARNING or above (Airflow's and Python's formats)."""
    return [
        line
        for line in output.splitlines()
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b|\[(warning|error|critical)\s*\]", line)
    ]


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
STACK_MAX_MAPPED_TASKS = 4


@dataclasses.dataclass
class RunningStack:
    """A local Airflow started by ``scripts/airflow_local.sh``, as its banner describes it."""

    api: Any
    viewer: Any  # the read-only user's client: may read, may not trigger
    api_url: str
    simulator_url: str
    logs_dir: Path

    def use_orders_database(self, url: str) -> None:
        """Point the ``orders_sync_db`` connection at ``url`` (tasks read it when they start)."""
        from orders_sync_devtools.airflow_stack import orders_db_connection

        self.api.upsert_connections([orders_db_connection(url)])


@pytest.fixture(scope="session")
def airflow_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The one command, ``scripts/airflow_local.sh``, run once for the session.

    A real Airflow: api-server, scheduler (LocalExecutor), dag-processor and triggerer, its
    metadata in the database ``airflow`` of an embedded PostgreSQL of its own, the pool
    ``orders_sync`` with 3 slots, the connections, one CRM simulator process. Tests point
    the ``orders_sync_db`` connection at their own database. At the end of the session it
    gets Ctrl-C (SIGINT), and everything it started must be gone.
    """
    from orders_sync_devtools.airflow_api import AirflowApi

    state = tmp_path_factory.mktemp("airflow_local")
    env = clean_env(
        ORDERS_SYNC_STATE_DIR=str(state),
        ORDERS_SYNC_MAX_WORKERS=str(STACK_POOL_SLOTS),
        ORDERS_SYNC_DAG_SCHEDULE="none",  # only the runs the tests trigger
        ORDERS_SYNC_TIMEZONE=TIMEZONE,
        ORDERS_SYNC_HTTP_MAX_ATTEMPTS="1",
        # batching in play: 8 stores become 4 mapped batches (issue 14)
        ORDERS_SYNC_MAX_MAPPED_TASKS=str(STACK_MAX_MAPPED_TASKS),
        AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="600",
    )
    output = state / "airflow_local.out"
    with open(output, "w") as out:
        script = subprocess.Popen(
            [str(REPO / "scripts" / "airflow_local.sh"), "--port", "0", "--no-seed"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        banner = _wait_for_banner(script, output)
        stack = RunningStack(
            api=AirflowApi(banner["url"], "admin", banner["password"]),
            viewer=AirflowApi(banner["url"], "viewer", banner["viewer_password"]),
            api_url=banner["url"],
            simulator_url=banner["crm"],
            logs_dir=Path(banner["logs"]),
        )
        yield stack
        stack.api.close()
        stack.viewer.close()
    finally:
        if script.poll() is None:
            script.send_signal(signal.SIGINT)  # Ctrl-C
        code = script.wait(timeout=90)
    assert code == 0, output.read_text()[-3000:]
    assert "stopping Airflow" in output.read_text()
    for url in (stack.api_url, stack.simulator_url):
        with pytest.raises(OSError):
            port = int(url.rsplit(":", 1)[1])
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not (state / "pgdata" / "postmaster.pid").exists(), "the embedded PostgreSQL is still up"


def _wait_for_banner(script: subprocess.Popen[bytes], output: Path) -> dict[str, str]:
    deadline = time.monotonic() + 240
    while True:
        text = output.read_text()
        if "Airflow is up." in text:
            found = {
                "url": re.search(r"UI / API\s+(\S+)", text),
                "password": re.search(r"login: admin / (\S+)", text),
                "viewer_password": re.search(r"read-only login: viewer / (\S+)", text),
                "crm": re.search(r"td_crm, uc_crm -> (\S+)", text),
                "logs": re.search(r"logs\s+(\S+)/<component>\.log", text),
            }
            missing = [name for name, match in found.items() if match is None]
            assert not missing, f"the banner lacks {missing}:\n{text}"
            return {name: match.group(1) for name, match in found.items() if match}
        assert script.poll() is None, f"airflow_local.sh exited {script.returncode}:\n{text}"
        assert time.monotonic() < deadline, f"airflow_local.sh did not come up:\n{text}"
        time.sleep(0.5)


def max_concurrency(intervals: list[tuple[Any, Any]]) -> int:
    """The largest number of ``(start, end)`` intervals open at one instant."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, step in events:  # at equal instants, ends (-1) sort before starts (+1)
        open_now += step
        peak = max(peak, open_now)
    return peak
