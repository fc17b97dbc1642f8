"""Value types of the run profiler's planner: what it reads and what it decides.

The planner (``orders_sync.run_profiler.planning``) is a pure function of these values;
the SQL that produces ``LogFacts`` and the executor that runs ``Job`` values code
against them. Every type is a frozen, slotted dataclass, so plans compare by value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from orders_sync.exceptions import UsageError

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Calendar days ``start..end``, both ends included; never empty.

    ``len(r)`` is the number of days; ``day in r`` tests membership.
    """

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"A date range cannot end ({self.end}) before it starts ({self.start})."
            )

    def __len__(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        # datetime is a date subclass but does not compare with date: reject it explicitly.
        if not isinstance(day, date) or isinstance(day, datetime):
            return False
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def overlaps(self, other: DateRange) -> bool:
        """Whether the two ranges share at least one day."""
        return self.start <= other.end and other.start <= self.end

    def days(self) -> Iterator[date]:
        """Every day of the range, in order."""
        day = self.start
        while day <= self.end:
            yield day
            day += ONE_DAY


@dataclass(frozen=True, slots=True)
class StoreRef:
    """The part of a ``store_master`` row the planner needs."""

    store_code: str
    sync_group: str
    cost_center: str | None
    start_date: date


@dataclass(frozen=True, slots=True)
class PipelineRef:
    """A ``pipelines`` row: ``code`` is ``'td_orders_sync'`` or ``'uc_orders_sync'``."""

    code: str
    id: int


@dataclass(frozen=True, slots=True)
class LogFacts:
    """What ``orders_sync_log`` says about one (pipeline_id, store_code).

    Only ``status = 'success'`` rows count. Ranges in ``covered`` and ``settled`` are
    expected merged and ordered; the planner normalises them anyway.

    Attributes:
        last_success_to: ``MAX(to_date)`` of the success rows, ``None`` when there are none.
        success_windows: exact ``(from_date, to_date)`` of success rows. The planner looks up
            only windows whose ``to_date`` is at least
            ``min(last_success_to - overlap_days + 1, today)``; the SQL side may omit the
            others. Note the ``today`` term: the today refresh looks up ``(today, today)``
            exactly when ``today < last_success_to - overlap_days + 1`` (always the case with
            ``overlap_days = 0`` and a log complete up to today), so omitting it would make
            the planner re-run today's refresh although it already succeeded.
        covered: merged union of all success windows (islands), ordered.
        settled: merged union over success rows of
            ``[from_date, min(to_date, started_on - settle_days)]``, where ``started_on`` is
            ``created_at``'s date in the pipeline timezone; empty ranges dropped. Only read
            when ``settle_days > 0``.
    """

    last_success_to: date | None
    success_windows: frozenset[tuple[date, date]]
    covered: tuple[DateRange, ...]
    settled: tuple[DateRange, ...] = ()


class WindowReason(StrEnum):
    """Why a planned window runs; declaration order is display order."""

    MISSING = "missing"  # no success for exactly this window
    OVERLAP = "overlap"  # overlaps the last K successful days
    TODAY = "today"  # the today refresh
    FORCE = "force"  # --force: the log is ignored
    HOLE = "hole"  # days before the last success that no success window covers
    SETTLE = "settle"  # covered days not yet re-fetched settle_days after them


@dataclass(frozen=True, slots=True)
class PlannedWindow:
    """One pipeline run for one store over ``from_date..to_date`` (inclusive)."""

    from_date: date
    to_date: date
    reasons: tuple[WindowReason, ...]

    def __post_init__(self) -> None:
        if self.to_date < self.from_date:
            raise ValueError(
                f"A planned window cannot end ({self.to_date}) before it starts ({self.from_date})."
            )
        if not self.reasons:
            raise ValueError("A planned window needs at least one reason to run.")

    @property
    def days(self) -> int:
        """Number of days in the window."""
        return (self.to_date - self.from_date).days + 1

    def as_range(self) -> DateRange:
        """The window's days as a ``DateRange``."""
        return DateRange(self.from_date, self.to_date)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """The planning knobs of the command line and the DAG conf.

    Attributes:
        window_days: N, the size of each chunk (``--window-days``).
        overlap_days: K, how many most recent successful days always re-run
            (``--overlap-days``).
        force: ignore the log and re-run everything from ``start_date`` (``--force``).
        settle_days: S, re-fetch a covered day once at least S days after it
            (``--settle-days``); 0 keeps the requirement's behaviour exactly.
    """

    window_days: int = 90
    overlap_days: int = 1
    force: bool = False
    settle_days: int = 0

    def __post_init__(self) -> None:
        _require_int("window_days", "--window-days", self.window_days, minimum=1)
        _require_int("overlap_days", "--overlap-days", self.overlap_days, minimum=0)
        _require_int("settle_days", "--settle-days", self.settle_days, minimum=0)
        if not isinstance(self.force, bool):
            raise UsageError(f"force (--force) must be true or false, got {self.force!r}.")


def _require_int(name: str, flag: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(
            f"{name} ({flag}) must be a whole number of at least {minimum}, got {value!r}."
        )


@dataclass(frozen=True, slots=True)
class Job:
    """Every window one store needs from one pipeline in this run, in date order."""

    store_code: str
    cost_center: str | None
    pipeline: PipelineRef
    windows: tuple[PlannedWindow, ...]

    @property
    def days(self) -> int:
        """Total number of days the job fetches."""
        return sum(window.days for window in self.windows)
