"""One mapped ``sync_store`` task's batch of store + pipeline plans, run one after the other
in one run slot.

Each plan keeps the design card's rules: its windows in order under its store's advisory
lock, stopping at its first failed or partial window — and one failing store never stops the
other stores of the batch. The batch has a deadline grown from its planned work
(:mod:`.deadline`): past it, the window in flight is closed ``interrupted`` and the batch's
other plans do not start (the next run plans them again). SIGTERM (a killed task) stops the
batch the same way (:mod:`orders_sync.runs.stopping`), and so does a lost supervisor.

A batch executed again in the same DAG run (a retry, a scheduler reset, a *Clear*) resumes
from the log (:mod:`orders_sync.runs.resume`): finished plans are not run again, the others
carry on at their first unfinished window.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from orders_sync.airflow_support.deadline import batch_deadline_s, deadline
from orders_sync.airflow_support.run_slots import run_slot
from orders_sync.config import get_settings
from orders_sync.db.repositories import sync_log
from orders_sync.domain import Job, NotRun
from orders_sync.exceptions import RunInterrupted
from orders_sync.pipelines.registry import job_pipeline
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync.run_profiler.progress import ProgressMeter, log_job_result
from orders_sync.runs.results import JobResult, without_result
from orders_sync.runs.resume import continued, resume
from orders_sync.runs.steps import run_job
from orders_sync.runs.stopping import mark_interrupted, stop_on_signals
from orders_sync.sources import pacing, registry

logger = logging.getLogger(__name__)

SUPERVISOR_CHECK_S = 1.0


def run_batch(
    engine: sa.Engine,
    jobs: Sequence[Job],
    *,
    label: str,
    run_id: str,
    options: ProfilerOptions,
    budget_ends: float | None = None,
) -> list[JobResult]:
    """Run ``jobs`` in order under the batch's deadline; one result per job, always.

    Args:
        label: the batch's label, for the log.
        run_id: the profiler run.
        options: the run's options (``env``, ``max_workers``: the run's slots).
        budget_ends: when the run's time budget ends (``time.time()``): no window starts
            after it, the one in flight finishes — no interruption, the next run continues.
    """
    settings = get_settings()
    # The run's request budget of each source, split over the run's slots (its max_workers
    # batches at once): every task of the run together stays within it.
    pacing.set_share(1 / options.max_workers)
    seconds = batch_deadline_s(
        jobs, per_day_s=settings.timeout_per_day_s, ceiling_s=settings.task_timeout_s
    )
    budgeted = {
        source.pipeline_code
        for source in registry.sources()
        if settings.endpoint(source.sync_group).max_rps
    }
    if any(job.pipeline.code in budgeted for job in jobs):  # requests bound: daily work first
        jobs = sorted(jobs, key=lambda job: not job.daily_only)
    with engine.connect() as conn:  # what earlier executions of this batch finished
        finished = sync_log.finished_windows_of_run(conn, run_id, [j.store_code for j in jobs])
    logger.info(
        "batch %s: %d plan(s), deadline %.0f s%s",
        label,
        len(jobs),
        seconds,
        f"; {len(finished)} window(s) already finished in this run" if finished else "",
    )
    results: list[JobResult] = []
    with (
        stop_on_signals((signal.SIGTERM,)) as stop,
        stop_without_supervisor(stop),
        run_slot(engine, run_id, options.max_workers),
        ProgressMeter(
            sum(len(job.windows) for job in jobs), settings.progress_interval_s, run_id
        ) as meter,
    ):
        halt = _halt_at(stop, budget_ends)
        try:
            with deadline(seconds, stop):
                for job in jobs:
                    resumption = resume(job, finished)
                    if resumption.finished is not None:
                        results.append(resumption.finished)
                    elif resumption.remaining is not None:
                        try:
                            result = run_job(
                                engine,
                                resumption.remaining,
                                job_pipeline(job, engine, settings),
                                run_id=run_id,
                                run_env=options.env,
                                stop_event=halt,
                                on_window=meter.on_window,
                            )
                        except Exception as exc:  # a bug: this store only
                            crashed = f"{type(exc).__name__}: {exc}"
                            result = JobResult(job.store_code, job.pipeline.code, crashed=crashed)
                        results.append(continued(resumption, result))
                    log_job_result(results[-1])
        except RunInterrupted as exc:  # the deadline, in the middle of a window
            for job in without_result(jobs, results):
                results.append(
                    JobResult(
                        job.store_code,
                        job.pipeline.code,
                        crashed=str(exc),
                        reason=NotRun.INTERRUPTED,
                    )
                )
                log_job_result(results[-1])
    if stop.is_set():  # plans the stop left unfinished: not delivered, yet not failed
        results = mark_interrupted(results)
    return results


def _halt_at(stop: threading.Event, budget_ends: float | None) -> threading.Event:
    """``stop``, or an event set by ``stop`` or at ``budget_ends``, whichever comes first."""
    if budget_ends is None:
        return stop
    halt = threading.Event()

    def wait() -> None:
        stop.wait(max(0.0, budget_ends - time.time()))
        halt.set()

    threading.Thread(target=wait, name="orders_sync-time-budget", daemon=True).start()
    return halt


@contextlib.contextmanager
def stop_without_supervisor(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` when this task process loses its supervisor (Airflow's parent process,
    which heartbeats the task): a task nobody supervises finishes its window in flight and
    starts no other — its store's work is left to a retry or the next run."""
    parent = os.getppid()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(SUPERVISOR_CHECK_S):
            if os.getppid() != parent:
                logger.error("the task's supervisor (pid %d) is gone: no new window starts", parent)
                stop.set()
                return

    watcher = threading.Thread(target=watch, name="orders_sync-supervisor", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
