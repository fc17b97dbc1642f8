"""The project's vocabulary: statuses, limits, date ranges, plans.

The bottom layer: it imports nothing of orders_sync but :mod:`orders_sync.exceptions`, and
every other layer may use it. Each status, limit and mapping is defined here and nowhere
else.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


# --- statuses and close reasons -----------------------------------------------------------
class Status(StrEnum):
    """The status of an ``orders_sync_log`` row (requirement §C), of a job and of a run (§E).

    A ``StrEnum``: members equal the strings the database stores.
    """

    RUNNING = "running"
    SUCCESS = "success"
    PARTIAL = "partial"
    FAILED = "failed"
    SKIPPED = "skipped"
    """A job whose store another run held: nothing ran (never written to the log)."""

    @property
    def is_bad(self) -> bool:
        """Whether it fails a run: a window ended ``failed`` or ``partial``."""
        return self in BAD_STATUSES


FINAL_STATUSES = (Status.SUCCESS, Status.PARTIAL, Status.FAILED)
"""The statuses a window ends with; ``running`` is the only other one."""
BAD_STATUSES = frozenset({Status.FAILED, Status.PARTIAL})
"""The statuses that make a run fail (exit 1, the DAG's ``check``, an alert): one verdict."""


class NotRun(StrEnum):
    """Why a job of a run did not deliver its plan, when no window of it failed at the source
    (the one outcome of every store that did not sync: honest accounting)."""

    CRASHED = "crashed"
    """An unexpected error, a worker that died, a task that ended without a result."""
    INTERRUPTED = "interrupted"
    """Its window in flight was stopped (a deadline, a signal)."""
    STOPPED = "stopped"
    """A stop request came before it finished: windows left for the next run."""
    DATABASE_UNAVAILABLE = "database unavailable"
    """The orders database stopped answering and did not come back in time."""


class CloseReason(StrEnum):
    """Why a window was closed by the run lifecycle rather than ended by its source
    (``orders_sync_log.close_reason``). A window closed for one of these never makes a day
    stuck; ``error_message`` says the same for people."""

    ABANDONED = "abandoned"
    """Its process died, or its run ended while it was running."""
    INTERRUPTED = "interrupted"
    """Its run was stopped (a deadline, a signal) while it was running."""
    DATABASE_UNAVAILABLE = "database unavailable"
    """The orders database stopped answering under it and did not come back in time."""


# --- limits of the schema's columns ------------------------------------------------------
MAX_ENV_CHARS = 32
"""``orders_sync_log.run_env`` is ``VARCHAR(32)``."""
MAX_STORE_CODE_CHARS = 8
"""``store_master.store_code`` is ``VARCHAR(8)``."""
MAX_RUN_ID_CHARS = 64
"""``pipeline_run_summaries.run_id`` is ``VARCHAR(64)``."""

# --- the profiler's own pipeline (the sources' pipelines: orders_sync.sources.registry) ---
RUN_PROFILER = "orders_sync_run_profiler"

ONE_DAY = timedelta(days=1)
JOB_OVERHEAD_DAYS = 3
"""A job's fixed cost (lock, log rows, pipeline set-up) in days of fetching (:attr:`Job.work`)."""


def shift_day(day: date, days: int) -> date:
    """``day + days``, clamped to the calendar's limits instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


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

    def chunks(self, size: int) -> Iterator[DateRange]:
        """Consecutive ranges of ``size`` days covering this one; the last may be shorter.

        Raises:
            ValueError: ``size`` is below 1.
        """
        if size < 1:
            raise ValueError(f"a chunk holds at least 1 day, got {size}")
        start = self.start
        while True:
            end = min(shift_day(start, size - 1), self.end)
            yield DateRange(start, end)
            if end == self.end:
                return
            start = end + ONE_DAY


def merge_ranges(ranges: Iterable[DateRange]) -> list[DateRange]:
    """Sorted, with overlapping or adjacent ranges merged (as day sets they are one)."""
    merged: list[DateRange] = []
    for current in sorted(ranges, key=lambda r: r.start):
        if merged and current.start <= shift_day(merged[-1].end, 1):
            if current.end > merged[-1].end:
                merged[-1] = DateRange(merged[-1].start, current.end)
        else:
            merged.append(current)
    return merged


def subtract_ranges(
    minuend: Sequence[DateRange], subtrahend: Sequence[DateRange]
) -> list[DateRange]:
    """Days of ``minuend`` not in ``subtrahend``; both sorted and disjoint."""
    result: list[DateRange] = []
    first = 0
    for part in minuend:
        while first < len(subtrahend) and subtrahend[first].end < part.start:
            first += 1
        cursor: date | None = part.start
        for index in range(first, len(subtrahend)):
            cut = subtrahend[index]
            if cursor is None or cut.start > part.end:
                break
            if cut.start > cursor:
                result.append(DateRange(cursor, cut.start - ONE_DAY))
            cursor = None if cut.end >= part.end else max(cursor, cut.end + ONE_DAY)
        if cursor is not None:
            result.append(DateRange(cursor, part.end))
    return result


@dataclass(frozen=True, slots=True)
class StoreRef:
    """The part of a ``store_master`` row the planner needs."""

    store_code: str
    sync_group: str
    cost_center: str | None
    start_date: date


@dataclass(frozen=True, slots=True)
class PipelineRef:
    """A ``pipelines`` row of a source's pipeline."""

    code: str
    id: int


@dataclass(frozen=True, slots=True)
class LogFacts:
    """What ``orders_sync_log`` says about one (pipeline_id, store_code).

    Only ``status = 'success'`` rows count, except ``stuck``. Ranges in ``covered``,
    ``settled`` and ``stuck`` are expected merged and ordered; the planner normalises them
    anyway.

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
        stuck: the stuck days (interfaces.md "Stuck days"), merged and ordered: days that
            windows ended ``failed``/``partial`` over in at least ``stuck_after`` distinct
            runs with no success covering them since. Only read when ``stuck_after > 0``.
    """

    last_success_to: date | None
    success_windows: frozenset[tuple[date, date]]
    covered: tuple[DateRange, ...]
    settled: tuple[DateRange, ...] = ()
    stuck: tuple[DateRange, ...] = ()


class WindowReason(StrEnum):
    """Why a planned window runs; declaration order is display order."""

    MISSING = "missing"  # no success for exactly this window
    OVERLAP = "overlap"  # overlaps the last K successful days
    TODAY = "today"  # the today refresh
    FORCE = "force"  # --force: the log is ignored
    HOLE = "hole"  # days before the last success that no success window covers
    SETTLE = "settle"  # covered days not yet re-fetched settle_days after them
    STUCK = "stuck"  # holds stuck days: failed in stuck_after runs, run after the others
    STANDALONE = "standalone"  # a window given to a standalone pipeline command by hand


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

    @property
    def daily_only(self) -> bool:
        """Whether the job is only the daily freshness work: each window runs for the overlap
        or the today refresh (possibly missing too), none is backfill alone."""
        daily = {WindowReason.OVERLAP, WindowReason.TODAY}
        return all(daily & set(window.reasons) for window in self.windows)

    @property
    def work(self) -> int:
        """The job's planned work, for ordering and balancing: its days plus a constant for
        its fixed cost (lock, log rows, pipeline set-up), in days of fetching."""
        return self.days + JOB_OVERHEAD_DAYS


def longest_first(jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` by planned work, longest first (ties keep their order).

    Parallel workers that take the longest jobs first finish together (LPT): a new store
    with two years to backfill starts at once instead of last, as the run's straggler.
    """
    return sorted(jobs, key=lambda job: -job.work)


def deal_by_work(jobs: Sequence[Job], count: int) -> list[list[Job]]:
    """``jobs`` split into ``count`` lists of about equal planned work: longest first, each
    into the lightest list so far (LPT); each list keeps that order, some may be empty."""
    heap = [(0, index) for index in range(count)]
    dealt: list[list[Job]] = [[] for _ in range(count)]
    for job in longest_first(jobs):
        work, index = heapq.heappop(heap)
        dealt[index].append(job)
        heapq.heappush(heap, (work + job.work, index))
    return dealt
