"""No run left "running": kill -9 at random points, live runs untouched, Airflow ownership."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT, get_settings
from orders_sync.db.repositories import run_summaries, stores
from orders_sync.runs import lifecycle
from orders_sync.runs import liveness as run_lifecycle
from orders_sync_devtools.simulator.server import SimulatorServer

TD_STORES = ("K001", "K002")
UC_STORES = ("KU01",)


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    """A simulator frozen at the test's start, so the truth does not move under the test."""
    server = SimulatorServer(clock=pendulum.now("Asia/Kolkata"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def seeded(engine: sa.Engine) -> dt.date:
    today = get_settings().today()
    start = today - dt.timedelta(days=34)
    with engine.begin() as conn:
        stores.insert_stores(
            conn,
            [
                {
                    "store_code": code,
                    "store_name": code,
                    "sync_group": group,
                    "cost_center": "CC1",
                    "start_date": start,
                }  # fmt: skip
                for group, codes in (("TD", TD_STORES), ("UC", UC_STORES))
                for code in codes
            ],
        )
    return start


def _cli_env(db_url: str, simulator: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ORDERS_SYNC_DATABASE_URL": db_url,
        "ORDERS_SYNC_STATE_DIR": str(tmp_path / "state"),
        "TD_API_BASE_URL": simulator.base_url,
        "UC_API_BASE_URL": simulator.base_url,
        "TD_API_TOKEN": "td-secret",
        "UC_API_TOKEN": "uc-secret",
    }


def _profiler(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orders_sync.run_profiler.main",
            "--log-format",
            "json",
            "--window-days",
            "7",
            "--max-workers",
            "2",
            *args,
        ],  # fmt: skip
        env=env,
        cwd=REPOSITORY_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _scalar(engine: sa.Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def _wait_for(engine: sa.Engine, sql: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _scalar(engine, sql):
        assert time.monotonic() < deadline, f"timed out waiting for: {sql}"
        time.sleep(0.05)


def test_kill_9_at_random_points_then_one_clean_run_leaves_nothing_running(
    engine: sa.Engine, db_url: str, simulator: SimulatorServer, seeded: dt.date, tmp_path: Path
) -> None:
    env = _cli_env(db_url, simulator, tmp_path)
    # Slow enough that a run outlasts the longest wait below (2 s), so each kill lands
    # mid-run: with 50 ms the runs became fast enough to finish before some kills.
    simulator.faults.set_latency(0.2)
    rng = random.Random(20261122)
    killed = 0
    for _ in range(4):
        proc = _profiler(env, "--force")
        time.sleep(rng.uniform(0.2, 2.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.communicate()
    assert killed >= 3, "the runs should have been killed mid-way"
    simulator.faults.set_latency(0.0)
    clean = _profiler(env)
    out, err = clean.communicate(timeout=120)
    assert clean.returncode == 0, err

    with engine.connect() as conn:
        left_running = conn.execute(
            sa.text("SELECT count(*) FROM pipeline_run_summaries WHERE overall_status = 'running'")
        ).scalar_one()
        windows_running = conn.execute(
            sa.text("SELECT count(*) FROM orders_sync_log WHERE status = 'running'")
        ).scalar_one()
        summaries = conn.execute(
            sa.text("SELECT overall_status, summary_text FROM pipeline_run_summaries")
        ).all()
        td_keys = set(conn.execute(sa.text("SELECT store_code, order_number FROM td_orders")).all())
        sale_keys = set(
            conn.execute(sa.text("SELECT store_code, transaction_id FROM td_sales")).all()
        )
        uc_keys = set(conn.execute(sa.text("SELECT store_code, invoice_no FROM uc_orders")).all())
    assert left_running == 0
    assert windows_running == 0
    # A run killed before it wrote its summary leaves nothing to close; every other killed
    # run is closed as abandoned, and only the clean run succeeded.
    abandoned = [text for status, text in summaries if status == "failed"]
    succeeded = [text for status, text in summaries if status == "success"]
    assert len(abandoned) + len(succeeded) == len(summaries)
    assert len(succeeded) == 1 + (4 - killed)  # the clean run, and any run that beat its kill
    assert 1 <= len(abandoned) <= killed
    assert all(text.startswith("abandoned: its process ") for text in abandoned)
    today = get_settings().today()
    truth_td = {(s, o.order_number) for s in TD_STORES
                for o in simulator.truth_td_orders(s, seeded, today)}  # fmt: skip
    truth_sales = {(s, x.transaction_id) for s in TD_STORES
                   for x in simulator.truth_td_sales(s, seeded, today)}  # fmt: skip
    truth_uc = {(s, g.invoice_no) for s in UC_STORES
                for g in simulator.truth_uc_gst(s, seeded, today)}  # fmt: skip
    assert td_keys == truth_td  # nothing lost; unique keys mean nothing duplicated
    assert sale_keys == truth_sales
    assert uc_keys == truth_uc


def test_a_live_run_is_never_closed_by_another_run(
    engine: sa.Engine, db_url: str, simulator: SimulatorServer, seeded: dt.date, tmp_path: Path
) -> None:
    env = _cli_env(db_url, simulator, tmp_path)
    simulator.faults.set_latency(0.15)  # a slow, live run
    slow = _profiler(env)
    _wait_for(engine, "SELECT count(*) > 0 FROM orders_sync_log WHERE status = 'running'")
    slow_run_id = _scalar(
        engine, "SELECT run_id FROM pipeline_run_summaries WHERE overall_status = 'running'"
    )

    assert run_lifecycle.close_abandoned_runs(engine) == []
    other = _profiler(env)  # a concurrent run: closes abandoned runs at start
    other.communicate(timeout=120)
    assert _scalar(
        engine,
        "SELECT overall_status FROM pipeline_run_summaries WHERE run_id = :r",
        r=slow_run_id,
    ) in ("running", "success")

    _, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err
    assert (
        _scalar(
            engine,
            "SELECT overall_status FROM pipeline_run_summaries WHERE run_id = :r",
            r=slow_run_id,
        )
        == "success"
    )


def _open_run(engine: sa.Engine, run_id: str | None = None, **owner: str) -> str:
    """A profiler run opened by the lifecycle, as every front end opens one."""
    run_id = run_id or run_summaries.new_run_id("orders_sync_run_profiler")
    lifecycle.open_run(
        engine,
        run_id=run_id,
        pipeline_name="orders_sync_run_profiler",
        run_env="dev",
        report_date=dt.date(2026, 1, 20),
        **owner,  # type: ignore[arg-type]
    )
    return run_id


def test_airflow_runs_are_closed_only_by_their_own_dags_next_run(engine: sa.Engine) -> None:
    old = _open_run(engine, owner_kind=run_summaries.AIRFLOW_OWNER, owner="orders_sync/run-1")
    other_dag = _open_run(engine, owner_kind=run_summaries.AIRFLOW_OWNER, owner="another_dag/run-1")

    assert run_lifecycle.close_abandoned_runs(engine) == []  # a CLI run never closes them
    closed = run_lifecycle.close_abandoned_runs(
        engine, airflow_owner_prefix="orders_sync/", current_owner="orders_sync/run-2"
    )
    assert closed == [old]
    with engine.connect() as conn:
        old_row = run_summaries.get_run(conn, old)
        other_row = run_summaries.get_run(conn, other_dag)
    assert old_row is not None and old_row.overall_status == "failed"
    assert old_row.summary_text is not None and old_row.summary_text.startswith("abandoned: ")
    assert other_row is not None and other_row.overall_status == "running"


def test_a_process_run_whose_owner_died_is_closed(engine: sa.Engine) -> None:
    # A run started by this process but not holding its lock looks exactly like a dead one.
    run_id = _open_run(engine)
    assert run_lifecycle.close_abandoned_runs(engine) == [run_id]
    with run_lifecycle.hold_run(engine, "held-run"):
        held = _open_run(engine, "held-run")
        assert run_lifecycle.close_abandoned_runs(engine) == []
    assert held == "held-run"


def test_a_connection_dropped_while_a_store_is_claimed_is_waited_out(engine: sa.Engine) -> None:
    """issue 22: the database drops the connection sorting a store's running rows (a real
    ``pg_terminate_backend`` of that very session, at that statement): the claim waits for
    the database, checks its lock and sorts again — the job is not a crash."""
    from orders_sync.runs.claims import claim_store
    from tests.support.seeding import LogRow, seed_log

    day = dt.date(2026, 11, 30)
    seed_log(engine, [LogRow("A001", day, day, "running")], run_id="a-dead-run")
    fired: list[int] = []

    def drop_it(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not fired and "'running'" in statement and "orders_sync_log" in statement:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
                admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            fired.append(pid)

    sa.event.listen(engine, "before_cursor_execute", drop_it)
    try:
        with claim_store(engine, "A001", "the-claiming-run") as claim:
            assert claim.acquired and claim.closed == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", drop_it)
    assert fired  # the connection really was dropped under the claim
    with engine.connect() as conn:
        status, reason = conn.execute(
            sa.text("SELECT status, close_reason FROM orders_sync_log WHERE run_id = 'a-dead-run'")
        ).one()
    assert (status, reason) == ("failed", "abandoned")
