"""Faults under a real scheduler (issue "The DAG survives a real deployment's restarts"), one
per test: a finished ``sync_store`` cleared and run again; the orders database restarted under
a DAG run, and down for 20 s; the scheduler killed (the local stack restarts it, and the new
scheduler resets its predecessor's tasks once their heartbeat is stale); a task process
killed; a task's supervisor killed. Each ends with the run's true outcome — success, since
only infrastructure blinked — nothing ``running``, no duplicate key, every window logged once
per run (a retry is the same row, ``attempt_no`` + 1), no store recorded as not synced.

The local stack runs with ``orphaned_tasks_check_interval`` 30 s and
``task_instance_heartbeat_timeout`` 60 s (Airflow's defaults: 300 s each) so that a lost
scheduler or supervisor heals within a test's minute or two."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from typing import Any

import pendulum
import psutil
import pytest
import sqlalchemy as sa

from orders_sync_devtools import embedded_postgres as embedded
from orders_sync_devtools.simulator.dataset import SimulatedDataset
from orders_sync_devtools.simulator.server import DEFAULT_SEED
from tests.dags.conftest import (
    DAG_ID,
    TIMEZONE,
    RunningStack,
    log_rows,
    profiler_run_ids,
    seed_stores,
    summary_row,
)
from tests.dags.test_scheduler import STORES, _simulator, _today

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(airflow_stack: RunningStack, db_url: str) -> RunningStack:
    airflow_stack.use_orders_database(db_url)
    _simulator(airflow_stack, "reset", {})
    return airflow_stack


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
        before = log_rows(engine, run_id)

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
        assert log_rows(engine, run_id) == before  # finished plans not run again: same rows
        assert summary_row(engine, run_id)["overall_status"] == "success"
        assert _duplicates(engine) == 0
    finally:
        engine.dispose()


def _rows_exist(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(
                conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM orders_sync_log)")).scalar()
            )
    except sa.exc.OperationalError:
        return False


def _stack_pids(stack: RunningStack) -> dict[str, int]:
    pids: dict[str, int] = json.loads((stack.logs_dir.parent / "components.json").read_text())
    return pids


def _running_sync_store(stack: RunningStack, dag_run_id: str) -> dict[str, Any]:
    """A ``sync_store`` instance that is running a window now."""
    deadline = time.monotonic() + 120
    while True:
        for ti in stack.api.task_instances(DAG_ID, dag_run_id):
            if ti["task_id"] == "sync_store" and ti["state"] == "running":
                return ti
        assert time.monotonic() < deadline, "no sync_store started"
        time.sleep(0.3)


def _task_process(ti: dict[str, Any]) -> psutil.Process:
    """The task process of a task instance: titled exactly ``airflow worker -- <ti id>`` by
    the task runner (its supervisor, the LocalExecutor worker that forked it, is titled
    ``airflow worker -- LocalExecutor: …``)."""
    title = f"airflow worker -- {ti['id']}"
    deadline = time.monotonic() + 30
    while True:
        for proc in psutil.process_iter(["cmdline"]):
            if " ".join(proc.info["cmdline"] or ()).strip() == title:
                return proc
        assert time.monotonic() < deadline, f"no task process of {ti['id']}"
        time.sleep(0.2)


def _source_keys(today: dt.date, now: dt.datetime) -> dict[str, set[tuple[str, str]]]:
    """Every key the CRM simulator serves at ``now`` for the stores' whole history."""
    dataset = SimulatedDataset(DEFAULT_SEED)
    keys: dict[str, set[tuple[str, str]]] = {"td_orders": set(), "td_sales": set(),
                                             "uc_orders": set()}  # fmt: skip
    for code, group, days in STORES:
        first = today - dt.timedelta(days=days)
        if group == "TD":
            keys["td_orders"] |= {(code, o.order_number)
                                  for o in dataset.td_orders(code, first, today, now)}  # fmt: skip
            keys["td_sales"] |= {(code, s.transaction_id)
                                 for s in dataset.td_sales(code, first, today, now)}  # fmt: skip
        else:
            keys["uc_orders"] |= {(code, g.invoice_no)
                                  for g in dataset.uc_gst(code, first, today, now)}  # fmt: skip
    return keys


def _stored_keys(engine: sa.Engine) -> dict[str, set[tuple[str, str]]]:
    columns = {"td_orders": "order_number", "td_sales": "transaction_id", "uc_orders": "invoice_no"}
    with engine.connect() as conn:
        return {
            table: {
                (str(a), str(b))
                for a, b in conn.execute(sa.text(f"SELECT store_code, {key} FROM {table}"))
            }  # fmt: skip
            for table, key in columns.items()
        }


