"""A chain's health at a glance: each store's health flags, the overview counts, the worst
first order, and a failing streak told as facts. Pure: a function of the statuses.

*Impact* orders the stores: never synced first, then by most days behind; among equals the
failing, then the stuck ones. Failing and stuck are flags shown inline, not a separate tier:
a store 3 days behind with one partial day ranks below a store silently 40 days behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from orders_sync.domain import DateRange, merge_ranges, subtract_ranges
from orders_sync.status.coverage import StoreStatus

HEALTH = ("up_to_date", "behind", "never_synced", "failing", "stuck", "running")
"""The overview's counts, in the page's order; each one a filter."""


def never_synced(status: StoreStatus) -> bool:
    """No successful window covers the store's ``start_date``."""
    return status.covered_through is None


def health_flags(status: StoreStatus, max_days_behind: int) -> frozenset[str]:
    """The overview counts this store is in: exactly one of up to date, behind and never
    synced, plus failing, stuck and running when they hold."""
    if never_synced(status):
        flags = {"never_synced"}
    elif status.days_behind > max_days_behind:
        flags = {"behind"}
    else:
        flags = {"up_to_date"}
    if status.failing:
        flags.add("failing")
    if status.stuck:
        flags.add("stuck")
    if status.is_running:
        flags.add("running")
    return frozenset(flags)


def overview_counts(statuses: Iterable[StoreStatus], max_days_behind: int) -> dict[str, int]:
    """``{"stores": n, "up_to_date": …, "behind": …, "never_synced": …, "failing": …,
    "stuck": …, "running": …}``."""
    counts = dict.fromkeys(("stores", *HEALTH), 0)
    for status in statuses:
        counts["stores"] += 1
        for flag in health_flags(status, max_days_behind):
            counts[flag] += 1
    return counts


def impact_key(status: StoreStatus) -> tuple[bool, int, bool, bool, int, str, str]:
    """The sort key of :func:`worst_first`."""
    return (
        not never_synced(status),
        -status.days_behind,
        not status.failing,
        not status.stuck,
        -status.missing_days,
        status.store.store_code,
        status.pipeline,
    )


def worst_first(statuses: Sequence[StoreStatus]) -> list[StoreStatus]:
    """The stores by impact, worst first (see the module)."""
    return sorted(statuses, key=impact_key)


@dataclasses.dataclass(frozen=True, slots=True)
class FailingStreak:
    """A store's failing windows as one fact: the days they leave uncovered, since when, and
    how many attempts failed — a store failing daily for 58 days is one 58-day streak with 58
    attempts, not 58 windows of ``(x1)``.

    Attributes:
        days: the uncovered days of the failing windows.
        first_day: the first of them.
        last_day: the last of them.
        since: the first failed attempt of those windows.
        attempts: the failed/partial attempts of those windows.
        status: the latest attempt's status (failed or partial).
        error_message: the latest attempt's error.
        last_attempt_at: when the latest attempt was.
    """

    days: int
    first_day: dt.date
    last_day: dt.date
    since: dt.datetime
    attempts: int
    status: str
    error_message: str | None
    last_attempt_at: dt.datetime

    def describe(self) -> str:
        """``failing 58 days since 2026-10-05 (58 attempts)``, for people."""
        verb = "partial" if self.status == "partial" else "failing"
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        attempts = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        return f"{verb} {days} since {self.since.date().isoformat()} ({attempts})"


def failing_streak(status: StoreStatus) -> FailingStreak | None:
    """The store's failing windows as one streak, or None when none fails."""
    if not status.failing:
        return None
    windows = [DateRange(f.from_date, f.to_date) for f in status.failing]
    uncovered = subtract_ranges(merge_ranges(windows), status.covered)
    latest = max(status.failing, key=lambda f: f.last_attempt_at)
    return FailingStreak(
        days=sum(len(r) for r in uncovered),
        first_day=min(r.start for r in uncovered),
        last_day=max(r.end for r in uncovered),
        since=min(f.first_attempt_at for f in status.failing),
        attempts=sum(f.attempts for f in status.failing),
        status=latest.status,
        error_message=latest.error_message,
        last_attempt_at=latest.last_attempt_at,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class StuckFacts:
    """A store's stuck days summed: how many, since when, the most attempts of any."""

    days: int
    since: dt.datetime
    attempts: int

    def describe(self) -> str:
        """``stuck 2 days since 2026-11-20 (x2)``."""
        days = f"{self.days} day{'s' if self.days != 1 else ''}"
        return f"stuck {days} since {self.since.date().isoformat()} (x{self.attempts})"


def stuck_facts(status: StoreStatus) -> StuckFacts | None:
    """The store's stuck ranges summed, or None when it has none."""
    if not status.stuck:
        return None
    return StuckFacts(
        days=sum(len(s.days) for s in status.stuck),
        since=min(s.since for s in status.stuck),
        attempts=max(s.attempts for s in status.stuck),
    )


def problem_text(status: StoreStatus, max_error_chars: int | None = None) -> str:
    """What is wrong with the store, for people: its failing streak and the latest error
    (cut to ``max_error_chars``), then its stuck days — or, when only re-fetches of covered
    days fail, that it is going stale. Empty when nothing is wrong. The status table and the
    coverage page both show this text."""
    streak, stuck = failing_streak(status), stuck_facts(status)
    parts = []
    if streak is not None:
        error = " ".join((streak.error_message or streak.status).split())
        if max_error_chars is not None and len(error) > max_error_chars:
            error = error[: max_error_chars - 3] + "..."
        parts.append(f"{streak.describe()}: {error}")
    if stuck is not None and streak is not None:
        parts.append(f"[{stuck.describe()}]")
    elif stuck is not None:  # covered days whose re-fetches keep failing go stale: say so
        parts.append(f"stale: re-fetches failing, {stuck.describe()}")
    return " ".join(parts)
