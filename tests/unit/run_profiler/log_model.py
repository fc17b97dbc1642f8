"""A brute-force model of ``orders_sync_log`` for the planner's tests.

It derives ``LogFacts`` the slow, obvious way (sets of days), so the tests check the
planner's interval arithmetic against something that cannot share its bugs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from orders_sync.domain import DateRange, LogFacts, PlannedWindow

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class SuccessRow:
    """One ``status = 'success'`` row; ``started_on`` is ``created_at``'s local date."""

    from_date: date
    to_date: date
    started_on: date


def days_between(first: date, last: date) -> set[date]:
    """Every day of ``first..last`` (empty when last < first)."""
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def ranges_of(days: Iterable[date]) -> tuple[DateRange, ...]:
    """The maximal runs of consecutive days, ordered."""
    ranges: list[DateRange] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1].end + ONE_DAY == day:
            ranges[-1] = DateRange(ranges[-1].start, day)
        else:
            ranges.append(DateRange(day, day))
    return tuple(ranges)


def covered_days(rows: Iterable[SuccessRow]) -> set[date]:
    return set().union(*(days_between(row.from_date, row.to_date) for row in rows))


def settled_days(rows: Iterable[SuccessRow], settle_days: int) -> set[date]:
    """Days some success row started at least ``settle_days`` after."""
    return set().union(
        *(
            days_between(row.from_date, min(row.to_date, row.started_on - timedelta(settle_days)))
            for row in rows
        )
    )


def facts_from_rows(rows: Iterable[SuccessRow], settle_days: int) -> LogFacts | None:
    """What the SQL side sends for these rows (``None`` when there is no success)."""
    rows = list(rows)
    if not rows:
        return None
    return LogFacts(
        last_success_to=max(row.to_date for row in rows),
        success_windows=frozenset((row.from_date, row.to_date) for row in rows),
        covered=ranges_of(covered_days(rows)),
        settled=ranges_of(settled_days(rows, settle_days)),
    )


def planned_days(windows: Iterable[PlannedWindow]) -> list[date]:
    """Every planned day, with repetitions if windows overlap."""
    return [day for window in windows for day in window.as_range().days()]
