"""One profiler run on the command line: plan, open the run, jobs in parallel, close it.

The work is HTTP and database I/O, run by threads: at most ``max_workers`` windows run at
once; each store's windows run in order, one at a time, under its store's claim
(:func:`orders_sync.runs.steps.job_steps`), so a store never runs twice at once, in this
process or any other. Which store's window a free worker takes next is the
:class:`~orders_sync.run_profiler.window_queue.WindowQueue`'s choice. Parsing and row
formatting hold the GIL, so with enough workers and CPUs the threads are spread over
worker processes (:mod:`~orders_sync.run_profiler.shards`). A stop request
(SIGINT/SIGTERM) stops every job before its next window; windows still in flight after a
short grace are closed as failed (``interrupted``) and the run's summary is written.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa

from orders_sync.alerts.send import alert_run
from orders_sync.config import Settings
from orders_sync.db.engine import check_connection, pool_connections
from orders_sync.db.repositories import sync_log
from orders_sync.domain import RUN_PROFILER, Job, WindowReason
from orders_sync.pipelines.registry import job_pipeline
from orders_sync.run_profiler.load_plan import check_run, plan_run
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.progress import ProgressMeter
from orders_sync.run_profiler.shards import run_in_shards, shard_count
from orders_sync.run_profiler.window_queue import WindowQueue, open_limit
from orders_sync.runs import lifecycle
from orders_sync.runs.results import JobResult, RunOutcome, WindowReport, without_result
from orders_sync.runs.steps import JobSteps, finish_job, job_ended, job_steps, next_step
from orders_sync.sources import registry
from orders_sync.status.coverage import StoreStatus
from orders_sync.status.load import read_statuses, stale

logger = logging.getLogger(__name__)

INTERRUPT_GRACE_S = 3.0
_POLL_S = 0.2


@dataclasses.dataclass(frozen=True)
class ProfilerRun:
    """A finished (or interrupted) profiler run."""

    outcome: RunOutcome
    jobs: tuple[Job, ...]
    results: tuple[JobResult, ...]
    interrupted: bool

    @property
    def skipped_stores(self) -> int:
        """Stores whose lock was held by another process."""
        return sum(1 for result in self.results if result.skipped)


class ProfilerCounters:
    """The profiler's own counters for ``summary_text``, read when the run closes.

    ``settle_windows`` and ``stuck_windows`` of the run, and ``stale_stores``: the selected
    stores more than ``max_days_behind`` days behind after it (the freshness check). The
    statuses read for the last are kept, for the alert.
    """

    def __init__(self, run_id: str, options: ProfilerOptions, today: dt.date) -> None:
        self.run_id = run_id
        self.options = options
        self.today = today
        self.statuses: list[StoreStatus] = []

    def __call__(self, conn: sa.Connection) -> Mapping[str, int]:
        reasons = sync_log.reason_counts_for_run(conn, self.run_id)
        self.statuses = read_statuses(
            conn,
            today=self.today,
            sync_group=self.options.sync_group,
            store_code=self.options.store_code,
            stuck_after=self.options.stuck_after,
        )
        counters = {
            "settle_windows": reasons.get(str(WindowReason.SETTLE), 0),
            "stuck_windows": reasons.get(str(WindowReason.STUCK), 0),
            "stale_stores": len(stale(self.statuses, self.options.max_days_behind)),
        }
        return {name: n for name, n in counters.items() if n}


def run_profiler(
    engine: sa.Engine,
    options: ProfilerOptions,
    settings: Settings,
    *,
    stop_event: threading.Event | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
    today: dt.date | None = None,
) -> ProfilerRun:
    """One whole standalone run: plan, open the summary, execute, close.

    Everything a user can get wrong (options, unknown store, unreachable database, the CRM
    of a selected store not configured) is checked before the first write.

    Args:
        today: the run's today (replays, tests); else today in the pipeline timezone —
            decided once, here, for the plan and the summary alike.
    """
    stop_event = stop_event or threading.Event()
    today = today or settings.today()
    check_connection(engine)
    with engine.connect() as conn:
        check_run(conn, options, settings)
    jobs = plan_run(engine, options, settings, today=today)
    with lifecycle.process_run(
        engine, pipeline_name=RUN_PROFILER, run_env=options.env, report_date=today
    ) as run_id:
        logger.info(
            "run %s: %d job(s), %d window(s), max_workers=%d",
            run_id,
            len(jobs),
            sum(len(job.windows) for job in jobs),
            options.max_workers,
            extra={"run_id": run_id},
        )
        results: list[JobResult] = []
        counters = ProfilerCounters(run_id, options, today)
        planned = sum(len(job.windows) for job in jobs)
        try:
            with ProgressMeter(planned, settings.progress_interval_s, run_id) as meter:
                results = _execute_run(
                    engine, jobs, run_id, options, settings, stop_event, _both(meter, on_window)
                )
        finally:
            outcome = lifecycle.close_run(
                engine, run_id, results, interrupted=stop_event.is_set(), more=counters
            )
    alert_run(
        engine,
        settings,
        outcome.run_id,
        statuses=counters.statuses,
        max_days_behind=options.max_days_behind,
    )
    return ProfilerRun(
        outcome=outcome,
        jobs=tuple(jobs),
        results=tuple(results),
        interrupted=stop_event.is_set(),
    )


def _both(
    meter: ProgressMeter, on_window: Callable[[WindowReport], None] | None
) -> Callable[[WindowReport], None]:
    def report(window: WindowReport) -> None:
        meter.on_window(window)
        if on_window is not None:
            on_window(window)

    return report


def _execute_run(
    engine: sa.Engine,
    jobs: Sequence[Job],
    run_id: str,
    options: ProfilerOptions,
    settings: Settings,
    stop_event: threading.Event,
    on_window: Callable[[WindowReport], None],
) -> list[JobResult]:
    """The run's jobs in this process's threads, or split over worker processes
    (:mod:`~orders_sync.run_profiler.shards`) when there are CPUs and workers for it."""
    budget = options.time_budget_s
    ends = time.monotonic() + budget if budget is not None else None  # one clock, every shard
    shards = shard_count(options.max_workers, os.cpu_count() or 1)
    if shards == 1 or len(jobs) < 2:
        return _execute(engine, jobs, run_id, options, settings, stop_event, on_window, ends)

    def execute(
        engine: sa.Engine,
        shard_jobs: Sequence[Job],
        workers: int,
        stop: threading.Event,
        report: Callable[[WindowReport], None],
    ) -> list[JobResult]:
        shard_options = dataclasses.replace(options, max_workers=workers)
        return _execute(engine, shard_jobs, run_id, shard_options, settings, stop, report, ends)

    logger.info(
        "run %s: %d worker processes",
        run_id,
        shards,
        extra={"run_id": run_id},
    )
    return run_in_shards(
        engine,
        jobs,
        max_workers=options.max_workers,
        shards=shards,
        execute=execute,
        stop_event=stop_event,
        on_window=on_window,
        grace_s=INTERRUPT_GRACE_S,
        run_id=run_id,
    )


def _execute(
    engine: sa.Engine,
    jobs: Sequence[Job],
    run_id: str,
    options: ProfilerOptions,
    settings: Settings,
    stop_event: threading.Event,
    on_window: Callable[[WindowReport], None] | None,
    budget_ends: float | None = None,
) -> list[JobResult]:
    """Run the jobs' windows on ``max_workers`` threads, dealt by a :class:`WindowQueue`.

    Only this thread touches the queue; a job's steps are taken by one worker at a time.
    Past ``budget_ends`` (``time.monotonic()``; the run's time budget) no new window is
    dealt and the windows in flight finish; unlike a stop request, that is no interruption.
    """
    halt = threading.Event()  # no new window: the budget is spent, or a stop was requested

    def halted() -> bool:
        if stop_event.is_set() or (budget_ends is not None and time.monotonic() >= budget_ends):
            halt.set()
        return halt.is_set()

    # Requests bound the run when a source's request budget is set: daily freshness first.
    budgeted = {
        source.pipeline_code
        for source in registry.sources()
        if settings.endpoint(source.sync_group).max_rps
    }
    queue = WindowQueue(
        jobs,
        limit=open_limit(options.max_workers, pool_connections(engine)),
        daily_first=any(job.pipeline.code in budgeted for job in jobs),
    )
    steps: dict[int, JobSteps] = {}
    running: dict[futures.Future[JobResult | WindowReport], int] = {}
    results: list[JobResult] = []
    pool = futures.ThreadPoolExecutor(
        max_workers=options.max_workers, thread_name_prefix="orders_sync"
    )

    def deal() -> None:
        while len(running) < options.max_workers and not halted():
            index = queue.take()
            if index is None:
                return
            if index not in steps:
                job = queue.jobs[index]
                steps[index] = job_steps(
                    engine,
                    job,
                    job_pipeline(job, engine, settings),
                    run_id=run_id,
                    run_env=options.env,
                    stop_event=halt,
                )
            running[pool.submit(_step, steps[index], queue.jobs[index], on_window)] = index

    def collect(done: set[futures.Future[JobResult | WindowReport]]) -> None:
        for future in done:
            index = running.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # a bug or a dead database: count it, go on
                result = _crashed(queue.jobs[index], exc, run_id)
            if isinstance(result, WindowReport):
                queue.window_done(index, result.duration_s)
                continue
            steps.pop(index, None)
            queue.job_done(index)
            results.append(result)

    try:
        deal()
        while running:
            done, _ = futures.wait(running, timeout=_POLL_S, return_when=futures.FIRST_COMPLETED)
            collect(done)
            if stop_event.is_set():
                done, _ = futures.wait(running, timeout=INTERRUPT_GRACE_S)
                collect(done)
                break
            deal()
        if halted():  # jobs between windows end here, unlocked; the rest not run
            for index in queue.ready():
                if index in steps:
                    results.append(finish_job(steps.pop(index)))
            in_flight = {queue.jobs[index] for index in running.values()}
            results.extend(
                JobResult(job.store_code, job.pipeline.code, not_run=len(job.windows))
                for job in without_result(queue.jobs, results)
                if job not in in_flight
            )
    finally:
        # On a stop request, do not wait for windows still blocked on the network: they are
        # closed as interrupted by close_run, and the process exits.
        pool.shutdown(wait=not stop_event.is_set(), cancel_futures=True)
    return results


def _step(
    steps: JobSteps, job: Job, on_window: Callable[[WindowReport], None] | None
) -> JobResult | WindowReport:
    """Take a job's next step in a worker: the window's report when the job has more, else
    the job's result."""
    step = next_step(steps, on_window)
    if isinstance(step, JobResult):
        return step
    if job_ended(job, step):
        return finish_job(steps, on_window)  # the job ends: no turn in the queue
    return step


def _crashed(job: Job, exc: Exception, run_id: str) -> JobResult:
    logger.error(
        "store %s %s crashed: %s: %s",
        job.store_code,
        job.pipeline.code,
        type(exc).__name__,
        exc,
        extra={"run_id": run_id, "store_code": job.store_code},
    )
    return JobResult(job.store_code, job.pipeline.code, crashed=f"{type(exc).__name__}: {exc}")
