"""Properties of the window planner over random logs, dates and options.

Logs are random success rows inside ``start_date..today``; their ``LogFacts`` come from the
brute-force model in ``log_model``, so every property is checked against day sets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from orders_sync.domain import LogFacts, PlannedWindow, WindowReason
from orders_sync.run_profiler.planning import PlanOptions, plan_windows
from tests.unit.run_profiler.log_model import (
    SuccessRow,
    covered_days,
    days_between,
    facts_from_rows,
    planned_days,
    settled_days,
)

# Deterministic and quick: the whole module runs in a few seconds.
PROPERTY = settings(max_examples=150, derandomize=True, deadline=None)

EPOCH = date(2024, 1, 1)


@dataclass(frozen=True)
class Scenario:
    start: date
    today: date
    rows: tuple[SuccessRow, ...]
    options: PlanOptions

    @property
    def facts(self) -> LogFacts | None:
        return facts_from_rows(self.rows, self.options.settle_days)

    @property
    def last_success_to(self) -> date | None:
        return max((row.to_date for row in self.rows), default=None)

    @property
    def next_from(self) -> date:
        """The requirement's formula, written again on purpose."""
        last = self.last_success_to
        if last is None or self.options.force:
            return self.start
        return max(self.start, last - timedelta(days=self.options.overlap_days - 1))

    def plan(self) -> tuple[PlannedWindow, ...]:
        return plan_windows(self.start, self.facts, self.today, self.options)


@st.composite
def success_rows(draw: st.DrawFn, start: date, today: date) -> SuccessRow:
    span = (today - start).days
    first = start + timedelta(days=draw(st.integers(0, span)))
    last = first + timedelta(days=draw(st.integers(0, min(20, (today - first).days))))
    lag = draw(st.integers(0, 15))
    return SuccessRow(first, last, min(today, last + timedelta(days=lag)))


@st.composite
def plan_options(
    draw: st.DrawFn, force: bool | None = None, overlap: int | None = None
) -> PlanOptions:
    return PlanOptions(
        window_days=draw(st.integers(1, 15)),
        overlap_days=draw(st.integers(0, 5)) if overlap is None else overlap,
        force=draw(st.booleans()) if force is None else force,
        settle_days=draw(st.integers(0, 8)),
    )


@st.composite
def scenarios(draw: st.DrawFn, force: bool | None = False) -> Scenario:
    start = EPOCH + timedelta(days=draw(st.integers(0, 30)))
    today = start + timedelta(days=draw(st.integers(0, 70)))
    rows = draw(st.lists(success_rows(start, today), max_size=8))
    return Scenario(start, today, tuple(rows), draw(plan_options(force=force)))


