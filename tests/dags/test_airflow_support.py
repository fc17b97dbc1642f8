"""The Airflow adapters without Airflow: connections → settings, the DAG's parse-time knobs,
the pool size, the run-scoped worker slots, and the verdicts of ``finish`` / ``check``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from orders_sync.airflow_support import task_context, tasks
from orders_sync.airflow_support.connections import (
    base_url_from_connection,
    database_url_from_connection,
    settings_from_airflow,
)
from orders_sync.airflow_support.dag_config import dag_config_from_env
from orders_sync.airflow_support.run_slots import run_slot
from orders_sync.config import get_settings
from orders_sync.db.repositories import run_summaries
from orders_sync.exceptions import ConfigurationError, UsageError
from orders_sync.run_profiler import options as profiler_options
from tests.dags.conftest import REPO


@dataclasses.dataclass
class FakeConnection:
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    conn_type: str | None = "http"

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return self.extra


# --- connections ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        (FakeConnection("db.internal", "orders", "app", "s3cret", 5433),
         "postgresql+psycopg://app:s3cret@db.internal:5433/orders"),
        (FakeConnection("db", "orders", "app", "p@ss:w/rd"),
         "postgresql+psycopg://app:p%40ss%3Aw%2Frd@db/orders"),
        (FakeConnection("db", "orders", extra={"sslmode": "require", "cursor": "dictcursor"}),
         "postgresql+psycopg://db/orders?sslmode=require"),
    ],
    ids=["all-fields", "password-quoted", "libpq-extras-only"],
)  # fmt: skip
def test_database_url_from_connection(conn: FakeConnection, url: str) -> None:
    built = database_url_from_connection(conn)
    assert built == url
    assert sa.engine.make_url(built).password == (conn.password or None)


@pytest.mark.parametrize(
    "conn", [FakeConnection(None, "orders"), FakeConnection("db", None)], ids=["no-host", "no-db"]
)
def test_database_connection_without_host_or_database_is_refused(conn: FakeConnection) -> None:
    with pytest.raises(ConfigurationError, match="orders_sync_db"):
        database_url_from_connection(conn)


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        (FakeConnection("crm.example.com", "https"), "https://crm.example.com"),
        (FakeConnection("crm.example.com", None, port=8443), "http://crm.example.com:8443"),
        (FakeConnection("https://crm.example.com/", "http"), "https://crm.example.com"),
        (FakeConnection("http://127.0.0.1:8765"), "http://127.0.0.1:8765"),
        (FakeConnection("crm.example.com", conn_type="https"), "https://crm.example.com"),
    ],
    ids=[
        "schema-is-scheme",
        "default-http-with-port",
        "host-with-scheme-wins",
        "full-url-host",
        "https-uri-conn-type",
    ],
)
def test_crm_base_url_follows_the_http_hook_rule(conn: FakeConnection, url: str) -> None:
    assert base_url_from_connection(conn, "td_crm") == url


# Every form of the Airflow docs, parsed by Airflow's own Connection: (conn id, form, URL).
CONNECTION_FORMS = {
    "alerts-conn-uri-with-path": (
        "orders_sync_alerts",
        {"uri": "https://hooks.slack.com/services/T0/B0/XYZ"},
        "https://hooks.slack.com/services/T0/B0/XYZ",
    ),
    "alerts-full-url-in-host": (
        "orders_sync_alerts",
        {"conn_type": "http", "host": "https://hooks.slack.com/services/T0/B0/XYZ"},
        "https://hooks.slack.com/services/T0/B0/XYZ",
    ),
    "alerts-host-and-path-schema": (
        "orders_sync_alerts",
        {"conn_type": "https", "host": "hooks.example.com", "schema": "hook/1"},
        "https://hooks.example.com/hook/1",
    ),
    "td-conn-uri-token": (
        "td_crm",
        {"uri": "https://:TOKEN@crm.example.com"},
        "https://crm.example.com",
    ),
    "td-conn-uri-port-and-path": (
        "td_crm",
        {"uri": "http://crm.example.com:8080/api/v1"},
        "http://crm.example.com:8080/api/v1",
    ),
    "uc-host-and-scheme-schema": (
        "uc_crm",
        {"conn_type": "http", "host": "gst.example.com", "schema": "https"},
        "https://gst.example.com",
    ),
    "uc-full-url-with-path-in-host": (
        "uc_crm",
        {"conn_type": "http", "host": "https://gst.example.com/v2/"},
        "https://gst.example.com/v2",
    ),
}


@pytest.mark.parametrize(
    ("conn_id", "form", "url"), CONNECTION_FORMS.values(), ids=CONNECTION_FORMS.keys()
)
def test_every_documented_connection_form_gives_the_right_url(
    conn_id: str, form: dict[str, str], url: str
) -> None:
    from airflow.models.connection import Connection

    conn = Connection(conn_id=conn_id, **form)
    assert base_url_from_connection(conn, conn_id) == url  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "form",
    [{"conn_type": "http", "host": ""}, {"conn_type": "http", "host": "ftp://files.example.com"}],
    ids=["no-host", "not-http"],
)
def test_a_connection_without_a_usable_url_is_one_sentence(form: dict[str, str]) -> None:
    from airflow.models.connection import Connection

    conn = Connection(conn_id="orders_sync_alerts", **form)
    with pytest.raises(ConfigurationError) as caught:
        base_url_from_connection(conn, "orders_sync_alerts")  # type: ignore[arg-type]
    assert "orders_sync_alerts" in str(caught.value) and "\n" not in str(caught.value)


def test_connections_override_the_environment_and_missing_ones_leave_it() -> None:
    env = {
        "ORDERS_SYNC_DATABASE_URL": "postgresql://env@envhost/envdb",
        "TD_API_BASE_URL": "http://td.env",
        "TD_API_TOKEN": "td-env-token",
        "UC_API_BASE_URL": "http://uc.env",
        "UC_API_TOKEN": "uc-env-token",
        "ORDERS_SYNC_TIMEZONE": "Asia/Kolkata",
    }
    connections = {
        "orders_sync_db": FakeConnection("dbhost", "orders", "app", "pw"),
        "td_crm": FakeConnection("td.example.com", "https", password="td-conn-token"),
    }
    settings = settings_from_airflow(connections.get, env)
    assert settings.database_url == "postgresql+psycopg://app:pw@dbhost/orders"
    assert (settings.endpoint("TD").base_url, settings.endpoint("TD").token) == (
        "https://td.example.com",
        "td-conn-token",
    )
    assert (settings.endpoint("UC").base_url, settings.endpoint("UC").token) == (
        "http://uc.env",
        "uc-env-token",
    )

    from_env_only = settings_from_airflow(lambda conn_id: None, env)
    assert from_env_only.database_url == "postgresql://env@envhost/envdb"
    assert from_env_only.endpoint("TD").token == "td-env-token"


# --- parse-time knobs and the pool -----------------------------------------------------


def test_dag_config_defaults() -> None:
    config = dag_config_from_env({})
    assert config.timezone == "Asia/Kolkata"
    assert config.schedule == "30 2 * * *"
    assert (config.env, config.max_workers, config.settle_days) == ("dev", 3, 0)


@pytest.mark.parametrize(
    ("env", "schedule"),
    [({"ORDERS_SYNC_DAG_SCHEDULE": "none"}, None),
     ({"ORDERS_SYNC_DAG_SCHEDULE": "0 */6 * * *"}, "0 */6 * * *")],
    ids=["none-is-manual", "custom-cron"],
)  # fmt: skip
def test_dag_schedule_from_env(env: dict[str, str], schedule: str | None) -> None:
    assert dag_config_from_env(env).schedule == schedule


@pytest.mark.parametrize(
    "env",
    [
        {"ORDERS_SYNC_DAG_SCHEDULE": "daily"},
        {"ORDERS_SYNC_TIMEZONE": "Mars/Olympus"},
        {"ORDERS_SYNC_MAX_WORKERS": "0"},
        {"ORDERS_SYNC_MAX_WORKERS": "three"},
    ],
    ids=["schedule-not-cron", "unknown-timezone", "max-workers-0", "max-workers-not-int"],
)
def test_dag_config_refuses_bad_env(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        dag_config_from_env(env)


def test_pool_default_is_the_command_lines_max_workers() -> None:
    assert dag_config_from_env({}).max_workers == profiler_options.DEFAULT_MAX_WORKERS
    assert dag_config_from_env({"ORDERS_SYNC_MAX_WORKERS": "6"}).max_workers == 6


# --- run-scoped worker slots -------------------------------------------------------------


def test_run_slots_cap_concurrency_per_run_and_free_on_exit(engine: sa.Engine) -> None:
    slots, workers = 2, 5
    lock = threading.Lock()
    running = peak = 0
    held: list[int] = []

    def worker() -> None:
        nonlocal running, peak
        with run_slot(engine, "run-a", slots, poll_s=0.02) as slot:
            with lock:
                running += 1
                peak = max(peak, running)
                held.append(slot)
            time.sleep(0.2)
            with lock:
                running -= 1

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert peak == slots
    assert sorted(set(held)) == [0, 1]
    # Another run has slots of its own, and every slot of run-a is free again.
    with run_slot(engine, "run-b", 1) as b, run_slot(engine, "run-a", 1) as a:
        assert (a, b) == (0, 0)


def test_a_slot_waits_while_every_slot_is_taken(engine: sa.Engine) -> None:
    waits: list[float] = []
    got_slot = threading.Event()

    def second_worker() -> None:
        with run_slot(engine, "run-c", 1, sleep=_record(waits)):
            got_slot.set()

    with run_slot(engine, "run-c", 1):
        second = threading.Thread(target=second_worker)
        second.start()
        time.sleep(0.5)
        assert waits and not got_slot.is_set(), "the second worker must wait"
    second.join(timeout=10)
    assert got_slot.is_set()


def _record(waits: list[float]) -> Any:
    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(min(seconds, 0.05))

    return sleep


# --- task verdicts -----------------------------------------------------------------------


class FakeTI:
    """XCom of a DAG run, as ``finish`` pulls it."""

    def __init__(self, xcoms: dict[tuple[str, str], Any]) -> None:
        self.xcoms = xcoms
        self.pushed: dict[str, Any] = {}

    def xcom_pull(self, task_ids: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_ids, key))

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def _start_run(engine: sa.Engine) -> str:
    run_id = run_summaries.new_run_id("test")
    with engine.begin() as conn:
        run_summaries.start_run(
            conn,
            run_id=run_id,
            pipeline_name="orders_sync_run_profiler",
            run_env="test",
            report_date=dt.date.today(),
        )
    return run_id


def _job(store: str) -> dict[str, Any]:
    return {"store_code": store, "pipeline": "td_orders_sync"}


def _result(store: str, status: str = "success", **extra: Any) -> dict[str, Any]:
    return {"store_code": store, "pipeline": "td_orders_sync", "status": status,
            "skipped": status == "skipped", "crashed": None, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("jobs", "results", "status", "problems"),
    [
        ([_job("A1"), _job("A2")], [_result("A1"), _result("A2", "skipped")], "success", []),
        ([_job("A1"), _job("A2")], [_result("A1")], "failed", ["A2 td_orders_sync: crashed"]),
        (None, [], "failed", ["the plan task failed"]),
        ([], [], "success", []),
    ],
    ids=["all-done-one-skipped", "a-task-died-without-result", "plan-failed", "empty-plan"],
)
def test_finish_counts_jobs_without_a_result_as_crashed(
    engine: sa.Engine,
    jobs: list[dict[str, Any]] | None,
    results: list[dict[str, Any]],
    status: str,
    problems: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orders_sync.db.repositories import run_batches

    monkeypatch.setattr(tasks, "task_settings", get_settings)  # the test's database
    run_id = _start_run(engine)
    if jobs:  # the plan task stores its batches (here: one job per batch)
        with engine.begin() as conn:
            run_batches.save_batches(conn, run_id, [(j["store_code"], [j]) for j in jobs])
    refs = None if jobs is None else [{"batch": i} for i in range(len(jobs))]
    ti = FakeTI(
        {
            ("start", "return_value"): {"run_id": run_id, "options": {"env": "test"}},
            ("plan", "return_value"): refs,
            # one list of job results per mapped batch
            ("sync_store", "job_results"): [[result] for result in results],
        }
    )
    summary = tasks.finish(ti)
    assert summary["overall_status"] == status
    assert all(any(p.startswith(want) for p in summary["problems"]) for want in problems)
    with engine.connect() as conn:
        row = run_summaries.get_run(conn, run_id)
    assert row is not None and row.finished_at is not None
    assert row.overall_status == status
    if status == "success" and results and results[-1]["skipped"]:
        assert "skipped_stores=1" in (row.summary_text or "")


@pytest.mark.parametrize(
    ("summary", "passes"),
    [
        ({"run_id": "r", "overall_status": "success", "summary_text": "ok", "problems": []}, True),
        ({"run_id": None, "overall_status": "success", "summary_text": "dry run",
          "problems": []}, True),
        ({"run_id": "r", "overall_status": "partial", "summary_text": "x", "problems": []}, False),
        ({"run_id": "r", "overall_status": "failed", "summary_text": "x", "problems": []}, False),
        ({"run_id": "r", "overall_status": "success", "summary_text": "x",
          "problems": ["A1 td_orders_sync: crashed (no result)"]}, False),
        ({"run_id": None, "overall_status": "failed", "summary_text": "did not start",
          "problems": ["the start task failed"]}, False),
    ],
    ids=["success", "dry-run", "partial", "failed", "crashed-job", "never-started"],
)  # fmt: skip
def test_check_fails_the_run_unless_everything_succeeded(
    summary: dict[str, Any], passes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Airflow's AirflowFailException in a real task; a plain error here (no Airflow import).
    monkeypatch.setattr(tasks, "fail_task", RuntimeError)
    if passes:
        tasks.check(summary)
    else:
        with pytest.raises(RuntimeError, match=summary["overall_status"]):
            tasks.check(summary)


@pytest.mark.parametrize(
    ("params", "conf"),
    [({"env": "dev", "bogus": 1}, {"bogus": 1}), ({"env": "dev", "window_days": 0}, {})],
    ids=["unknown-conf-key", "bad-value"],
)
def test_options_from_params_refuses_bad_conf(params: dict[str, Any], conf: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        task_context.options_from_params(params, conf)


def test_profiler_run_id_is_traceable_unique_and_fits() -> None:
    long_id = "manual__2026-01-06T19:00:00.123456+00:00" + "x" * 80
    first, second = task_context.profiler_run_id(long_id), task_context.profiler_run_id(long_id)
    assert first != second
    assert first.startswith("af-manual__2026-01-06T19:00:00")
    assert len(first) <= 64


def test_the_library_imports_without_airflow() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import orders_sync.airflow_support.tasks, "
        "orders_sync.airflow_support.connections, orders_sync.airflow_support.run_slots, "
        "orders_sync_devtools.airflow_stack; "
        "assert not [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=REPO)


def test_a_dag_runs_summary_survives_cli_starts_until_the_next_dag_run(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders_sync.runs import liveness as run_lifecycle
    from tests.dags.conftest import seed_stores

    # The test's database; start checks the sources are configured, and sends them nothing.
    monkeypatch.setattr(
        tasks, "task_settings", lambda: dataclasses.replace(get_settings(), sources="simulator")
    )
    seed_stores(engine, [("A001", "TD", 10)], dt.date.today())
    dag = "orders_sync_run_profiler"
    first = tasks.start({"env": "test"}, dag_id=dag, airflow_run_id="manual__1")["run_id"]
    run_lifecycle.close_abandoned_runs(engine)  # what every command-line run does first
    with engine.connect() as conn:
        assert run_summaries.get_run(conn, first).overall_status == "running"  # type: ignore[union-attr]

    # The next DAG run (max_active_runs=1: the first has ended) closes what it left running.
    second = tasks.start({"env": "test"}, dag_id=dag, airflow_run_id="manual__2")["run_id"]
    with engine.connect() as conn:
        closed, current = run_summaries.get_run(conn, first), run_summaries.get_run(conn, second)
    assert closed is not None and closed.overall_status == "failed"
    assert "abandoned" in (closed.summary_text or "")
    assert current is not None and current.overall_status == "running"
