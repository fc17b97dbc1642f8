"""A job run a window at a time, under its store's claim: :func:`job_steps`.

The first failed or partial window stops the store for this run; there is no retry loop.
:func:`run_job` drives one job from its first window to its last in the caller's thread;
the profiler's executor takes the steps of many jobs on its worker threads instead
(:func:`next_step`, :func:`job_ended`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager

import sqlalchemy as sa

from orders_sync.config import get_settings
from orders_sync.db.engine import wait_for_database
from orders_sync.db.repositories import sync_log
from orders_sync.domain import Job, NotRun, Status
from orders_sync.exceptions import DatabaseLost
from orders_sync.pipelines.window import WindowPipeline, WindowRequest, WindowResult
from orders_sync.runs.claims import StoreClaim, claim_store
from orders_sync.runs.results import JobResult, WindowReport

logger = logging.getLogger(__name__)


PipelineOpener = Callable[[], AbstractContextManager[WindowPipeline]]
"""Opens the job's pipeline (and its source client) for the job's life."""

JobSteps = Generator[WindowReport, None, JobResult]
"""A job run a window at a time: each ``next()`` runs one window and yields its report; the
job's result is the generator's return value (:func:`finish_job` drives one to its end)."""


def job_steps(
    engine: sa.Engine,
    job: Job,
    open_pipeline: PipelineOpener,
    *,
    run_id: str,
    run_env: str,
    stop_event: threading.Event | None = None,
) -> JobSteps:
    """Run one store's windows in order under the store's claim (:func:`claim_store`), with
    its pipeline opened by ``open_pipeline`` for the job's life.

    The first failed or partial window stops the store for this run; there is no retry
    loop. When another run holds the store the job is skipped, never run twice at once.
    Window-level failures never raise (see the result); an unexpected error does.

    The claim is held from the first step to the last, so the steps may be taken by
    different threads (never two at once) with other stores' windows in between — the
    profiler's executor interleaves stores this way. A step taken after ``stop_event`` is
    set runs no window: it returns the result so far at once.
    """
    reports: list[WindowReport] = []

    def stopped(index: int, crashed: str | None = None, reason: NotRun | None = None) -> JobResult:
        """The result of a job that ran ``reports`` and stopped before window ``index``."""
        return JobResult(
            job.store_code,
            job.pipeline.code,
            windows=tuple(reports),
            not_run=len(job.windows) - index,
            crashed=crashed,
            reason=reason,
        )

    if stop_event is not None and stop_event.is_set():
        return stopped(0)
    with contextlib.ExitStack() as held:
        try:
            pipeline = held.enter_context(open_pipeline())
            claim = held.enter_context(claim_store(engine, job.store_code, run_id))
        except DatabaseLost as lost:  # the database went away as the job began, stayed away
            return stopped(0, crashed=str(lost), reason=NotRun.DATABASE_UNAVAILABLE)
        if not claim.acquired:
            holder = f" ({claim.busy_with})" if claim.busy_with else ""
            logger.warning(
                "store %s is locked by another run%s: skipped",
                job.store_code,
                holder,
                extra={
                    "run_id": run_id,
                    "pipeline": job.pipeline.code,
                    "store_code": job.store_code,
                    "status": Status.SKIPPED,
                },
            )
            return JobResult(job.store_code, job.pipeline.code, skipped=True)
        for index, window in enumerate(job.windows):
            if stop_event is not None and stop_event.is_set():
                return stopped(index)
            reasons = tuple(str(reason) for reason in window.reasons)
            request = WindowRequest(
                store_code=job.store_code,
                cost_center=job.cost_center,
                from_date=window.from_date,
                to_date=window.to_date,
                run_id=run_id,
                run_env=run_env,
                window_reason=sync_log.reasons_column(reasons),
            )
            started = time.monotonic()
            try:
                result = _run_window(engine, claim, pipeline, request, stop_event)
            except _NotOurs as why:
                return stopped(index, crashed=why.detail, reason=why.reason)
            report = WindowReport(
                store_code=job.store_code,
                pipeline=job.pipeline.code,
                from_date=window.from_date,
                to_date=window.to_date,
                status=result.status,
                rows_fetched=result.rows_fetched,
                duration_s=time.monotonic() - started,
                error_message=result.error_message,
                reasons=reasons,
                logged=result.log_id is not None,
                rows_inserted=result.rows_inserted,
                rows_updated=result.rows_updated,
            )
            reports.append(report)
            yield report
            if result.status != Status.SUCCESS:
                return stopped(index + 1)
        return JobResult(job.store_code, job.pipeline.code, windows=tuple(reports))


DATABASE_RETRIES = 3
"""How often one window is retried after the orders database stopped answering under it
(each time once the database answers again, waiting up to ``ORDERS_SYNC_DATABASE_WAIT``)."""
LOST_LOCK = "lost the store lock to another run"


class _NotOurs(Exception):
    """The window cannot run: the store is no longer ours, or the database is gone."""

    def __init__(self, detail: str, reason: NotRun = NotRun.CRASHED) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def _run_window(
    engine: sa.Engine,
    claim: StoreClaim,
    pipeline: WindowPipeline,
    request: WindowRequest,
    stop_event: threading.Event | None,
) -> WindowResult:
    """Run one window under the claim; a window the database dropped under it is retried
    (on its own row, ``attempt_no`` + 1) once the database answers again.

    Raises:
        _NotOurs: the store's lock went to another run, or the database did not come back.
    """
    wait_s = get_settings().database_wait_s
    for attempt in range(DATABASE_RETRIES + 1):
        try:
            if not claim.verify():
                raise _NotOurs(LOST_LOCK)
        except DatabaseLost as lost:
            raise _NotOurs(str(lost), NotRun.DATABASE_UNAVAILABLE) from lost
        result = pipeline.run_window(request)
        if not result.database_lost:
            return result
        logger.warning(
            "store %s %s..%s: the orders database stopped answering (%s); waiting up to %.0f s",
            request.store_code,
            request.from_date,
            request.to_date,
            result.error_message,
            wait_s,
            extra={"run_id": request.run_id, "store_code": request.store_code},
        )
        if attempt == DATABASE_RETRIES or not wait_for_database(engine, wait_s, stop=stop_event):
            raise _NotOurs(
                f"{result.error_message}; it did not answer again within {wait_s:.0f} s",
                NotRun.DATABASE_UNAVAILABLE,
            )
    raise AssertionError("unreachable")


def next_step(
    steps: JobSteps, on_window: Callable[[WindowReport], None] | None = None
) -> WindowReport | JobResult:
    """Take one step of a job: the window's report (``on_window`` sees it first), or the
    job's result when it has ended."""
    try:
        report = next(steps)
    except StopIteration as done:
        result: JobResult = done.value
        return result
    if on_window is not None:
        on_window(report)
    return report


def finish_job(
    steps: JobSteps, on_window: Callable[[WindowReport], None] | None = None
) -> JobResult:
    """Take every step of a job; ``on_window`` sees each window's report as it ends."""
    while isinstance(step := next_step(steps, on_window), WindowReport):
        pass
    return step


def job_ended(job: Job, report: WindowReport) -> bool:
    """Whether ``report``'s window was the job's last step: it did not succeed (the store
    stops), or it was the job's last window."""
    last = job.windows[-1]
    return report.status != Status.SUCCESS or (report.from_date, report.to_date) == (
        last.from_date,
        last.to_date,
    )


def run_job(
    engine: sa.Engine,
    job: Job,
    open_pipeline: PipelineOpener,
    *,
    run_id: str,
    run_env: str,
    stop_event: threading.Event | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
) -> JobResult:
    """:func:`job_steps` from the first window to the last, in the caller's thread."""
    return finish_job(
        job_steps(
            engine, job, open_pipeline, run_id=run_id, run_env=run_env, stop_event=stop_event
        ),
        on_window,
    )
