"""Failure handling (§D 5) and the run summary (§E), through ``executor.run_profiler``.

Faults are the simulator's: a permanent 5xx for one store, endpoint and date range. Every
store has three 7-day windows (Jan-1..7, Jan-8..14, Jan-15..20).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db import locks
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe
from tests.support.fixtures import TODAY
from tests.support.seeding import LogRow, Store, seed_log, seed_stores


def d(day: int) -> dt.date:
    return dt.date(2026, 1, day)


W1, W2, W3 = (d(1), d(7)), (d(8), d(14)), (d(15), d(20))
STORES = [
    Store("A001", "TD", d(1)),
    Store("A002", "TD", d(1)),
    Store("A003", "TD", d(1)),
    Store("U001", "UC", d(1)),
]
Fault = Callable[[SimulatorServer], object]


def fail(
    store: str, endpoint: str, window: tuple[dt.date, dt.date] | None, status: int = 500
) -> Fault:
    first, last = window if window else (None, None)
    return lambda sim: sim.faults.fail_store(
        store, status=status, endpoint=endpoint, from_date=first, to_date=last
    )


def run(settings: Settings, **options: object) -> ProfilerRun:
    return run_profiler(
        get_engine(settings),
        ProfilerOptions(env="test", window_days=7, **options),  # type: ignore[arg-type]
        settings,
        today=TODAY,
    )


@dataclasses.dataclass(frozen=True)
class FailureCase:
    faults: tuple[Fault, ...]
    statuses: dict[str, list[str]]  # per store, the windows that ran, in order
    not_run: dict[str, int]  # planned windows left out, per store
    overall: str
    counts: dict[str, dict[str, int]]  # summary_text per pipeline


ALL_OK = ["success"] * 3
CASES = {
    "td-orders-5xx-in-2nd-window:3rd-never-runs": FailureCase(
        (fail("A002", "orders", W2),),
        {"A001": ALL_OK, "A002": ["success", "failed"], "A003": ALL_OK, "U001": ALL_OK},
        {"A002": 1},
        "failed",
        {
            "td_orders_sync": {"success": 7, "partial": 0, "failed": 1},
            "uc_orders_sync": {"success": 3, "partial": 0, "failed": 0},
        },
    ),
    "td-retryable-503-exhausted-in-2nd-window": FailureCase(
        (fail("A002", "orders", W2, status=503),),
        {"A001": ALL_OK, "A002": ["success", "failed"], "A003": ALL_OK, "U001": ALL_OK},
        {"A002": 1},
        "failed",
        {
            "td_orders_sync": {"success": 7, "partial": 0, "failed": 1},
            "uc_orders_sync": {"success": 3, "partial": 0, "failed": 0},
        },
    ),
    "uc-gst-5xx-in-2nd-window": FailureCase(
        (fail("U001", "gst", W2),),
        {"A001": ALL_OK, "A002": ALL_OK, "A003": ALL_OK, "U001": ["success", "failed"]},
        {"U001": 1},
        "failed",
        {
            "td_orders_sync": {"success": 9, "partial": 0, "failed": 0},
            "uc_orders_sync": {"success": 1, "partial": 0, "failed": 1},
        },
    ),
    "td-sales-failing:partial-stops-the-store": FailureCase(
        (fail("A002", "sales", None),),
        {"A001": ALL_OK, "A002": ["partial"], "A003": ALL_OK, "U001": ALL_OK},
        {"A002": 2},
        "partial",
        {
            "td_orders_sync": {"success": 6, "partial": 1, "failed": 0},
            "uc_orders_sync": {"success": 3, "partial": 0, "failed": 0},
        },
    ),
    "td-sales-failing-in-2nd-window:partial": FailureCase(
        (fail("A002", "sales", W2),),
        {"A001": ALL_OK, "A002": ["success", "partial"], "A003": ALL_OK, "U001": ALL_OK},
        {"A002": 1},
        "partial",
        {
            "td_orders_sync": {"success": 7, "partial": 1, "failed": 0},
            "uc_orders_sync": {"success": 3, "partial": 0, "failed": 0},
        },
    ),
    "partial-and-failed:run-failed": FailureCase(
        (fail("A002", "sales", None), fail("A003", "orders", W1)),
        {"A001": ALL_OK, "A002": ["partial"], "A003": ["failed"], "U001": ALL_OK},
        {"A002": 2, "A003": 2},
        "failed",
        {
            "td_orders_sync": {"success": 3, "partial": 1, "failed": 1},
            "uc_orders_sync": {"success": 3, "partial": 0, "failed": 0},
        },
    ),
    "every-store-fails-its-1st-window": FailureCase(
        tuple(fail(s.store_code, "gst" if s.sync_group == "UC" else "orders", W1) for s in STORES),
        {"A001": ["failed"], "A002": ["failed"], "A003": ["failed"], "U001": ["failed"]},
        {"A001": 2, "A002": 2, "A003": 2, "U001": 2},
        "failed",
        {
            "td_orders_sync": {"success": 0, "partial": 0, "failed": 3},
            "uc_orders_sync": {"success": 0, "partial": 0, "failed": 1},
        },
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_failed_or_partial_window_stops_only_its_store(
    settings: Settings, sim: SimulatorServer, case: FailureCase
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES)
    for fault in case.faults:
        fault(sim)

    result = run(settings, max_workers=2)

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert observe.statuses_by_store(entries) == case.statuses
    # the windows that ran are the first ones of the plan, in order: nothing after a stop
    for job in result.jobs:
        ran = [e.window for e in entries if e.store_code == job.store_code]
        assert ran == [(w.from_date, w.to_date) for w in job.windows][: len(ran)]
    assert {r.store_code: r.not_run for r in result.results if r.not_run} == case.not_run
    failed = [e for e in entries if e.status != "success"]
    assert all(e.error_message for e in failed)
    assert result.outcome.overall_status == case.overall
    summary = observe.summary(engine, result.outcome.run_id)
    assert summary["overall_status"] == case.overall
    assert summary["finished_at"] is not None
    counts = observe.summary_counts(summary["summary_text"])
    assert {p: counts[p] for p in case.counts} == case.counts


def test_no_retry_loop_within_a_run(settings: Settings, sim: SimulatorServer) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES[:1])
    fail("A001", "orders", W2)(sim)

    result = run(settings)

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert [(e.window, e.status) for e in entries] == [(W1, "success"), (W2, "failed")]
    # two attempts per request (the client's own retry), one request: no window retry
    assert sim.stats().by_status.get(500) == 2


def test_next_run_resumes_at_the_failed_window(settings: Settings, sim: SimulatorServer) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES[:1])
    fail("A001", "orders", W2)(sim)
    run(settings)
    sim.reset_faults()

    second = run(settings)

    assert [
        (e.window, e.window_reason, e.status)
        for e in observe.log_entries(engine, run_id=second.outcome.run_id)
    ] == [((d(7), d(13)), "missing,overlap", "success"), ((d(14), d(20)), "missing", "success")]
    assert second.outcome.overall_status == "success"


def test_store_locked_elsewhere_is_skipped_and_counted(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES)

    with locks.advisory_lock(engine, locks.store_lock_key("A002")) as held:
        assert held
        result = run(settings, max_workers=2)

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert set(observe.statuses_by_store(entries)) == {"A001", "A003", "U001"}
    assert [r.store_code for r in result.results if r.skipped] == ["A002"]
    assert result.outcome.overall_status == "success"
    summary = observe.summary(engine, result.outcome.run_id)
    # The skipped store got nothing this run: the freshness check names it stale (issue 12).
    assert observe.summary_counts(summary["summary_text"])[""] == {
        "skipped_stores": 1,
        "stale_stores": 1,
    }


def test_running_row_left_by_a_dead_process_is_closed_before_new_work(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, STORES[:1])
    seed_log(engine, [LogRow("A001", *W1, "running")], run_id="dead-run")

    result = run(settings)

    assert observe.running_rows(engine) == []
    with engine.connect() as conn:
        status, message = conn.execute(
            sa.text("SELECT status, error_message FROM orders_sync_log WHERE run_id = 'dead-run'")
        ).one()
    assert status == "failed"
    assert message.startswith("abandoned")
    assert result.outcome.overall_status == "success"
    assert [e.window for e in observe.log_entries(engine, run_id=result.outcome.run_id)] == [
        W1,
        W2,
        W3,
    ]


def test_stop_request_closes_the_run_as_failed(settings: Settings, sim: SimulatorServer) -> None:
    """A stopped run did not do its planned work: its summary must say ``failed`` even when
    every window that did run succeeded (issue 5: "SIGINT/SIGTERM: stop taking new windows,
    close running ones as failed, write the summary, exit 1")."""
    engine = get_engine(settings)
    seed_stores(engine, STORES[:2])
    stop = threading.Event()

    result = run_profiler(
        engine,
        ProfilerOptions(env="test", window_days=7, max_workers=1),
        settings,
        stop_event=stop,
        on_window=lambda report: stop.set(),  # stop after the first window
        today=TODAY,
    )

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert result.interrupted
    assert [e.status for e in entries] == ["success"]
    assert sum(r.not_run for r in result.results) == 5
    assert observe.running_rows(engine) == []
    summary = observe.summary(engine, result.outcome.run_id)
    assert summary["finished_at"] is not None
    assert summary["overall_status"] == "failed"
