"""Parallel execution (§D 4): at most ``--max-workers`` windows at once, and that many
reached; one store never runs two windows at once; a store's windows run in order.

Concurrency is measured twice, never by timing: the simulator's in-flight gauge (the
most API requests answered at once) and the ``[created_at, updated_at]`` intervals of the
log rows (a window is open from its ``running`` insert to its final update). The
simulator's 50 ms latency per request makes every window last long enough to overlap.
"""

from __future__ import annotations

import datetime as dt

import pytest

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores

LATENCY_S = 0.05
STORES = [Store(f"A00{n}", "TD", dt.date(2026, 1, 1)) for n in range(1, 5)] + [
    Store(f"U00{n}", "UC", dt.date(2026, 1, 1)) for n in range(1, 3)
]  # six stores, three 7-day windows each


@pytest.mark.parametrize("max_workers", [1, 2, 4], ids=lambda n: f"max-workers={n}")
def test_concurrency_is_capped_reached_and_serial_per_store(
    settings: Settings, sim: SimulatorServer, max_workers: int
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES)
    sim.faults.set_latency(LATENCY_S)

    result = run_profiler(
        engine,
        ProfilerOptions(env="test", window_days=7, max_workers=max_workers),
        settings,
        today=TODAY,
    )

    assert result.outcome.overall_status == "success"
    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert len(entries) == 3 * len(STORES)
    intervals = [(e.created_at, e.updated_at) for e in entries]
    assert observe.max_overlap(intervals) == max_workers  # never more, and reached
    assert 1 <= sim.in_flight_max <= max_workers
    assert set(observe.store_overlaps(entries).values()) == {1}
    for store in STORES:  # in date order, each starting after the previous one ended
        own = [e for e in entries if e.store_code == store.store_code]
        assert [e.from_date for e in own] == sorted(e.from_date for e in own)
        assert all(a.updated_at <= b.created_at for a, b in zip(own, own[1:], strict=False))
