"""Worked examples of the AUTO WINDOW DECISION LOGIC, one table row per rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from orders_sync.domain import (
    DateRange,
    Job,
    LogFacts,
    PipelineRef,
    PlannedWindow,
    StoreRef,
    WindowReason,
)
from orders_sync.exceptions import UsageError
from orders_sync.run_profiler.planning import (
    PlanOptions,
    describe_job,
    describe_plan,
    plan_jobs,
    plan_store,
)
from tests.unit.run_profiler.log_model import SuccessRow, facts_from_rows

MISSING = WindowReason.MISSING
OVERLAP = WindowReason.OVERLAP
TODAY = WindowReason.TODAY
FORCE = WindowReason.FORCE
HOLE = WindowReason.HOLE
SETTLE = WindowReason.SETTLE

TD = PipelineRef(code="td_orders_sync", id=1)
UC = PipelineRef(code="uc_orders_sync", id=2)


def d(day: int, month: int = 1) -> date:
    """A day of 2024; the tables read as calendar days."""
    return date(2024, month, day)


def ok(first: date, last: date, started: date | None = None) -> SuccessRow:
    """A success row over ``first..last``, started on ``started`` (default: its last day)."""
    return SuccessRow(first, last, started or last)


def w(first: date, last: date, *reasons: WindowReason) -> PlannedWindow:
    return PlannedWindow(first, last, reasons)


@dataclass(frozen=True)
class Case:
    start: date
    log: tuple[SuccessRow, ...]
    today: date
    options: PlanOptions
    expected: tuple[PlannedWindow, ...]  # empty: plan_store returns None


CASES = [
    Case(
        start=d(1),
        log=(),
        today=d(7, 7),
        options=PlanOptions(),
        expected=(
            w(d(1), d(30, 3), MISSING),
            w(d(31, 3), d(28, 6), MISSING),
            w(d(29, 6), d(7, 7), MISSING),
        ),
    ),
    Case(
        start=d(1),
        log=(),
        today=d(25),
        options=PlanOptions(window_days=10),
        expected=(w(d(1), d(10), MISSING), w(d(11), d(20), MISSING), w(d(21), d(25), MISSING)),
    ),
    # The requirement's example: Jan-6 succeeded at 19:00, so Jan-6 re-runs next time.
    Case(
        start=d(1),
        log=(ok(d(1), d(6)),),
        today=d(7),
        options=PlanOptions(),
        expected=(w(d(6), d(7), MISSING, OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(6)),),
        today=d(6),
        options=PlanOptions(),
        expected=(w(d(6), d(6), MISSING, OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(5)), ok(d(6), d(6))),
        today=d(6),
        options=PlanOptions(),
        expected=(w(d(6), d(6), OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(7)),),
        today=d(7),
        options=PlanOptions(overlap_days=0),
        expected=(w(d(7), d(7), TODAY),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(6)), ok(d(7), d(7))),
        today=d(7),
        options=PlanOptions(overlap_days=0),
        expected=(),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(6)),),
        today=d(7),
        options=PlanOptions(overlap_days=0),
        expected=(w(d(7), d(7), MISSING),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(10)),),
        today=d(12),
        options=PlanOptions(overlap_days=3),
        expected=(w(d(8), d(12), MISSING, OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(10)),),
        today=d(14),
        options=PlanOptions(window_days=2, overlap_days=3),
        expected=(
            w(d(8), d(9), MISSING, OVERLAP),
            w(d(10), d(11), MISSING, OVERLAP),
            w(d(12), d(13), MISSING),
            w(d(14), d(14), MISSING),
        ),
    ),
    Case(
        start=d(1),
        log=(),
        today=d(3),
        options=PlanOptions(window_days=1),
        expected=(w(d(1), d(1), MISSING), w(d(2), d(2), MISSING), w(d(3), d(3), MISSING)),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(1)), ok(d(2), d(2))),
        today=d(3),
        options=PlanOptions(window_days=1),
        expected=(w(d(2), d(2), OVERLAP), w(d(3), d(3), MISSING)),
    ),
    Case(
        start=d(9),
        log=(),
        today=d(9),
        options=PlanOptions(),
        expected=(w(d(9), d(9), MISSING),),
    ),
    Case(
        start=d(9),
        log=(ok(d(9), d(9)),),
        today=d(9),
        options=PlanOptions(),
        expected=(w(d(9), d(9), OVERLAP),),
    ),
    Case(
        start=d(10),
        log=(),
        today=d(9),
        options=PlanOptions(force=True),
        expected=(),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(6)), ok(d(7), d(7))),
        today=d(7),
        options=PlanOptions(window_days=4, overlap_days=0, force=True),
        expected=(w(d(1), d(4), FORCE), w(d(5), d(7), FORCE)),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(3)), ok(d(8), d(10))),
        today=d(12),
        options=PlanOptions(),
        expected=(w(d(4), d(7), HOLE), w(d(10), d(12), MISSING, OVERLAP)),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(1)), ok(d(7), d(10))),
        today=d(10),
        options=PlanOptions(window_days=2),
        expected=(
            w(d(2), d(3), HOLE),
            w(d(4), d(5), HOLE),
            w(d(6), d(6), HOLE),
            w(d(10), d(10), MISSING, OVERLAP),
        ),
    ),
    Case(
        start=d(1),
        log=(ok(d(5), d(10)),),
        today=d(10),
        options=PlanOptions(),
        expected=(w(d(1), d(4), HOLE), w(d(10), d(10), MISSING, OVERLAP)),
    ),
    # start_date moved after the log: the old overlap range lies before it.
    Case(
        start=d(10),
        log=(ok(d(1), d(5)),),
        today=d(12),
        options=PlanOptions(),
        expected=(w(d(10), d(12), MISSING),),
    ),
    # A success reaching past today: nothing regular is due, days up to today are holes.
    Case(
        start=d(1),
        log=(ok(d(15), d(20)),),
        today=d(10),
        options=PlanOptions(),
        expected=(w(d(1), d(10), HOLE),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(20)),),
        today=d(10),
        options=PlanOptions(),
        expected=(w(d(10), d(10), TODAY),),
    ),
    # Settle: rows started on their last day settle the days S before it.
    Case(
        start=d(1),
        log=(ok(d(1), d(5)), ok(d(6), d(10))),
        today=d(10),
        options=PlanOptions(settle_days=3),
        expected=(w(d(3), d(5), SETTLE), w(d(10), d(10), MISSING, OVERLAP)),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(5)), ok(d(6), d(10))),
        today=d(10),
        options=PlanOptions(window_days=2, settle_days=3),
        expected=(
            w(d(3), d(4), SETTLE),
            w(d(5), d(5), SETTLE),
            w(d(10), d(10), MISSING, OVERLAP),
        ),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(5)), ok(d(6), d(10))),
        today=d(10),
        options=PlanOptions(settle_days=0),
        expected=(w(d(10), d(10), MISSING, OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(5), started=d(8)), ok(d(6), d(10))),
        today=d(10),
        options=PlanOptions(settle_days=3),
        expected=(w(d(10), d(10), MISSING, OVERLAP),),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(3)), ok(d(6), d(10))),
        today=d(10),
        options=PlanOptions(settle_days=2),
        expected=(
            w(d(2), d(3), SETTLE),
            w(d(4), d(5), HOLE),
            w(d(10), d(10), MISSING, OVERLAP),
        ),
    ),
    Case(
        start=d(1),
        log=(ok(d(1), d(10)),),
        today=d(10),
        options=PlanOptions(settle_days=15),
        expected=(w(d(10), d(10), MISSING, OVERLAP),),
    ),
]
CASE_IDS = [
    "empty-log-90-day-chunks-from-start",
    "empty-log-10-day-chunks-last-shorter",
    "jan6-example-next-day-reruns-jan6",
    "jan6-example-same-day-reruns-jan6",
    "overlap-runs-even-when-exact-success",
    "k0-complete-log-today-refresh",
    "k0-complete-log-today-already-succeeded",
    "k0-yesterday-complete-regular-today-window",
    "k3-reruns-three-days",
    "k3-n2-overlap-spans-two-windows",
    "n1-empty-log-one-day-windows",
    "n1-overlap-then-missing",
    "start-is-today-empty-log",
    "start-is-today-already-succeeded",
    "start-in-future-no-job",
    "force-ignores-complete-log",
    "hole-between-successes",
    "hole-split-into-n-day-chunks",
    "hole-before-first-success",
    "start-after-whole-log",
    "log-past-today-uncovered-days-are-holes",
    "log-past-today-covering-today-refreshes",
    "settle-unsettled-covered-days",
    "settle-chunked-by-window-days",
    "settle-zero-is-the-requirement",
    "settle-late-rerun-settled-them",
    "settle-and-hole-interleave",
    "settle-longer-than-history",
]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_plan_store(case: Case) -> None:
    store = StoreRef("S001", "TD", "CC01", case.start)
    facts = facts_from_rows(case.log, case.options.settle_days)

    job = plan_store(store, TD, facts, case.today, case.options)

    if not case.expected:
        assert job is None
    else:
        assert job == Job("S001", "CC01", TD, case.expected)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_days": 0}, r"window_days \(--window-days\) must be a whole number of at least 1"),
        ({"window_days": -5}, r"at least 1, got -5\."),
        ({"window_days": "90"}, r"got '90'\."),
        ({"window_days": True}, r"got True\."),
        ({"overlap_days": -1}, r"overlap_days \(--overlap-days\) .* at least 0, got -1\."),
        ({"settle_days": -1}, r"settle_days \(--settle-days\) .* at least 0, got -1\."),
        ({"force": "yes"}, r"force \(--force\) must be true or false"),
    ],
    ids=[
        "window-days-zero",
        "window-days-negative",
        "window-days-string",
        "window-days-bool",
        "overlap-days-negative",
        "settle-days-negative",
        "force-not-bool",
    ],
)
def test_plan_options_rejects(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        PlanOptions(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "options",
    [PlanOptions(), PlanOptions(window_days=1, overlap_days=0, settle_days=0, force=True)],
    ids=["defaults", "smallest-values"],
)
def test_plan_options_accepts(options: PlanOptions) -> None:
    assert options.window_days >= 1


def test_plan_jobs_routes_groups_orders_and_drops_idle_stores() -> None:
    stores = [
        StoreRef("S003", "UC", None, d(1)),
        StoreRef("S001", "TD", "CC01", d(1)),
        StoreRef("S002", "XX", "CC02", d(1)),  # unknown group: ignored
        StoreRef("S004", "TD", "CC04", d(20)),  # starts after today: no job
        StoreRef("S000", "UC", "CC00", d(1)),  # up to date: no job
    ]
    logs = {
        (UC.id, "S000"): [ok(d(1), d(9)), ok(d(10), d(10))],
        (TD.id, "S003"): [ok(d(1), d(10))],  # the other pipeline's log: not S003's
        (UC.id, "S003"): [ok(d(1), d(8))],
    }
    facts = {key: _facts(rows) for key, rows in logs.items()}

    jobs = plan_jobs(stores, {"TD": TD, "UC": UC}, facts, d(10), PlanOptions(overlap_days=0))

    assert [(job.store_code, job.pipeline.code) for job in jobs] == [
        ("S001", "td_orders_sync"),
        ("S003", "uc_orders_sync"),
    ]
    assert jobs[0].windows == (w(d(1), d(10), MISSING),)
    assert jobs[1].windows == (w(d(9), d(10), MISSING),)
    assert jobs[1].cost_center is None


def _facts(rows: list[SuccessRow]) -> LogFacts:
    facts = facts_from_rows(rows, 0)
    assert facts is not None
    return facts


def test_plan_jobs_rejects_a_store_listed_twice() -> None:
    stores = [StoreRef("S001", "TD", None, d(1)), StoreRef("S001", "TD", None, d(2))]
    with pytest.raises(ValueError, match="S001 is listed twice for td_orders_sync"):
        plan_jobs(stores, {"TD": TD}, {}, d(10), PlanOptions())


def test_plan_jobs_empty() -> None:
    assert plan_jobs([], {"TD": TD}, {}, d(10), PlanOptions()) == []


def test_unmerged_facts_are_normalised() -> None:
    """Ranges sent unordered, overlapping or adjacent give the same plan as merged ones."""
    merged = LogFacts(
        last_success_to=d(20),
        success_windows=frozenset({(d(18), d(20))}),
        covered=(DateRange(d(1), d(6)), DateRange(d(9), d(20))),
        settled=(DateRange(d(1), d(2)), DateRange(d(9), d(12))),
    )
    messy = LogFacts(
        last_success_to=d(20),
        success_windows=merged.success_windows,
        covered=(
            DateRange(d(9), d(15)),
            DateRange(d(1), d(3)),
            DateRange(d(16), d(20)),
            DateRange(d(2), d(6)),
        ),
        settled=(DateRange(d(11), d(12)), DateRange(d(1), d(2)), DateRange(d(9), d(11))),
    )
    store = StoreRef("S001", "TD", None, d(1))
    options = PlanOptions(settle_days=3)

    assert plan_store(store, TD, messy, d(20), options) == plan_store(
        store, TD, merged, d(20), options
    )


def test_describe_job_lists_every_window_and_why() -> None:
    facts = facts_from_rows([ok(d(1), d(3)), ok(d(8), d(10))], 0)
    job = plan_store(StoreRef("S001", "TD", "CC01", d(1)), TD, facts, d(12), PlanOptions())
    assert job is not None

    text = describe_job(job)

    assert text.splitlines() == [
        "S001 td_orders_sync (cost center CC01): 2 windows, 7 days",
        "  2024-01-04..2024-01-07     4 days  hole: no successful run covers these days, "
        "although later days succeeded",
        "  2024-01-10..2024-01-12     3 days  missing: no successful run of exactly this window; "
        "overlap: re-fetches the most recent successful days for late data",
    ]


@pytest.mark.parametrize(
    ("reason", "word"),
    [
        (MISSING, "missing:"),
        (OVERLAP, "overlap:"),
        (TODAY, "today:"),
        (FORCE, "force:"),
        (HOLE, "hole:"),
        (SETTLE, "settle:"),
        (WindowReason.STUCK, "stuck:"),
        (WindowReason.STANDALONE, "standalone:"),
    ],
    ids=[reason.value for reason in WindowReason],
)
def test_describe_job_explains_every_reason(reason: WindowReason, word: str) -> None:
    job = Job("S001", None, UC, (w(d(1), d(1), reason),))

    header, line = describe_job(job).splitlines()

    assert header == "S001 uc_orders_sync: 1 window, 1 day"
    assert line.startswith(f"  2024-01-01..2024-01-01      1 day  {word} ")


def test_describe_plan() -> None:
    job = Job("S001", None, UC, (w(d(1), d(1), TODAY),))
    assert describe_plan([]) == "Nothing is due: every store is up to date."
    assert describe_plan([job, job]) == describe_job(job) + "\n\n" + describe_job(job)


@pytest.mark.parametrize(
    ("first", "last", "length"),
    [(d(1), d(1), 1), (d(1), d(31), 31), (d(28, 2), d(1, 3), 3)],
    ids=["one-day", "january", "leap-day"],
)
def test_date_range_length_and_membership(first: date, last: date, length: int) -> None:
    span = DateRange(first, last)
    assert len(span) == length == len(list(span.days()))
    assert first in span and last in span
    assert date(2023, 12, 31) not in span
    assert "2024-01-01" not in span


@pytest.mark.parametrize(
    "build",
    [
        lambda: DateRange(d(2), d(1)),
        lambda: PlannedWindow(d(2), d(1), (MISSING,)),
        lambda: PlannedWindow(d(1), d(1), ()),
    ],
    ids=["range-backwards", "window-backwards", "window-without-reason"],
)
def test_invalid_values_raise(build: object) -> None:
    with pytest.raises(ValueError):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (PlanOptions(window_days=10**12), (w(d(5), d(10), MISSING, OVERLAP),)),
        (PlanOptions(overlap_days=10**12), (w(d(1), d(10), MISSING, OVERLAP),)),
        (PlanOptions(settle_days=10**12), (w(d(5), d(10), MISSING, OVERLAP),)),
    ],
    ids=["huge-window-days", "huge-overlap-days", "huge-settle-days"],
)
def test_huge_options_clamp_instead_of_overflowing(
    options: PlanOptions, expected: tuple[PlannedWindow, ...]
) -> None:
    facts = LogFacts(d(5), frozenset({(d(1), d(5))}), (DateRange(d(1), d(5)),))
    job = plan_store(StoreRef("S001", "TD", None, d(1)), TD, facts, d(10), options)
    assert job is not None and job.windows == expected


def test_workers_take_the_longest_jobs_first_ties_in_plan_order() -> None:
    from orders_sync.domain import longest_first

    def job(code: str, days: int) -> Job:
        window = PlannedWindow(d(1), date.fromordinal(d(1).toordinal() + days - 1), (MISSING,))
        return Job(code, None, TD, (window,))

    jobs = [job("A", 2), job("B", 730), job("C", 2), job("D", 90)]
    assert [j.store_code for j in longest_first(jobs)] == ["B", "D", "A", "C"]
    assert [j.work for j in jobs] == [5, 733, 5, 93]
