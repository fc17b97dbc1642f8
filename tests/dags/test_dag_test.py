"""``dag.test(conf=...)`` on the embedded PostgreSQL and the simulator: the same database
outcome as the command line on the same data, a failing store included; dry run, empty plan
and an unknown store behave as the CLI does.

Airflow runs in a subprocess (metadata in a migrated SQLite file); the orders database and
the CRMs come from the environment variables of interfaces.md (no connections).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa

from orders_sync.db.engine import dispose_engines
from orders_sync.db.repositories import run_batches
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.dags.conftest import (
    REPO,
    TIMEZONE,
    airflow_env,
    clean_env,
    crm_env,
    log_rows,
    profiler_run_ids,
    run_probe,
    seed_stores,
    summary_row,
)

STORES = [("A001", "TD", 200), ("A002", "TD", 120), ("U010", "UC", 150)]
FAILING = "A002"
CONF = {"window_days": 60, "env": "dagtest", "max_workers": 2}


def _today() -> dt.date:
    return pendulum.today(TIMEZONE).date()


def _data_counts(engine: sa.Engine) -> dict[str, list[tuple[str, int]]]:
    with engine.connect() as conn:
        return {
            table: [
                (str(code), int(n))
                for code, n in conn.execute(
                    sa.text(f"SELECT store_code, count(*) FROM {table} GROUP BY 1 ORDER BY 1")
                )
            ]
            for table in ("td_orders", "td_sales", "uc_orders")
        }


def _dag_test(
    home: Path, db_url: str, crm: SimulatorServer, conf: dict[str, Any]
) -> dict[str, Any]:
    env = airflow_env(home, ORDERS_SYNC_DATABASE_URL=db_url, **crm_env(crm))
    return run_probe("run_dag_test.py", [json.dumps(conf)], env)


def _fail_store_from(crm: SimulatorServer, store_code: str, from_date: dt.date) -> None:
    crm.faults.fail_store(store_code, status=500, from_date=from_date, endpoint="orders")


def test_dag_test_matches_the_cli_including_a_failing_store(
    sqlite_airflow_home: Path, db_url: str, other_db_url: str, crm: SimulatorServer
) -> None:
    today = _today()
    # A002's second window (today-60 .. today-1) fails on orders: its third never runs.
    _fail_store_from(crm, FAILING, today - dt.timedelta(days=60))
    dag_engine = sa.create_engine(db_url)
    cli_engine = sa.create_engine(other_db_url)
    try:
        for engine in (dag_engine, cli_engine):
            seed_stores(engine, STORES, today)

        result = _dag_test(sqlite_airflow_home, db_url, crm, CONF)
        cli = subprocess.run(
            [
                str(REPO / "scripts" / "orders_sync_run_profiler.sh"),
                "--window-days",
                "60",
                "--env",
                "dagtest",
                "--max-workers",
                "2",
            ],  # fmt: skip
            env=clean_env(
                ORDERS_SYNC_DATABASE_URL=other_db_url, ORDERS_SYNC_TIMEZONE=TIMEZONE, **crm_env(crm)
            ),
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert cli.returncode == 1, cli.stderr[-2000:]

        assert result["state"] == "failed"
        states = {(ti["task_id"], ti["label"]): ti["state"] for ti in result["tis"]}
        assert states == {
            ("start", None): "success",
            ("plan", None): "success",
            # 3 plans, max_workers 2: one wave of two batches, the longest plan on its own
            ("sync_store", "A001 / td_orders_sync"): "success",
            ("sync_store", "A002 … U010 (2 plans)"): "failed",
            ("finish", None): "success",
            ("check", None): "failed",
        }

        [dag_run_id] = profiler_run_ids(dag_engine)
        [cli_run_id] = profiler_run_ids(cli_engine)
        dag_rows, cli_rows = log_rows(dag_engine, dag_run_id), log_rows(cli_engine, cli_run_id)
        assert dag_rows == cli_rows
        failing = [row for row in dag_rows if row["store_code"] == FAILING]
        assert [row["status"] for row in failing] == ["success", "failed"]
        assert {row["status"] for row in dag_rows if row["store_code"] != FAILING} == {"success"}

        dag_summary, cli_summary = (
            summary_row(dag_engine, dag_run_id),
            summary_row(cli_engine, cli_run_id),
        )
        for summary in (dag_summary, cli_summary):
            assert summary["pipeline_name"] == "orders_sync_run_profiler"
            assert summary["run_env"] == "dagtest"
            assert summary["finished_at"] is not None
            assert summary["report_date"] == today
        assert dag_summary["overall_status"] == cli_summary["overall_status"] == "failed"
        assert dag_summary["summary_text"] == cli_summary["summary_text"]
        assert _data_counts(dag_engine) == _data_counts(cli_engine)
    finally:
        dag_engine.dispose()
        cli_engine.dispose()
        dispose_engines()


def test_dry_run_writes_nothing(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, _today())
        result = _dag_test(sqlite_airflow_home, db_url, crm, {"dry_run": True})
        assert result["state"] == "success"
        assert profiler_run_ids(engine) == []
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM orders_sync_log")).scalar() == 0
    finally:
        engine.dispose()


def test_empty_plan_is_a_successful_run(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, [("A005", "TD", -10)], _today())  # starts in ten days
        result = _dag_test(sqlite_airflow_home, db_url, crm, {})
        assert result["state"] == "success"
        states = {ti["task_id"]: ti["state"] for ti in result["tis"]}
        assert states["sync_store"] == "skipped"  # mapped over an empty plan
        [run_id] = profiler_run_ids(engine)
        summary = summary_row(engine, run_id)
        assert summary["overall_status"] == "success"
        assert summary["summary_text"] == "no windows due"
    finally:
        engine.dispose()


def _ours(warnings: list[str]) -> list[str]:
    """The warnings without the one of ``dag.test()``'s own in-process execution API (FastAPI's
    test client over httpx), which a deployed Airflow does not use."""
    return [line for line in warnings if "starlette.testclient" not in line]


def test_a_normal_run_logs_no_warning_and_emits_events_only_for_changed_tables(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    """issue 20: the data tables' Assets are declared (``finish``'s inlets), so emitting their
    events logs no "AssetModel not found" / "inactive AssetModel" warning; a re-run that
    changes no row emits none."""
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, [("A001", "TD", 5), ("U010", "UC", 5)], _today())
        first = _dag_test(sqlite_airflow_home, db_url, crm, {})
        assert first["state"] == "success"
        assert _ours(first["warnings"]) == [], "\n".join(first["warnings"])
        assert [event["uri"] for event in first["asset_events"]] == [
            "orders-sync://orders/td_orders",
            "orders-sync://orders/td_sales",
            "orders-sync://orders/uc_orders",
        ]
        assert all(event["extra"]["rows_inserted"] > 0 for event in first["asset_events"])
        second = _dag_test(sqlite_airflow_home, db_url, crm, {})
        assert second["state"] == "success"
        assert (_ours(second["warnings"]), second["asset_events"]) == ([], [])
    finally:
        engine.dispose()


def test_a_rate_limited_crm_fails_no_window_of_a_dag_run(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    # interfaces.md "Source rate limits": the budget (its share per batch), and the 429s of a
    # CRM that allows only so many requests a second, are "later", never a failed window.
    crm.faults.limit_requests("td", 4, burst=4)
    crm.faults.limit_requests("uc", 4, burst=4)
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, [("A001", "TD", 40), ("A003", "TD", 40), ("U010", "UC", 40)], _today())
        env = airflow_env(
            sqlite_airflow_home, ORDERS_SYNC_DATABASE_URL=db_url, TD_API_MAX_RPS="4",
            **crm_env(crm),
        )  # fmt: skip
        result = run_probe("run_dag_test.py", [json.dumps({"window_days": 10})], env)
        assert result["state"] == "success", result
        [run_id] = profiler_run_ids(engine)
        assert {row["status"] for row in log_rows(engine, run_id)} == {"success"}
        assert summary_row(engine, run_id)["overall_status"] == "success"
        assert crm.faults.limited <= len(crm.faults.seen["td"]) * 0.05 + 1 + len(
            crm.faults.seen["uc"]
        )  # TD paced by its budget; UC's limit found from its 429s
    finally:
        engine.dispose()


def test_unknown_store_fails_the_run_and_writes_nothing(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, _today())
        result = _dag_test(sqlite_airflow_home, db_url, crm, {"store_code": "NOPE"})
        assert result["state"] == "failed"
        states = {ti["task_id"]: ti["state"] for ti in result["tis"]}
        assert states["start"] == "failed"
        assert profiler_run_ids(engine) == []
    finally:
        engine.dispose()


def test_a_missing_crm_url_fails_the_start_task_and_writes_nothing(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    """interfaces.md "Sources must be configured", for the DAG: a TD store and no TD URL (a
    missing ``td_crm`` connection) is refused by ``start``; no simulated orders are synced."""
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, STORES, _today())
        requests_before = crm.requests_total
        only_uc = {k: v for k, v in crm_env(crm).items() if not k.startswith("TD_")}
        env = airflow_env(sqlite_airflow_home, ORDERS_SYNC_DATABASE_URL=db_url, **only_uc)
        result = run_probe("run_dag_test.py", [json.dumps({})], env)
        assert result["state"] == "failed"
        states = {ti["task_id"]: ti["state"] for ti in result["tis"]}
        assert states["start"] == "failed"
        assert states["finish"] == "success" and states["check"] == "failed"
        assert profiler_run_ids(engine) == []
        with engine.connect() as conn:
            for table in ("orders_sync_log", "td_orders", "td_sales", "uc_orders"):
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 0
        assert crm.requests_total == requests_before
    finally:
        engine.dispose()


def test_no_orders_database_fails_at_once_and_starts_no_embedded_server(
    sqlite_airflow_home: Path, crm: SimulatorServer, tmp_path: Path
) -> None:
    """A worker without the ``orders_sync_db`` connection and without ORDERS_SYNC_DATABASE_URL
    fails its task; it never boots an embedded PostgreSQL of its own."""
    state_dir = tmp_path / "worker_state"
    env = airflow_env(sqlite_airflow_home, ORDERS_SYNC_STATE_DIR=str(state_dir), **crm_env(crm))
    result = run_probe("run_dag_test.py", [json.dumps({})], env)
    assert result["state"] == "failed"
    states = {ti["task_id"]: ti["state"] for ti in result["tis"]}
    assert states["start"] == "failed"
    assert not (state_dir / "pgdata").exists()


def test_more_plans_than_max_map_length_are_batched_and_sync_like_the_cli(
    sqlite_airflow_home: Path, db_url: str, other_db_url: str, crm: SimulatorServer
) -> None:
    """issue 14: 4 stores with ``max_map_length`` 2 (the cap is then one mapped task): every
    store is synced exactly as the CLI does, the failing store stops after its failed window
    while the others of its batch finish, the summary is written and the DAG run fails."""
    today = _today()
    stores = [*STORES, ("U011", "UC", 90)]
    _fail_store_from(crm, FAILING, today - dt.timedelta(days=60))
    dag_engine, cli_engine = sa.create_engine(db_url), sa.create_engine(other_db_url)
    try:
        for engine in (dag_engine, cli_engine):
            seed_stores(engine, stores, today)
        env = airflow_env(
            sqlite_airflow_home,
            ORDERS_SYNC_DATABASE_URL=db_url,
            AIRFLOW__CORE__MAX_MAP_LENGTH="2",
            **crm_env(crm),
        )
        result = run_probe("run_dag_test.py", [json.dumps(CONF)], env)
        cli = subprocess.run(
            [str(REPO / "scripts" / "orders_sync_run_profiler.sh"),
             "--window-days", "60", "--env", "dagtest", "--max-workers", "2"],
            env=clean_env(ORDERS_SYNC_DATABASE_URL=other_db_url, ORDERS_SYNC_TIMEZONE=TIMEZONE,
                          **crm_env(crm)),
            capture_output=True, text=True, timeout=240, check=False,
        )  # fmt: skip
        assert cli.returncode == 1, cli.stderr[-2000:]
        assert result["state"] == "failed"
        mapped = [ti for ti in result["tis"] if ti["task_id"] == "sync_store"]
        assert [(ti["label"], ti["state"]) for ti in mapped] == [
            ("A001 … U011 (4 plans)", "failed")
        ]
        states = {
            ti["task_id"]: ti["state"] for ti in result["tis"] if ti["task_id"] != "sync_store"
        }
        assert states == {"start": "success", "plan": "success", "finish": "success",
                          "check": "failed"}  # fmt: skip
        [dag_run_id] = profiler_run_ids(dag_engine)
        [cli_run_id] = profiler_run_ids(cli_engine)
        dag_rows, cli_rows = log_rows(dag_engine, dag_run_id), log_rows(cli_engine, cli_run_id)
        assert dag_rows == cli_rows
        assert [r["status"] for r in dag_rows if r["store_code"] == FAILING] == [
            "success",
            "failed",
        ]
        assert {r["store_code"] for r in dag_rows if r["status"] == "success"} == {
            "A001", "A002", "U010", "U011"
        }  # fmt: skip
        dag_summary = summary_row(dag_engine, dag_run_id)
        assert dag_summary["overall_status"] == "failed"
        assert dag_summary["summary_text"] == summary_row(cli_engine, cli_run_id)["summary_text"]
        assert _data_counts(dag_engine) == _data_counts(cli_engine)
        with dag_engine.connect() as conn:  # the kept plan ties each store to its mapped task
            batches = run_batches.latest_batches(conn)
        owners = {owner for owner, _ in batches.values()}
        assert len(owners) == 1 and next(iter(owners)).startswith("orders_sync_run_profiler/")
        assert {(store, index) for (store, _), (_, index) in batches.items()} == {
            ("A001", 0), ("A002", 0), ("U010", 0), ("U011", 0)
        }  # fmt: skip
    finally:
        dag_engine.dispose()
        cli_engine.dispose()
        dispose_engines()


def test_a_hung_store_hits_its_deadline_and_the_next_run_recovers(
    sqlite_airflow_home: Path, db_url: str, crm: SimulatorServer
) -> None:
    """issue 14: a store whose CRM hangs (every request 20 s) passes its batch's deadline
    (``ORDERS_SYNC_TASK_TIMEOUT`` 3 s): its window ends ``failed`` (``interrupted: ...``),
    the run is failed and written; the next run, the CRM healthy again, recovers."""
    engine = sa.create_engine(db_url)
    try:
        seed_stores(engine, [("A001", "TD", 3)], _today())
        env = airflow_env(
            sqlite_airflow_home,
            ORDERS_SYNC_DATABASE_URL=db_url,
            ORDERS_SYNC_TASK_TIMEOUT="3",
            **crm_env(crm),
        )
        crm.faults.set_latency(20.0)
        hung = run_probe("run_dag_test.py", [json.dumps({})], env)
        crm.faults.set_latency(0.0)
        assert hung["state"] == "failed"
        [first] = profiler_run_ids(engine)
        with engine.connect() as conn:
            [(status, error)] = conn.execute(
                sa.text("SELECT status, error_message FROM orders_sync_log WHERE run_id = :r"),
                {"r": first},
            ).all()
        assert status == "failed"
        assert error.startswith("interrupted: the batch ran past its deadline")
        assert summary_row(engine, first)["overall_status"] == "failed"

        healed = run_probe("run_dag_test.py", [json.dumps({})], env)
        assert healed["state"] == "success"
        second = next(r for r in profiler_run_ids(engine) if r != first)
        assert {r["status"] for r in log_rows(engine, second)} == {"success"}
    finally:
        engine.dispose()
