"""Profiler processes under stress: two at once, ``kill -9`` mid-window, the database going
away mid-run, SIGTERM. Each time the next run must recover: nothing left ``running``, every
summary closed, the data complete against the simulator's truth.

The simulator's latency makes windows slow enough to be caught in flight; the tests wait
for a log row to appear rather than for a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import threading
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.run_profiler.shards import shard_count
from orders_sync_devtools import embedded_postgres as embedded
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli, observe
from tests.support.seeding import Store, seed_stores
from tests.support.simulation import assert_matches_truth, cli_env

ARGS = ["--window-days", "7", "--max-workers", "2"]


@pytest.fixture(params=["2", "4"], ids=["threads", "worker-processes"])
def args(request: pytest.FixtureRequest) -> list[str]:
    """2 workers run as threads of the CLI's process; 4 on 2+ CPUs as 2 worker processes
    (``orders_sync.run_profiler.shards``), whose stop, kill and crash paths differ."""
    if request.param == "4" and shard_count(4, os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: 4 workers run as threads")
    return ["--window-days", "7", "--max-workers", request.param]


def stores(today: dt.date) -> list[Store]:
    start = today - dt.timedelta(days=20)
    return [
        Store("A001", "TD", start),
        Store("A002", "TD", start),
        Store("A003", "TD", start),
        Store("U001", "UC", start),
    ]


def assert_recovered(engine: sa.Engine, sim: SimulatorServer, today: dt.date) -> None:
    """Nothing ``running``, every summary closed, every store's data equal to the truth."""
    assert observe.running_rows(engine) == []
    for summary in observe.profiler_summaries(engine):
        assert summary["overall_status"] != "running", summary
        assert summary["finished_at"] is not None, summary
    for store in stores(today):
        assert_matches_truth(
            engine, sim, store.store_code, store.sync_group, store.start_date, today
        )


def first_log_row_exists(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM orders_sync_log)")).scalar_one()


def assert_no_traceback(finished: cli.Finished) -> None:
    assert "Traceback" not in finished.stderr, finished.stderr


# --------------------------------------------------------------------------------------


