"""Run a plan: jobs in parallel across stores, at most ``max_workers`` at once.

Threads are enough: the work is HTTP and database I/O. Each job holds its store's advisory
lock (see :func:`orders_sync.run_profiler.service.run_job`), so a store never runs twice at
once, in this process or any other. A stop request (SIGINT/SIGTERM) stops every job before
its next window; windows still in flight after a short grace are closed as failed
(``interrupted``) and the run's summary is written.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from orders_sync import run_lifecycle
from orders_sync.config import Settings
from orders_sync.db.engine import check_connection
from orders_sync.db.repositories import run_summaries, sync_log
from orders_sync.db.repositories.pipelines import RUN_PROFILER
from orders_sync.run_profiler import service
from orders_sync.run_profiler.plan_types import Job

logger = logging.getLogger(__name__)

INTERRUPT_GRACE_S = 3.0
_POLL_S = 0.2


@dataclasses.dataclass(frozen=True)
class ProfilerRun:
    """A finished (or interrupted) profiler run."""

    outcome: service.RunOutcome
    jobs: tuple[Job, ...]
    results: tuple[service.JobResult, ...]
    interrupted: bool

    @property
    def skipped_stores(self) -> int:
        """Stores whose lock was held by another process."""
        return sum(1 for result in self.results if result.skipped)


def run_profiler(
    engine: sa.Engine,
    options: service.ProfilerOptions,
    settings: Settings,
    *,
    stop_event: threading.Event | None = None,
    on_window: Callable[[service.WindowReport], None] | None = None,
    today: dt.date | None = None,
) -> ProfilerRun:
    """One whole standalone run: validate, plan, start the summary, execute, finish.

    Everything a user can get wrong (options, unknown store, unreachable database) is
    checked before the first write.
    """
    stop_event = stop_event or threading.Event()
    options.validate()
    check_connection(engine)
    jobs = service.plan_run(engine, options, settings, today=today)
    run_id = run_summaries.new_run_id(RUN_PROFILER)
    with run_lifecycle.hold_run(engine, run_id):
        run_lifecycle.close_abandoned_runs(engine)
        service.start_run(engine, options, settings, run_id=run_id, today=today)
        return _run_started(engine, jobs, run_id, options, settings, stop_event, on_window)


def _run_started(
    engine: sa.Engine,
    jobs: list[Job],
    run_id: str,
    options: service.ProfilerOptions,
    settings: Settings,
    stop_event: threading.Event,
    on_window: Callable[[service.WindowReport], None] | None,
) -> ProfilerRun:
    logger.info(
        "run %s: %d job(s), %d window(s), max_workers=%d",
        run_id,
        len(jobs),
        sum(len(job.windows) for job in jobs),
        options.max_workers,
        extra={"run_id": run_id},
    )
    results: list[service.JobResult] = []
    crashed = 0
    try:
        results, crashed = _execute(engine, jobs, run_id, options, settings, stop_event, on_window)
    finally:
        if stop_event.is_set():
            with engine.begin() as conn:  # our own rows: this process is their owner
                sync_log.close_rows(
                    conn,
                    sync_log.running_rows(conn, run_id=run_id),
                    "interrupted: the run was stopped",
                )
        outcome = service.finish_run(
            engine,
            run_id,
            skipped_stores=sum(1 for r in results if r.skipped),
            crashed_jobs=crashed,
            unlogged_failures=sum(r.unlogged_failures for r in results),
            interrupted=stop_event.is_set(),
            settings=settings,
        )
    return ProfilerRun(
        outcome=outcome,
        jobs=tuple(jobs),
        results=tuple(results),
        interrupted=stop_event.is_set(),
    )


def _execute(
    engine: sa.Engine,
    jobs: Sequence[Job],
    run_id: str,
    options: service.ProfilerOptions,
    settings: Settings,
    stop_event: threading.Event,
    on_window: Callable[[service.WindowReport], None] | None,
) -> tuple[list[service.JobResult], int]:
    results: list[service.JobResult] = []
    crashed = 0
    pool = futures.ThreadPoolExecutor(
        max_workers=options.max_workers, thread_name_prefix="orders_sync"
    )
    pending = {
        pool.submit(
            service.run_job,
            engine,
            job,
            run_id=run_id,
            options=options,
            settings=settings,
            stop_event=stop_event,
            on_window=on_window,
        ): job
        for job in jobs
    }
    try:
        while pending:
            done, _ = futures.wait(pending, timeout=_POLL_S, return_when=futures.FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    results.append(future.result())
                except Exception as exc:  # a bug or a dead database: count it, go on
                    crashed += 1
                    logger.error(
                        "store %s %s crashed: %s: %s",
                        job.store_code,
                        job.pipeline.code,
                        type(exc).__name__,
                        exc,
                        extra={"run_id": run_id, "store_code": job.store_code},
                    )
                    results.append(
                        service.JobResult(
                            job.store_code,
                            job.pipeline.code,
                            crashed=f"{type(exc).__name__}: {exc}",
                        )
                    )
            if stop_event.is_set():
                futures.wait(pending, timeout=INTERRUPT_GRACE_S)
                break
    finally:
        # On a stop request, do not wait for windows still blocked on the network: they are
        # closed as interrupted by the caller, and the process exits.
        pool.shutdown(wait=not stop_event.is_set(), cancel_futures=True)
    return results, crashed