def _run_through_a_fault(
    stack: RunningStack, db_url: str, fault: Callable[[dict[str, Any]], None]
) -> None:
    """Trigger a run of the 8 stores (150 ms per request; the CRM's clock frozen), apply
    ``fault`` once a ``sync_store`` is mid-window, and check the run ends as if nothing
    happened: its data equal to the source's, and no alert sent."""
    from tests.support.receivers import webhook_receiver

    engine = sa.create_engine(db_url)
    today = _today()
    now = pendulum.now(TIMEZONE).replace(microsecond=0)
    with webhook_receiver() as receiver:
        stack.api.upsert_connections(
            [{"connection_id": "orders_sync_alerts", "conn_type": "http", "host": receiver.url}]
        )
        try:
            seed_stores(engine, STORES, today)
            _simulator(stack, "clock", {"now": now.isoformat()})
            _simulator(stack, "faults", {"latency_ms": 150})
            run = stack.api.trigger(DAG_ID, {"max_workers": 3, "window_days": 30})
            deadline = time.monotonic() + 120
            while not _rows_exist(engine):
                assert time.monotonic() < deadline, "no window started"
                time.sleep(0.2)
            fault(run)
            engine.dispose()
            finished = stack.api.wait_for_run(DAG_ID, run["dag_run_id"], timeout_s=420)
            tis = stack.api.task_instances(DAG_ID, run["dag_run_id"])
            [run_id] = profiler_run_ids(engine)
            summary = summary_row(engine, run_id)
            with engine.connect() as conn:
                outcomes = {
                    (row.store_code, row.outcome)
                    for row in conn.execute(
                        sa.text("SELECT store_code, outcome FROM orders_sync_run_outcomes "
                                "WHERE run_id = :r"), {"r": run_id})
                }  # fmt: skip
                running = conn.execute(
                    sa.text("SELECT count(*) FROM orders_sync_log WHERE status = 'running'")
                ).scalar_one()
            assert finished["state"] == "success", (
                [(ti["task_id"], ti["map_index"], ti["state"], ti.get("try_number"))
                 for ti in tis], outcomes, summary,
            )  # fmt: skip
            assert summary["overall_status"] == "success", summary
            assert outcomes == set()  # the table records the stores that did not sync: none
            rows = log_rows(engine, run_id)
            assert {r["store_code"] for r in rows} == {code for code, _, _ in STORES}
            windows = [(r["store_code"], r["from_date"], r["to_date"]) for r in rows]
            assert len(windows) == len(set(windows))  # each window once per run
            assert rows and {row["status"] for row in rows} == {"success"}
            assert running == 0 and _duplicates(engine) == 0
            assert _stored_keys(engine) == _source_keys(today, now)  # equal to the source
            time.sleep(2)
            assert receiver.posts == []  # a successful run alerts nobody
        finally:
            _simulator(stack, "reset", {})
            _simulator(stack, "clock", {"real": True})
            stack.api.request("DELETE", "/connections/orders_sync_alerts")
            engine.dispose()


@pytest.mark.parametrize("down_s", [0, 20], ids=["restarted", "down-20s"])
def test_the_orders_database_restarted_or_down_under_a_dag_run_is_waited_out(
    stack: RunningStack, db_url: str, pg_server: Any, down_s: float
) -> None:
    if not isinstance(pg_server, embedded.EmbeddedServer):
        pytest.skip("stops the test's own embedded server")
    _run_through_a_fault(stack, db_url, lambda run: embedded.restart(pg_server, down_s=down_s))


def test_a_killed_scheduler_is_restarted_and_the_run_heals(
    stack: RunningStack, db_url: str
) -> None:
    def kill_scheduler(run: dict[str, Any]) -> None:
        _running_sync_store(stack, run["dag_run_id"])
        old = _stack_pids(stack)["scheduler"]
        psutil.Process(old).kill()
        deadline = time.monotonic() + 30
        while _stack_pids(stack)["scheduler"] == old:  # the stack restarts it
            assert time.monotonic() < deadline, "the stack did not restart the scheduler"
            time.sleep(0.2)
        # nothing of the old scheduler is left alive: no worker, supervisor or task process
        # (killed, they are zombies until this container's PID 1 reaps them, if it does)
        assert not [p for p in psutil.process_iter() if _session(p) == old and _alive(p)]

    _run_through_a_fault(stack, db_url, kill_scheduler)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _session(proc: psutil.Process) -> int | None:
    try:
        return os.getsid(proc.pid)
    except (ProcessLookupError, PermissionError):
        return None


def test_a_killed_task_process_is_retried_from_the_log(stack: RunningStack, db_url: str) -> None:
    def kill_task(run: dict[str, Any]) -> None:
        _task_process(_running_sync_store(stack, run["dag_run_id"])).kill()

    _run_through_a_fault(stack, db_url, kill_task)


def test_a_task_whose_supervisor_is_killed_stops_and_is_retried(
    stack: RunningStack, db_url: str
) -> None:
    def kill_supervisor(run: dict[str, Any]) -> None:
        task = _task_process(_running_sync_store(stack, run["dag_run_id"]))
        supervisor = task.parent()
        assert supervisor is not None
        assert " ".join(supervisor.cmdline()).startswith("airflow worker -- LocalExecutor")
        supervisor.kill()
        # unsupervised, the task process starts no new window and ends soon
        task.wait(timeout=120)

    _run_through_a_fault(stack, db_url, kill_supervisor)
