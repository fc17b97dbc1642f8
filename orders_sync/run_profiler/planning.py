"""Which date windows each store + pipeline must run: the AUTO WINDOW DECISION LOGIC.

Planning is a pure function of (stores, log facts, today, options) -> jobs: no database,
no clock, no I/O. Per store + pipeline, with N = ``window_days``, K = ``overlap_days``,
S = ``settle_days`` and ``last`` = the latest ``to_date`` of a success window:

1. ``next_from`` is ``start_date`` without any success, else
   ``max(start_date, last - (K - 1))``.
2. From ``next_from`` to ``today``, N-day windows (the last one ends at today). One runs
   when it overlaps the overlap range ``[last - K + 1, last]`` (empty when K = 0) or no
   success exists for exactly that window.
3. Beyond the requirement, before ``next_from``: days that no success window covers
   (holes) run in chunks of at most N days; with S > 0, covered days up to ``today - S``
   that no success started S days after them (unsettled) run the same way.
4. If no planned window includes today, ``(today, today)`` runs unless it succeeded exactly.
5. With R = ``stuck_after`` > 0, days that failed in R distinct runs with no success since
   (``LogFacts.stuck``) run last: every window is cut at the stuck days; the parts without
   them keep their date order, the parts over them (reason ``stuck``) follow, so a bad day at
   the source never keeps a store's later windows and today from running.

``--force`` means "ignore success windows and re-run everything": the store is planned as if
its log were empty, so every N-day window from ``start_date`` to ``today`` runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date

from orders_sync.domain import (
    ONE_DAY,
    DateRange,
    Job,
    LogFacts,
    PipelineRef,
    PlannedWindow,
    StoreRef,
    WindowReason,
    merge_ranges,
    shift_day,
    subtract_ranges,
)
from orders_sync.run_profiler.plan_types import PlanOptions

_REASON_TEXT: dict[WindowReason, str] = {
    WindowReason.MISSING: "missing: no successful run of exactly this window",
    WindowReason.OVERLAP: "overlap: re-fetches the most recent successful days for late data",
    WindowReason.TODAY: "today: the current-day refresh",
    WindowReason.FORCE: "force: --force re-runs everything",
    WindowReason.HOLE: "hole: no successful run covers these days, although later days succeeded",
    WindowReason.SETTLE: "settle: covered, but not re-fetched --settle-days after these days",
    WindowReason.STUCK: "stuck: failed in --stuck-after runs; runs after the store's other windows",
    WindowReason.STANDALONE: "standalone: a window given by hand to a pipeline's own command",
}


def plan_jobs(
    stores: Sequence[StoreRef],
    pipelines: Mapping[str, PipelineRef],
    facts: Mapping[tuple[int, str], LogFacts],
    today: date,
    options: PlanOptions,
) -> list[Job]:
    """Plans every store, each with the pipeline of its sync group.

    Args:
        stores: the selected ``store_master`` rows.
        pipelines: sync group (exact match, e.g. ``'TD'``) -> pipeline; stores of any other
            group are ignored.
        facts: log facts keyed by ``(pipeline.id, store_code)``; a missing key means the
            store has no success window for that pipeline.
        today: the current date in the pipeline timezone.
        options: the planning knobs.

    Returns:
        The jobs with at least one window due, ordered by (store_code, pipeline code).

    Raises:
        ValueError: the same store appears twice for the same pipeline.
    """
    jobs: list[Job] = []
    seen: set[tuple[str, str]] = set()
    for store in stores:
        pipeline = pipelines.get(store.sync_group)
        if pipeline is None:
            continue
        key = (store.store_code, pipeline.code)
        if key in seen:
            raise ValueError(
                f"Store {store.store_code} is listed twice for {pipeline.code}; "
                "store codes must be unique in the selection."
            )
        seen.add(key)
        store_facts = facts.get((pipeline.id, store.store_code))
        job = plan_store(store, pipeline, store_facts, today, options)
        if job is not None:
            jobs.append(job)
    jobs.sort(key=lambda job: (job.store_code, job.pipeline.code))
    return jobs


def plan_store(
    store: StoreRef,
    pipeline: PipelineRef,
    facts: LogFacts | None,
    today: date,
    options: PlanOptions,
) -> Job | None:
    """Plans one store + pipeline; see the module docstring for the rules.

    Args:
        store: the store.
        pipeline: the pipeline of the store's sync group.
        facts: the log facts of this store + pipeline, ``None`` when it never succeeded.
        today: the current date in the pipeline timezone.
        options: the planning knobs; ``force`` plans as if the log were empty.

    Returns:
        The job, or ``None`` when nothing is due (including ``start_date`` after today).
    """
    windows = plan_windows(store.start_date, facts, today, options)
    if not windows:
        return None
    return Job(
        store_code=store.store_code,
        cost_center=store.cost_center,
        pipeline=pipeline,
        windows=windows,
    )


def next_from_date(start_date: date, last_success_to: date | None, overlap_days: int) -> date:
    """The requirement's starting point: where the regular N-day windows begin."""
    if last_success_to is None:
        return start_date
    return max(start_date, shift_day(last_success_to, -(overlap_days - 1)))


