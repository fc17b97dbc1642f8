"""interfaces.md "Source rate limits", against a CRM that enforces one (the simulator's token
bucket, 429 + Retry-After beyond it): no window fails because of 429s — with the budget
configured the CRM sees at most R requests in any second, without it the limit is found and
the 429s stay few. Profiler processes, with threads and with worker processes."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from orders_sync.run_profiler.shards import shard_count
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli, observe
from tests.support.seeding import Store, seed_stores
from tests.support.simulation import assert_matches_truth, cli_env

R = 8


def _max_in_a_second(times: list[float]) -> int:
    return max((sum(1 for t in times if start <= t < start + 1.0) for start in times), default=0)


@pytest.fixture(params=["2", "4"], ids=["threads", "worker-processes"])
def workers(request: pytest.FixtureRequest) -> str:
    if request.param == "4" and shard_count(4, os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: 4 workers run as threads")
    return str(request.param)


@pytest.mark.parametrize("configured", [True, False], ids=["budget-configured", "limit-found"])
def test_a_rate_limited_crm_fails_no_window(
    engine: sa.Engine,
    db_url: str,
    live_sim: SimulatorServer,
    real_today: dt.date,
    workers: str,
    configured: bool,
) -> None:
    start = real_today - dt.timedelta(days=20)
    stores = [Store(f"A00{i}", "TD", start) for i in range(1, 5)]
    seed_stores(engine, stores)
    live_sim.faults.limit_requests("td", R, burst=R)
    extra = {"TD_API_MAX_RPS": str(R)} if configured else {}
    args = ["--window-days", "3", "--max-workers", workers]

    done = cli.run(args, cli_env(db_url, live_sim, **extra), timeout_s=240)

    assert done.returncode == 0, done.stderr
    entries = observe.log_entries(engine)
    assert {e.status for e in entries} == {"success"}
    seen = live_sim.faults.seen["td"]
    limited = live_sim.faults.limited
    if configured:
        # the whole run paced itself within R: the CRM never had to say 429 (its bucket holds
        # R); our bucket may send one more in a second than R (one token saved up per process)
        assert _max_in_a_second(seen) <= R + int(workers) // 2, seen
        assert limited <= len(seen) * 0.02 + 1, (limited, len(seen))
    else:
        assert limited > 0  # the limit had to be found
        assert limited <= len(seen) * 0.5, (limited, len(seen))  # counted and bounded
    for store in stores:
        assert_matches_truth(engine, live_sim, store.store_code, "TD", start, real_today)


def test_a_time_budget_stops_starting_windows_and_the_next_run_continues(
    engine: sa.Engine, db_url: str, live_sim: SimulatorServer, real_today: dt.date
) -> None:
    start = real_today - dt.timedelta(days=60)
    stores = [Store(f"A00{i}", "TD", start) for i in range(1, 4)]
    seed_stores(engine, stores)
    live_sim.faults.set_latency(0.3)
    env = cli_env(db_url, live_sim)
    args = ["--window-days", "5", "--max-workers", "2"]

    first = cli.run([*args, "--time-budget", "2"], env, timeout_s=120)

    assert first.returncode == 0, first.stderr  # a spent budget is no failure
    (run,) = observe.profiler_summaries(engine)
    assert run["overall_status"] == "success", run
    entries = observe.log_entries(engine)
    assert entries and {e.status for e in entries} == {"success"}  # in flight: finished
    assert len(entries) < 3 * 13  # not every window ran
    assert observe.running_rows(engine) == []

    live_sim.faults.set_latency(0.0)
    second = cli.run(args, env, timeout_s=120)
    assert second.returncode == 0, second.stderr
    for store in stores:
        assert_matches_truth(engine, live_sim, store.store_code, "TD", start, real_today)
