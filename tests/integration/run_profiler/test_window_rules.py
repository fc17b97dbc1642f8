"""Requirement §D, rule by rule, through ``executor.run_profiler`` with ``today=``.

Every case runs the real profiler: the plan is read from a real ``orders_sync_log``, each
window is fetched over HTTP from the simulator (clock frozen at noon of ``TODAY``) and
logged, and the test checks the log rows the run wrote against the rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe
from tests.support.fixtures import TODAY
from tests.support.seeding import LogRow, Store, seed_log, seed_stores
from tests.support.simulation import assert_matches_truth


def d(day: int, month: int = 1, year: int = 2026) -> dt.date:
    return dt.date(year, month, day)


START = d(1)
A001 = Store("A001", "TD", START)
Window = tuple[dt.date, dt.date, str]  # from, to, window_reason ("missing,overlap")


def run(settings: Settings, *, today: dt.date = TODAY, **options: object) -> ProfilerRun:
    engine = get_engine(settings)
    return run_profiler(
        engine,
        ProfilerOptions(env="test", **options),  # type: ignore[arg-type]
        settings,
        today=today,
    )


def planned(result: ProfilerRun) -> list[Window]:
    return [
        (w.from_date, w.to_date, ",".join(str(r) for r in w.reasons))
        for job in result.jobs
        for w in job.windows
    ]


def logged(engine: sa.Engine, result: ProfilerRun) -> list[Window]:
    return [
        (e.from_date, e.to_date, e.window_reason or "")
        for e in observe.log_entries(engine, run_id=result.outcome.run_id)
    ]


def ok(first: dt.date, last: dt.date, store: str = "A001") -> LogRow:
    return LogRow(store, first, last, "success")


# --------------------------------------------------------------------------------------
# 1) starting point and 2) N-day windows up to today


@dataclasses.dataclass(frozen=True)
class StartCase:
    history: tuple[LogRow, ...]
    overlap_days: int
    window_days: int
    expected: tuple[Window, ...]


START_CASES = {
    "no-success:from-start_date": StartCase(
        (), 1, 7, ((d(1), d(7), "missing"), (d(8), d(14), "missing"), (d(15), d(20), "missing"))
    ),
    "failed-and-partial-rows-are-not-success": StartCase(
        (LogRow("A001", d(1), d(7), "failed"), LogRow("A001", d(8), d(14), "partial")),
        1,
        7,
        ((d(1), d(7), "missing"), (d(8), d(14), "missing"), (d(15), d(20), "missing")),
    ),
    "K=1:restarts-on-last-success-day": StartCase(
        (ok(d(1), d(10)),), 1, 7, ((d(10), d(16), "missing,overlap"), (d(17), d(20), "missing"))
    ),
    "K=3:restarts-2-days-before-last-success": StartCase(
        (ok(d(1), d(10)),), 3, 7, ((d(8), d(14), "missing,overlap"), (d(15), d(20), "missing"))
    ),
    "K=0:restarts-the-day-after-last-success": StartCase(
        (ok(d(1), d(10)),), 0, 7, ((d(11), d(17), "missing"), (d(18), d(20), "missing"))
    ),
    "max-to_date-wins-whatever-the-row-order": StartCase(
        (ok(d(15), d(19)), ok(d(1), d(7)), ok(d(8), d(14))),
        1,
        7,
        ((d(19), d(20), "missing,overlap"),),
    ),
    "overlap-reaching-before-start_date-is-clamped": StartCase(
        (ok(d(1), d(2)),),
        5,
        7,
        ((d(1), d(7), "missing,overlap"), (d(8), d(14), "missing"), (d(15), d(20), "missing")),
    ),
    "success-before-start_date-counts-as-none-earlier": StartCase(
        (ok(d(20, 12, 2025), d(25, 12, 2025)),),
        1,
        7,
        ((d(1), d(7), "missing"), (d(8), d(14), "missing"), (d(15), d(20), "missing")),
    ),
    "N=1:one-day-windows": StartCase(
        (ok(d(1), d(16)),),
        1,
        1,
        tuple((d(n), d(n), "missing,overlap" if n == 16 else "missing") for n in range(16, 21)),
    ),
    "N=30:one-window-up-to-today": StartCase((), 1, 30, ((d(1), d(20), "missing"),)),
    "N=7:last-window-shorter-and-ends-today": StartCase(
        (ok(d(1), d(5)),),
        1,
        7,
        ((d(5), d(11), "missing,overlap"), (d(12), d(18), "missing"), (d(19), d(20), "missing")),
    ),  # fmt: skip
    "hole-before-last-success-is-planned-too": StartCase(
        (ok(d(1), d(7)), ok(d(15), d(19))),
        1,
        7,
        ((d(8), d(14), "hole"), (d(19), d(20), "missing,overlap")),
    ),
}


@pytest.mark.parametrize("case", START_CASES.values(), ids=START_CASES.keys())
def test_starting_point_and_windows_up_to_today(
    settings: Settings, sim: SimulatorServer, case: StartCase
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [A001])
    seed_log(engine, case.history)

    result = run(settings, overlap_days=case.overlap_days, window_days=case.window_days)

    assert planned(result) == list(case.expected)
    assert logged(engine, result) == list(case.expected)  # every planned window ran, in order
    assert result.outcome.overall_status == "success"
    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    assert {e.status for e in entries} == {"success"}
    assert {e.pipeline for e in entries} == {"td_orders_sync"}
    # the windows are contiguous where the requirement's chain runs, never past today
    assert all(frm <= to <= TODAY for frm, to, _ in case.expected)


def test_backfill_from_scratch_stores_exactly_the_source_data(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [A001, Store("U001", "UC", d(5))])

    result = run(settings, window_days=7)

    assert result.outcome.overall_status == "success"
    assert_matches_truth(engine, sim, "A001", "TD", START, TODAY)
    assert_matches_truth(engine, sim, "U001", "UC", d(5), TODAY)
    assert observe.windows_by_store(observe.log_entries(engine, run_id=result.outcome.run_id)) == {
        "A001": [(d(1), d(7)), (d(8), d(14)), (d(15), d(20))],
        "U001": [(d(5), d(11)), (d(12), d(18)), (d(19), d(20))],
    }


# --------------------------------------------------------------------------------------
# 3) execution rule: overlap windows always run; the exact-success skip; 6) today refresh


@dataclasses.dataclass(frozen=True)
class RuleCase:
    history: tuple[LogRow, ...]
    overlap_days: int
    window_days: int
    force: bool
    expected: tuple[Window, ...]


RULE_CASES = {
    "overlap-window-runs-although-exactly-successful": RuleCase(
        (ok(d(1), d(14)), ok(d(15), d(17))),
        3,
        3,
        False,
        ((d(15), d(17), "overlap"), (d(18), d(20), "missing")),
    ),
    "overlap-window-ending-today-reruns-although-successful": RuleCase(
        (ok(d(1), d(19)), ok(d(20), d(20))), 1, 7, False, ((d(20), d(20), "overlap"),)
    ),
    "today-covered-but-not-exactly:K=0-runs-today-refresh": RuleCase(
        (ok(d(1), d(13)), ok(d(14), d(20))), 0, 7, False, ((d(20), d(20), "today"),)
    ),
    "today-exactly-successful:K=0-nothing-due": RuleCase(
        (ok(d(1), d(13)), ok(d(14), d(20)), ok(d(20), d(20))), 0, 7, False, ()
    ),
    "window-including-today:no-separate-today-refresh": RuleCase(
        (ok(d(1), d(18)),), 1, 7, False, ((d(18), d(20), "missing,overlap"),)
    ),
    "K=0-caught-up-to-yesterday:chunk-is-today": RuleCase(
        (ok(d(1), d(19)),), 0, 7, False, ((d(20), d(20), "missing"),)
    ),
    "force-ignores-every-success": RuleCase(
        (ok(d(1), d(13)), ok(d(14), d(20)), ok(d(20), d(20))),
        0,
        7,
        True,
        ((d(1), d(7), "force"), (d(8), d(14), "force"), (d(15), d(20), "force")),
    ),
    "force-with-K=1-from-start_date-again": RuleCase(
        (ok(d(1), d(20)),),
        1,
        10,
        True,
        ((d(1), d(10), "force"), (d(11), d(20), "force")),
    ),
}


@pytest.mark.parametrize("case", RULE_CASES.values(), ids=RULE_CASES.keys())
def test_execution_rule_and_today_refresh(
    settings: Settings, sim: SimulatorServer, case: RuleCase
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [A001])
    seed_log(engine, case.history)

    result = run(
        settings, overlap_days=case.overlap_days, window_days=case.window_days, force=case.force
    )

    assert planned(result) == list(case.expected)
    assert logged(engine, result) == list(case.expected)
    assert result.outcome.overall_status == "success"
    summary = observe.summary(engine, result.outcome.run_id)
    assert summary["overall_status"] == "success"
    assert summary["finished_at"] is not None
    if not case.expected:
        assert sim.requests_total == 0
        assert summary["summary_text"].startswith("no windows due")


def test_second_run_only_refreshes_overlap_and_today(
    settings: Settings, sim: SimulatorServer
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [A001])

    first = run(settings, window_days=7, today=d(18))
    second = run(settings, window_days=7, today=d(20))
    third = run(settings, window_days=7, today=d(20), overlap_days=0)

    assert logged(engine, first) == [
        (d(1), d(7), "missing"),
        (d(8), d(14), "missing"),
        (d(15), d(18), "missing"),
    ]
    assert logged(engine, second) == [(d(18), d(20), "missing,overlap")]
    assert logged(engine, third) == [(d(20), d(20), "today")]


# --------------------------------------------------------------------------------------
# store selection and filters


SELECTION_STORES = [
    Store("A001", "TD", d(15)),
    Store("A0011", "TD", d(18)),  # A001 is a prefix of it: exact match only
    Store("A002", "TD", d(15), is_active=False),
    Store("A003", "TD", None),
    Store("U001", "UC", d(17)),
    Store("U002", "UC", d(17), is_active=False),
    Store("U003", "UC", d(21)),  # starts after today: selected, nothing due
]

SELECTION_CASES = {
    "ALL:active-with-start_date": ({}, {"A001": "td", "A0011": "td", "U001": "uc"}),
    "sync-group-TD": ({"sync_group": "TD"}, {"A001": "td", "A0011": "td"}),
    "sync-group-UC": ({"sync_group": "UC"}, {"U001": "uc"}),
    "store-code-exact-not-prefix": ({"store_code": "A001"}, {"A001": "td"}),
    "store-code-within-its-group": ({"store_code": "U001", "sync_group": "UC"}, {"U001": "uc"}),
    "store-code-not-yet-started": ({"store_code": "U003"}, {}),
}


@pytest.mark.parametrize(
    ("options", "expected"), SELECTION_CASES.values(), ids=SELECTION_CASES.keys()
)
def test_store_selection(
    settings: Settings,
    sim: SimulatorServer,
    options: dict[str, object],
    expected: dict[str, str],
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, SELECTION_STORES)

    result = run(settings, window_days=7, **options)

    entries = observe.log_entries(engine, run_id=result.outcome.run_id)
    ran = {e.store_code: e.pipeline[:2] for e in entries}
    assert ran == expected
    assert {job.store_code for job in result.jobs} == set(expected)
    assert result.outcome.overall_status == "success"


UNRUNNABLE = {
    "unknown-code": ({"store_code": "ZZ99"}, "unknown store code"),
    "case-differs": ({"store_code": "a001"}, "unknown store code"),
    "inactive": ({"store_code": "A002"}, "inactive"),
    "no-start_date": ({"store_code": "A003"}, "start_date"),
    "other-sync-group": ({"store_code": "A001", "sync_group": "UC"}, "sync group"),
}


@pytest.mark.parametrize(("options", "message"), UNRUNNABLE.values(), ids=UNRUNNABLE.keys())
def test_unrunnable_store_code_is_a_usage_error_and_writes_nothing(
    settings: Settings, sim: SimulatorServer, options: dict[str, object], message: str
) -> None:
    from orders_sync.exceptions import UsageError

    engine = get_engine(settings)
    seed_stores(engine, SELECTION_STORES)
    before = observe.table_counts(engine)

    with pytest.raises(UsageError, match=message):
        run(settings, **options)

    assert observe.table_counts(engine) == before
    assert sim.requests_total == 0