@st.composite
def complete_logs(draw: st.DrawFn) -> Scenario:
    """Success rows partitioning ``start..today``, all started today (late enough to settle)."""
    start = EPOCH + timedelta(days=draw(st.integers(0, 30)))
    today = start + timedelta(days=draw(st.integers(0, 70)))
    span = (today - start).days
    cuts = sorted(draw(st.sets(st.integers(1, span), max_size=10)) if span else set())
    bounds = [0, *cuts, span + 1]
    rows = [
        SuccessRow(start + timedelta(days=a), start + timedelta(days=b - 1), today)
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    if draw(st.booleans()):
        rows.append(SuccessRow(today, today, today))
    return Scenario(start, today, tuple(rows), draw(plan_options(force=False, overlap=0)))


def _with_reason(windows: tuple[PlannedWindow, ...], reason: WindowReason) -> list[PlannedWindow]:
    return [window for window in windows if reason in window.reasons]


@PROPERTY
@given(scenarios(force=None))
def test_windows_are_sorted_disjoint_and_inside_start_to_today(scenario: Scenario) -> None:
    windows = scenario.plan()

    for window in windows:
        assert scenario.start <= window.from_date <= window.to_date <= scenario.today
        assert window.days <= scenario.options.window_days
    for earlier, later in zip(windows, windows[1:], strict=False):
        assert earlier.to_date < later.from_date


@PROPERTY
@given(scenarios(force=None))
def test_a_start_date_after_today_gives_nothing(scenario: Scenario) -> None:
    tomorrow = scenario.today + timedelta(days=1)
    assert plan_windows(tomorrow, scenario.facts, scenario.today, scenario.options) == ()


@PROPERTY
@given(scenarios())
def test_regular_windows_are_n_day_chunks_from_next_from_to_today(scenario: Scenario) -> None:
    regular = [window for window in scenario.plan() if window.from_date >= scenario.next_from]
    if scenario.next_from > scenario.today:
        assert all(WindowReason.TODAY in window.reasons for window in regular)
        return

    assert regular[0].from_date == scenario.next_from
    assert regular[-1].to_date == scenario.today
    for earlier, later in zip(regular, regular[1:], strict=False):
        assert earlier.to_date + timedelta(days=1) == later.from_date
        assert earlier.days == scenario.options.window_days
    assert regular[-1].days <= scenario.options.window_days


@PROPERTY
@given(scenarios(force=None))
def test_the_last_k_successful_days_are_always_rerun(scenario: Scenario) -> None:
    last = scenario.last_success_to
    k = scenario.options.overlap_days
    if last is None or k == 0:
        return
    recent = days_between(
        max(scenario.start, last - timedelta(days=k - 1)), min(last, scenario.today)
    )

    assert recent <= set(planned_days(scenario.plan()))


@PROPERTY
@given(scenarios(force=None))
def test_today_is_planned_unless_today_alone_succeeded(scenario: Scenario) -> None:
    today = scenario.today
    refreshed = any(window.from_date <= today <= window.to_date for window in scenario.plan())
    succeeded = any((row.from_date, row.to_date) == (today, today) for row in scenario.rows)

    assert refreshed or (succeeded and not scenario.options.force)


@PROPERTY
@given(scenarios(force=True))
def test_force_runs_every_day_once_in_n_day_chunks(scenario: Scenario) -> None:
    windows = scenario.plan()

    assert planned_days(windows) == sorted(days_between(scenario.start, scenario.today))
    assert all(window.reasons == (WindowReason.FORCE,) for window in windows)
    assert all(window.days == scenario.options.window_days for window in windows[:-1])


@PROPERTY
@given(complete_logs())
def test_complete_log_and_k0_only_refreshes_today(scenario: Scenario) -> None:
    windows = scenario.plan()
    today = scenario.today

    if SuccessRow(today, today, today) in scenario.rows:
        assert windows == ()
    else:
        assert windows == (PlannedWindow(today, today, (WindowReason.TODAY,)),)


@PROPERTY
@given(scenarios())
def test_hole_windows_are_exactly_the_uncovered_days_before_next_from(scenario: Scenario) -> None:
    holes = _with_reason(scenario.plan(), WindowReason.HOLE)
    earlier = days_between(
        scenario.start, min(scenario.next_from - timedelta(days=1), scenario.today)
    )

    assert sorted(planned_days(holes)) == sorted(earlier - covered_days(scenario.rows))
    assert all(window.reasons == (WindowReason.HOLE,) for window in holes)


@PROPERTY
@given(scenarios())
def test_settle_windows_are_exactly_the_unsettled_covered_days(scenario: Scenario) -> None:
    settle_days = scenario.options.settle_days
    settles = _with_reason(scenario.plan(), WindowReason.SETTLE)
    if settle_days == 0:
        assert settles == []
        return
    newest = min(
        scenario.today - timedelta(days=settle_days), scenario.next_from - timedelta(days=1)
    )
    settled = settled_days(scenario.rows, settle_days)
    expected = (days_between(scenario.start, newest) & covered_days(scenario.rows)) - settled

    days = planned_days(settles)
    assert sorted(days) == sorted(expected)
    assert all(day <= scenario.today - timedelta(days=settle_days) for day in days)
    assert not set(days) & settled
    assert all(window.reasons == (WindowReason.SETTLE,) for window in settles)


@PROPERTY
@given(scenarios())
def test_settle_days_only_add_settle_windows(scenario: Scenario) -> None:
    """S = 0 is the requirement's plan, whatever ``settled`` says; S > 0 only adds to it."""
    requirement = replace(scenario.options, settle_days=0)
    facts = scenario.facts
    plain = plan_windows(scenario.start, facts, scenario.today, requirement)
    if facts is not None:
        unsettled = replace(facts, settled=())
        assert plan_windows(scenario.start, unsettled, scenario.today, requirement) == plain

    with_settle = scenario.plan()
    assert tuple(w for w in with_settle if WindowReason.SETTLE not in w.reasons) == plain


@PROPERTY
@given(scenarios())
def test_success_windows_the_planner_never_looks_up_may_be_omitted(scenario: Scenario) -> None:
    """The SQL side may send only windows with to_date >= min(last - K + 1, today)."""
    facts = scenario.facts
    last = scenario.last_success_to
    if facts is None or last is None:
        return
    floor = min(last - timedelta(days=scenario.options.overlap_days - 1), scenario.today)
    trimmed = replace(
        facts, success_windows=frozenset(w for w in facts.success_windows if w[1] >= floor)
    )

    assert (
        plan_windows(scenario.start, trimmed, scenario.today, scenario.options) == scenario.plan()
    )


@PROPERTY
@given(scenarios())
def test_without_the_today_term_only_the_today_refresh_can_change(scenario: Scenario) -> None:
    """Trimming at last - K + 1 alone hides (today, today); at worst today re-runs once more."""
    facts = scenario.facts
    last = scenario.last_success_to
    if facts is None or last is None:
        return
    floor = last - timedelta(days=scenario.options.overlap_days - 1)
    trimmed = replace(
        facts, success_windows=frozenset(w for w in facts.success_windows if w[1] >= floor)
    )

    full = scenario.plan()
    narrow = plan_windows(scenario.start, trimmed, scenario.today, scenario.options)
    today_refresh = PlannedWindow(scenario.today, scenario.today, (WindowReason.TODAY,))
    assert narrow in (full, tuple(sorted((*full, today_refresh), key=lambda w: w.from_date)))


@PROPERTY
@given(scenarios())
def test_after_a_successful_run_only_the_overlap_and_today_remain(scenario: Scenario) -> None:
    """Running the whole plan today leaves no hole, nothing to settle, nothing missing."""
    done = tuple(SuccessRow(w.from_date, w.to_date, scenario.today) for w in scenario.plan())
    again = replace(scenario, rows=scenario.rows + done)

    windows = again.plan()

    recent_start = min(again.next_from, scenario.today)
    assert all(window.from_date >= recent_start for window in windows)
    assert not _with_reason(windows, WindowReason.HOLE)
    assert not _with_reason(windows, WindowReason.SETTLE)