def plan_windows(
    start_date: date,
    facts: LogFacts | None,
    today: date,
    options: PlanOptions,
) -> tuple[PlannedWindow, ...]:
    """The windows one store + pipeline must run, sorted and never overlapping.

    Args:
        start_date: the store's ``store_master.start_date``.
        facts: the log facts, ``None`` when there is no success window.
        today: the current date in the pipeline timezone.
        options: the planning knobs; ``force`` plans as if the log were empty.

    Returns:
        The windows, all inside ``start_date..today``; empty when nothing is due.
    """
    if start_date > today:
        return ()
    if options.force:
        forced = [
            PlannedWindow(chunk.start, chunk.end, (WindowReason.FORCE,))
            for chunk in DateRange(start_date, today).chunks(options.window_days)
        ]
        return _stuck_days_last(forced, facts, options)

    last = facts.last_success_to if facts is not None else None
    succeeded = facts.success_windows if facts is not None else frozenset()
    next_from = next_from_date(start_date, last, options.overlap_days)
    overlap = (
        DateRange(shift_day(last, -(options.overlap_days - 1)), last)
        if last is not None and options.overlap_days > 0
        else None
    )

    windows: list[PlannedWindow] = []
    if facts is not None and next_from > start_date:
        windows.extend(_earlier_windows(start_date, next_from, facts, today, options))

    if next_from <= today:
        for chunk in DateRange(next_from, today).chunks(options.window_days):
            reasons: list[WindowReason] = []
            if (chunk.start, chunk.end) not in succeeded:
                reasons.append(WindowReason.MISSING)
            if overlap is not None and chunk.overlaps(overlap):
                reasons.append(WindowReason.OVERLAP)
            if reasons:
                windows.append(PlannedWindow(chunk.start, chunk.end, tuple(reasons)))

    if not any(window.from_date <= today <= window.to_date for window in windows) and (
        (today, today) not in succeeded
    ):
        windows.append(PlannedWindow(today, today, (WindowReason.TODAY,)))

    windows.sort(key=lambda window: window.from_date)
    return _stuck_days_last(windows, facts, options)


def _stuck_days_last(
    windows: Sequence[PlannedWindow], facts: LogFacts | None, options: PlanOptions
) -> tuple[PlannedWindow, ...]:
    """``windows`` (sorted) with their stuck days cut out and moved, in order, to the end."""
    stuck = merge_ranges(facts.stuck) if facts is not None and options.stuck_after > 0 else []
    if not stuck:
        return tuple(windows)
    regular: list[PlannedWindow] = []
    last: list[PlannedWindow] = []
    for window in windows:
        span = window.as_range()
        for part in subtract_ranges([span], stuck):
            regular.append(PlannedWindow(part.start, part.end, window.reasons))
        for island in stuck:
            if island.overlaps(span):
                last.append(
                    PlannedWindow(
                        max(island.start, span.start),
                        min(island.end, span.end),
                        (*window.reasons, WindowReason.STUCK),
                    )
                )
    return (*regular, *last)


def _earlier_windows(
    start_date: date,
    next_from: date,
    facts: LogFacts,
    today: date,
    options: PlanOptions,
) -> Iterator[PlannedWindow]:
    """Hole and settle windows: the days before ``next_from`` that still need a run."""
    earlier = DateRange(start_date, min(next_from - ONE_DAY, today))
    covered = merge_ranges(facts.covered)
    for hole in subtract_ranges([earlier], covered):
        for chunk in hole.chunks(options.window_days):
            yield PlannedWindow(chunk.start, chunk.end, (WindowReason.HOLE,))

    if options.settle_days == 0:
        return
    settle_end = min(shift_day(today, -options.settle_days), earlier.end)
    if settle_end < start_date:
        return
    span = DateRange(start_date, settle_end)
    covered_in_span = [
        DateRange(max(island.start, span.start), min(island.end, span.end))
        for island in covered
        if island.overlaps(span)
    ]
    for unsettled in subtract_ranges(covered_in_span, merge_ranges(facts.settled)):
        for chunk in unsettled.chunks(options.window_days):
            yield PlannedWindow(chunk.start, chunk.end, (WindowReason.SETTLE,))


def describe_job(job: Job) -> str:
    """Human-readable text of one job for ``--dry-run``: each window and why it runs."""
    cost_center = f" (cost center {job.cost_center})" if job.cost_center else ""
    count = len(job.windows)
    lines = [
        f"{job.store_code} {job.pipeline.code}{cost_center}: "
        f"{count} window{'s' if count != 1 else ''}, {job.days} day{'s' if job.days != 1 else ''}"
    ]
    for window in job.windows:
        length = f"{window.days} day{'s' if window.days != 1 else ''}"
        why = "; ".join(_REASON_TEXT[reason] for reason in window.reasons)
        lines.append(
            f"  {window.from_date.isoformat()}..{window.to_date.isoformat()}  {length:>9}  {why}"
        )
    return "\n".join(lines)


def describe_plan(jobs: Sequence[Job]) -> str:
    """Human-readable text of a whole plan for ``--dry-run``."""
    if not jobs:
        return "Nothing is due: every store is up to date."
    return "\n\n".join(describe_job(job) for job in jobs)
