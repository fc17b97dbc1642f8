"""A run split over worker processes (``run_profiler.shards``): the same windows, statuses and
summary as threads; every window reported to the parent; a worker process that dies costs
its own stores only and leaves nothing running. Stop, kill -9 and a dead database with
worker processes: ``test_cli_resilience`` (its ``worker-processes`` cases)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason, deal_by_work
from orders_sync.run_profiler import execution
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.shards import shard_count, workers_of
from orders_sync.runs.results import WindowReport
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores

STORES = [Store(f"A{n:03d}", "TD", dt.date(2026, 1, 1)) for n in range(1, 6)] + [
    Store("U001", "UC", dt.date(2026, 1, 1))
]
RUN_TABLES = ("orders_sync_log", "pipeline_run_summaries", "td_orders", "td_sales", "uc_orders")
needs_two_cpus = pytest.mark.skipif(
    shard_count(4, os.cpu_count() or 1) < 2, reason="one CPU: 4 workers run as threads"
)


def run(settings: Settings, workers: int, seen: list[WindowReport] | None = None) -> ProfilerRun:
    return run_profiler(
        get_engine(settings),
        ProfilerOptions(env="test", window_days=7, max_workers=workers),
        settings,
        today=TODAY,
        on_window=seen.append if seen is not None else None,
    )


def outcome(engine: sa.Engine, run_id: str) -> list[tuple[str, str, dt.date, dt.date, str]]:
    return sorted(
        (e.store_code, e.pipeline, e.from_date, e.to_date, e.status)
        for e in observe.log_entries(engine, run_id=run_id)
    )


@needs_two_cpus
def test_worker_processes_do_what_threads_do(settings: Settings, sim: SimulatorServer) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES)
    seen: list[WindowReport] = []
    split = run(settings, 4, seen)
    assert split.outcome.overall_status == "success", split.outcome.summary_text
    windows = outcome(engine, split.outcome.run_id)
    assert len(windows) == 3 * len(STORES) and {w[-1] for w in windows} == {"success"}
    assert sorted((r.store_code, r.from_date) for r in seen) == sorted(
        (w[0], w[2]) for w in windows
    ), "every window of every worker process reached the parent's on_window"
    assert sorted(r.store_code for r in split.results) == sorted(s.store_code for s in STORES)

    with engine.begin() as conn:  # forget the run: threads start from the same state
        conn.execute(sa.text(f"TRUNCATE {', '.join(RUN_TABLES)} RESTART IDENTITY CASCADE"))
    threads = run(settings, 2)
    assert [w[:4] for w in outcome(engine, threads.outcome.run_id)] == [w[:4] for w in windows]
    assert threads.outcome.summary_text == split.outcome.summary_text
    assert observe.running_rows(engine) == []


@needs_two_cpus
def test_a_worker_process_that_dies_costs_its_stores_only(
    settings: Settings, sim: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES)
    step = execution._step

    def die_on_a003(steps, job, on_window):  # type: ignore[no-untyped-def]
        if job.store_code == "A003":
            os._exit(137)  # the worker process dies mid-window, as the OOM killer does
        return step(steps, job, on_window)

    monkeypatch.setattr(execution, "_step", die_on_a003)
    broken = run(settings, 4)
    monkeypatch.undo()

    crashed = {r.store_code for r in broken.results if r.crashed}
    assert "A003" in crashed
    assert broken.outcome.overall_status == "failed"
    assert observe.running_rows(engine) == [], "nothing is left running"
    survivors = {e.store_code for e in observe.log_entries(engine, run_id=broken.outcome.run_id)}
    assert survivors - crashed, "the other worker process's stores were synced"

    after = run(settings, 4)
    assert after.outcome.overall_status == "success", after.outcome.summary_text
    assert observe.running_rows(engine) == []


TD = PipelineRef("td_orders_sync", 1)


def job(code: str, days: int) -> Job:
    day = dt.date(2026, 1, 1)
    window = PlannedWindow(day, day + dt.timedelta(days=days - 1), (WindowReason.MISSING,))
    return Job(code, None, TD, (window,))


def test_shards_are_per_cpu_with_two_workers_each_and_balanced() -> None:
    assert [shard_count(m, 2) for m in (1, 2, 3, 4, 5, 8)] == [1, 1, 1, 2, 2, 2]
    assert shard_count(8, 1) == 1 and shard_count(8, 8) == 4
    assert workers_of(5, 2) == [3, 2] and sum(workers_of(9, 4)) == 9
    dealt = deal_by_work([job("A", 90), job("B", 30), job("C", 30), job("D", 30), job("E", 5)], 2)
    assert [[j.store_code for j in shard] for shard in dealt] == [["A", "E"], ["B", "C", "D"]]
