"""Progress on long runs: lines every few seconds with windows done / planned, rows, elapsed,
ETA — text on a terminal, JSON log lines otherwise (the CLI's log formatter)."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from orders_sync.cli import JsonLineFormatter
from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores


def test_a_long_run_logs_progress_lines_as_json(
    settings: Settings, sim: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store(f"A00{i}", "TD", TODAY.replace(day=1)) for i in range(1, 4)])
    sim.faults.set_latency(0.05)
    caplog.set_level(logging.INFO, logger="orders_sync.run_profiler.progress")

    run = run_profiler(
        engine,
        ProfilerOptions(env="test", window_days=3, max_workers=1),
        dataclasses.replace(settings, progress_interval_s=0.2),
        today=TODAY,
    )

    planned = sum(len(job.windows) for job in run.jobs)
    lines = [r for r in caplog.records if r.getMessage().startswith("progress: ")]
    assert len(lines) >= 3  # some while running, one at the end
    done = [r.__dict__["windows_done"] for r in lines]
    assert done == sorted(done) and done[-1] == planned and done[0] < planned
    assert all(r.__dict__["windows_planned"] == planned for r in lines)
    assert lines[-1].__dict__["rows_fetched"] == sum(
        w.rows_fetched for result in run.results for w in result.windows
    )
    as_json = json.loads(JsonLineFormatter().format(lines[-1]))
    assert as_json["windows_done"] == planned and as_json["eta_s"] == 0.0
    assert as_json["message"].startswith(f"progress: {planned}/{planned} windows, ")
