"""interfaces.md "Stuck days": one bad day at the source no longer freezes a store.

The issue's reproduction: a constant 500 for one day inside a store's second backfill window.
Every store has three 7-day windows (Jan-1..7, Jan-8..14, Jan-15..20); Jan-10 always fails.
"""

from __future__ import annotations

import datetime as dt

import pytest

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.integration.run_profiler.test_failures import run
from tests.support import observe
from tests.support.seeding import LogRow, Store, seed_log, seed_stores


def d(day: int) -> dt.date:
    return dt.date(2026, 1, day)


BAD_DAY = d(10)


def covered(settings: Settings, store: str) -> set[dt.date]:
    days: set[dt.date] = set()
    for entry in observe.log_entries(get_engine(settings)):
        if entry.store_code == store and entry.status == "success":
            first, last = entry.window
            days |= {first + dt.timedelta(days=i) for i in range((last - first).days + 1)}
    return days


def test_a_day_failing_in_every_run_no_longer_freezes_the_store(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", d(1))])
    sim.faults.fail_store("A001", status=500, endpoint="orders", from_date=BAD_DAY, to_date=BAD_DAY)

    runs = [run(settings) for _ in range(4)]

    # Runs 1 and 2 keep the requirement's strict order: W2 fails, the store stops there.
    for early in runs[:2]:
        entries = observe.log_entries(engine, run_id=early.outcome.run_id)
        assert entries[-1].status == "failed" and entries[-1].window[0] <= BAD_DAY
        assert not any(e.window[1] >= d(15) for e in entries)
    # From run 3 on, the days that failed in both runs (run 1: Jan-8..14, run 2: the overlap
    # chunk Jan-7..13; Jan-7 succeeded in run 1 since) are stuck and run last; today is
    # refreshed. The log cannot tell which day of a failed window is bad: all of them count.
    third = observe.log_entries(engine, run_id=runs[2].outcome.run_id)
    assert third[-1].window == (d(8), d(13))
    assert third[-1].window_reason is not None and "stuck" in third[-1].window_reason
    assert third[-1].status == "failed"  # still retried every run
    assert all(e.status == "success" for e in third[:-1])
    assert covered(settings, "A001") == {d(i) for i in range(1, 21)} - {d(i) for i in range(8, 14)}
    fourth = observe.log_entries(engine, run_id=runs[3].outcome.run_id)
    assert fourth[-1].window == (d(8), d(13)) and fourth[-1].status == "failed"
    assert "stuck_windows=1" in runs[3].outcome.summary_text
    assert runs[3].outcome.overall_status == "failed"


def test_the_stuck_day_recovers_once_the_source_heals(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", d(1))])
    sim.faults.fail_store("A001", status=500, endpoint="orders", from_date=BAD_DAY, to_date=BAD_DAY)
    for _ in range(3):
        run(settings)
    sim.reset_faults()

    healed = run(settings)

    assert healed.outcome.overall_status == "success"
    assert covered(settings, "A001") == {d(i) for i in range(1, 21)}
    after = run(settings, dry_run=False)
    entries = observe.log_entries(engine, run_id=after.outcome.run_id)
    assert not any("stuck" in (e.window_reason or "") for e in entries)


@pytest.mark.parametrize(
    "error",
    ["abandoned: the process running this window died", "interrupted: the run was stopped"],
    ids=["abandoned", "interrupted"],
)
def test_abandoned_and_interrupted_windows_never_make_a_day_stuck(
    settings: Settings, sim: SimulatorServer, error: str
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", d(1))])
    for index in range(3):
        seed_log(
            engine,
            [LogRow("A001", d(8), d(14), "failed", error=error, close_reason=error.split(":")[0])],
            run_id=f"dead-{index}",
        )

    result = run(settings, dry_run=False)

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert not any("stuck" in (e.window_reason or "") for e in entries)


def test_stuck_after_0_keeps_the_strict_order(settings: Settings, sim: SimulatorServer) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", d(1))])
    sim.faults.fail_store("A001", status=500, endpoint="orders", from_date=BAD_DAY, to_date=BAD_DAY)
    for _ in range(3):
        last = run(settings, stuck_after=0)
    entries = observe.log_entries(engine, run_id=last.outcome.run_id)
    assert (
        entries[-1].status == "failed" and entries[-1].window[0] <= BAD_DAY <= entries[-1].window[1]
    )
    assert not any(e.window[1] >= d(15) for e in entries)
