"""Properties of the stuck-days order (interfaces.md "Stuck days") over random logs.

Random success logs as in ``test_planning_properties``, plus random stuck day ranges: the
stuck days only ever reorder the plan — the same days, split at the stuck ones, which run
last — and R = 0 (or no stuck day) gives the requirement's plan exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from orders_sync.domain import DateRange, PlannedWindow, WindowReason
from orders_sync.run_profiler.planning import plan_windows
from tests.unit.run_profiler.log_model import planned_days
from tests.unit.run_profiler.test_planning_properties import PROPERTY, Scenario, scenarios


@st.composite
def stuck_scenarios(draw: st.DrawFn) -> tuple[Scenario, tuple[DateRange, ...]]:
    scenario = draw(scenarios(force=None))
    span = (scenario.today - scenario.start).days
    ranges = []
    for _ in range(draw(st.integers(1, 3))):
        first = scenario.start + timedelta(days=draw(st.integers(0, span)))
        last = first + timedelta(days=draw(st.integers(0, min(6, (scenario.today - first).days))))
        ranges.append(DateRange(first, last))
    options = replace(scenario.options, stuck_after=draw(st.integers(1, 4)))
    return replace(scenario, options=options), tuple(ranges)


def _plan(scenario: Scenario, stuck: tuple[DateRange, ...]) -> tuple[PlannedWindow, ...]:
    base = scenario.facts
    facts = None
    if base is not None or stuck:
        from orders_sync.domain import LogFacts

        facts = (
            replace(base, stuck=stuck)
            if base is not None
            else LogFacts(
                last_success_to=None, success_windows=frozenset(), covered=(), stuck=stuck
            )
        )
    return plan_windows(scenario.start, facts, scenario.today, scenario.options)


def _stuck_days(stuck: tuple[DateRange, ...]) -> set[date]:
    return {day for part in stuck for day in part.days()}


@PROPERTY
@given(stuck_scenarios())
def test_stuck_days_keep_the_same_days_and_run_last(
    case: tuple[Scenario, tuple[DateRange, ...]],
) -> None:
    scenario, stuck = case
    plain = _plan(scenario, ())
    ordered = _plan(scenario, stuck)
    assert sorted(planned_days(ordered)) == sorted(planned_days(plain))  # the same days, once
    bad = _stuck_days(stuck)
    flags = [WindowReason.STUCK in w.reasons for w in ordered]
    assert flags == sorted(flags)  # every stuck window after every other one
    for window, is_stuck in zip(ordered, flags, strict=True):
        days = set(window.as_range().days())
        assert days <= bad if is_stuck else not days & bad  # a stuck day never blocks others
        assert scenario.start <= window.from_date <= window.to_date <= scenario.today
    regular = [w for w, s in zip(ordered, flags, strict=True) if not s]
    assert regular == sorted(regular, key=lambda w: w.from_date)


@PROPERTY
@given(stuck_scenarios())
def test_stuck_after_0_gives_the_requirements_plan(
    case: tuple[Scenario, tuple[DateRange, ...]],
) -> None:
    scenario, stuck = case
    strict = replace(scenario, options=replace(scenario.options, stuck_after=0))
    assert _plan(strict, stuck) == _plan(strict, ())


@PROPERTY
@given(scenarios(force=None))
def test_with_no_stuck_day_the_plan_is_unchanged(scenario: Scenario) -> None:
    strict = replace(scenario, options=replace(scenario.options, stuck_after=0))
    assert _plan(scenario, ()) == _plan(strict, ()) == scenario.plan()