def test_two_processes_at_once_never_run_a_store_twice(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    live_sim.faults.set_latency(0.1)
    env = cli_env(db_url, live_sim)

    processes = [cli.start(ARGS, env), cli.start(ARGS, env, wrapper=True)]
    finished = [cli.wait(process) for process in processes]

    for result in finished:
        assert result.returncode == 0, result.stderr
        assert_no_traceback(result)
    runs = observe.profiler_summaries(engine)
    assert len(runs) == 2
    entries = observe.log_entries(engine)
    # no store ever had two windows open at once, across both processes
    assert set(observe.store_overlaps(entries).values()) == {1}
    for run in runs:
        assert run["overall_status"] == "success"
        own = [e for e in entries if e.run_id == run["run_id"]]
        counts = observe.summary_counts(run["summary_text"])
        skipped = counts.get("", {}).get("skipped_stores", 0)
        # every store was either synced by this run or skipped (locked by the other)
        assert len({e.store_code for e in own}) + skipped == len(stores(real_today))
        for pipeline in ("td_orders_sync", "uc_orders_sync"):
            logged = sum(1 for e in own if e.pipeline == pipeline)
            assert counts.get(pipeline, {}).get("success", 0) == logged
    # the two runs overlapped in time, so the test did exercise the locks
    first, second = runs
    assert second["started_at"] < first["finished_at"]
    assert_recovered(engine, live_sim, real_today)


def test_kill_9_mid_window_then_next_run_recovers(
    args: list[str], engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    seed_stores(engine, stores(real_today))
    live_sim.faults.set_latency(0.3)
    env = cli_env(db_url, live_sim)

    process = cli.start(args, env)
    cli.wait_until(lambda: first_log_row_exists(engine), what="the first log row", process=process)
    process.send_signal(signal.SIGKILL)
    assert cli.wait(process).returncode == -signal.SIGKILL
    stuck = observe.running_rows(engine)
    assert stuck, "the kill must leave a window running"
    (killed_run,) = observe.profiler_summaries(engine)
    assert killed_run["overall_status"] == "running"

    live_sim.faults.set_latency(0.0)
    after = cli.run(args, env)

    assert after.returncode == 0, after.stderr
    assert_recovered(engine, live_sim, real_today)
    closed = {e.id: e for e in observe.log_entries(engine)}
    for row in stuck:
        assert closed[row.id].status == "failed"
        assert (closed[row.id].error_message or "").startswith("abandoned")
    killed = observe.summary(engine, killed_run["run_id"])
    assert killed["overall_status"] == "failed"


@contextlib.contextmanager
def database_down(server: embedded.EmbeddedServer, name: str) -> Iterator[threading.Event]:
    """Refuse new connections to ``name`` and keep terminating its sessions until the block
    ends; then accept connections again."""
    stop = threading.Event()

    def keep_killing() -> None:
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            while not stop.is_set():
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                stop.wait(0.05)

    killer = threading.Thread(target=keep_killing, name="db-killer", daemon=True)
    killer.start()
    try:
        yield stop
    finally:
        stop.set()
        killer.join(timeout=10)
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def test_database_going_away_mid_run_fails_cleanly_then_recovers(
    args: list[str],
    engine: sa.Engine,
    db_url: str,
    pg_server: embedded.EmbeddedServer,
    live_sim: SimulatorServer,
    real_today: dt.date,
) -> None:
    seed_stores(engine, stores(real_today))
    live_sim.faults.set_latency(0.2)
    # down for longer than the run waits for it (ORDERS_SYNC_DATABASE_WAIT)
    env = cli_env(db_url, live_sim, ORDERS_SYNC_DATABASE_WAIT="2")
    name = sa.make_url(db_url).database
    assert name

    process = cli.start(args, env)
    cli.wait_until(lambda: first_log_row_exists(engine), what="the first log row", process=process)
    with database_down(pg_server, name):
        down = cli.wait(process)

    assert down.returncode == 1, down.stderr
    assert_no_traceback(down)
    last = down.stderr_lines()[-1]
    assert last.startswith("error:") and "accepting connections" in last, down.stderr

    engine.dispose()  # the test's own pooled connections were terminated too
    live_sim.faults.set_latency(0.0)
    after = cli.run(args, env)

    assert after.returncode == 0, after.stderr
    assert_recovered(engine, live_sim, real_today)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_run_writes_the_summary_and_leaves_nothing_running(
    args: list[str],
    engine: sa.Engine,
    db_url: str,
    live_sim: SimulatorServer,
    real_today: dt.date,
    signum: signal.Signals,
) -> None:
    seed_stores(engine, stores(real_today))
    live_sim.faults.set_latency(0.3)
    env = cli_env(db_url, live_sim)

    process = cli.start(args, env)
    cli.wait_until(lambda: first_log_row_exists(engine), what="the first log row", process=process)
    os.kill(process.pid, signum)
    stopped = cli.wait(process)

    assert stopped.returncode == 1, stopped.stderr
    assert_no_traceback(stopped)
    (run,) = observe.profiler_summaries(engine)
    assert run["overall_status"] == "failed"
    assert run["finished_at"] is not None
    assert observe.running_rows(engine) == []
    entries = observe.log_entries(engine, run_id=run["run_id"])
    assert len(entries) < 3 * len(stores(real_today))  # it stopped taking new windows
    assert run["run_id"] in stopped.stdout

    live_sim.faults.set_latency(0.0)
    after = cli.run(args, env)
    assert after.returncode == 0, after.stderr
    assert_recovered(engine, live_sim, real_today)


@pytest.fixture
def own_server() -> Iterator[embedded.EmbeddedServer]:
    """A PostgreSQL of this test's own (migrated), which it may restart."""
    with embedded.throwaway_server("orders_sync_blip_") as server:
        yield server


@pytest.mark.parametrize("down_s", [0.0, 8.0], ids=["restart", "down-8s"])
def test_a_database_blip_mid_run_is_waited_out_and_the_run_succeeds(
    own_server: embedded.EmbeddedServer,
    live_sim: SimulatorServer,
    real_today: dt.date,
    down_s: float,
) -> None:
    url = own_server.url()
    engine = sa.create_engine(url)
    try:
        seed_stores(engine, stores(real_today))
        live_sim.faults.set_latency(0.3)
        env = cli_env(url, live_sim, ORDERS_SYNC_DATABASE_WAIT="60")
        process = cli.start(ARGS, env)
        cli.wait_until(
            lambda: first_log_row_exists(engine), what="the first log row", process=process
        )
        engine.dispose()
        embedded.restart(own_server, down_s=down_s)
        finished = cli.wait(process, timeout_s=180)

        assert finished.returncode == 0, finished.stderr
        assert_no_traceback(finished)
        # Every session was cut mid-run (the store locks' too): the run noticed, took its
        # locks again, retried what the restart broke, and only infrastructure blinked.
        (run,) = observe.profiler_summaries(engine)
        assert run["overall_status"] == "success", run
        entries = observe.log_entries(engine)
        assert {e.status for e in entries} == {"success"}
        assert_recovered(engine, live_sim, real_today)
    finally:
        engine.dispose()
