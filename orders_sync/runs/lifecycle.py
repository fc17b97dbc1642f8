"""A run's life, the same for every front end: open → claim store → run windows → close.

- :func:`open_run` (or :func:`process_run` for a command-line process) closes abandoned runs
  and inserts the run's ``pipeline_run_summaries`` row (``running``);
- :func:`run_job` claims one store (:func:`claim_store`) and runs its windows in order,
  stopping at the first failed or partial one (:func:`job_steps`: the same, a window per
  step);
- :func:`close_run` closes what the run left ``running`` and writes the final summary with
  the one rule of :mod:`orders_sync.runs.summary`.

The profiler CLI (threads), the standalone pipelines (one store after the other) and the
DAG (``start`` / mapped ``sync_store`` / ``finish``) are three callers of these four calls.

Liveness, by owner kind (``orders_sync_run_owners``):

- ``process`` (the profiler CLI, the standalone pipeline CLIs): the owning process holds a
  session-level advisory lock on the run id for the run's whole life (:func:`hold_run`).
  PostgreSQL drops the lock with the connection when the process dies (kill -9, OOM), so
  "nobody holds the lock" means "nobody is running it". A slow run keeps its lock and is
  never touched. The lock is taken in shared mode: every job of the run (a thread, or an
  Airflow mapped task in another process) holds it too while it works on a store.
- ``airflow`` (the DAG): a DAG run spans many processes, so no single lock can mark it
  alive, and its tasks may wait for hours in a pool. The DAG has ``max_active_runs=1``:
  when a new run of the DAG starts, every earlier run of it has ended, so its start task
  closes earlier summaries of the same DAG still ``running`` (:func:`close_abandoned_runs`
  with ``airflow_owner_prefix``). A command-line run never closes an Airflow run.

Closing a run marks its summary ``failed`` with a text saying it was abandoned and what its
windows reached, and closes its windows still ``running`` store by store, under the store's
advisory lock (a store whose lock is held is left to its owner).

Work on a store goes through :func:`claim_store`: the store's exclusive advisory lock, the
run's shared liveness lock, and the store's ``running`` rows sorted into abandoned ones
(closed) and ones of a live run (the store is busy: a job whose lock connection died may
still be writing).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence

import sqlalchemy as sa

from orders_sync.db import locks
from orders_sync.db.repositories import run_summaries, sync_log
from orders_sync.domain import RUN_PROFILER, CloseReason, Job, Status
from orders_sync.exceptions import OrdersSyncError
from orders_sync.pipelines.window import WindowPipeline, WindowRequest
from orders_sync.runs.results import JobResult, RunOutcome, WindowReport
from orders_sync.runs.summary import RunTally, decide, summary_text
from orders_sync.sources import registry

logger = logging.getLogger(__name__)


def process_owner() -> str:
    """``host:pid`` of this process, recorded as the owner of the runs it starts."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextlib.contextmanager
def hold_run(engine: sa.Engine, run_id: str) -> Iterator[None]:
    """Hold ``run_id``'s (shared) liveness lock for the duration of the block.

    Raises:
        OrdersSyncError: the lock could not be taken.
    """
    with locks.advisory_lock(engine, locks.run_lock_key(run_id), shared=True) as held:
        if not held:
            raise OrdersSyncError(f"could not take the liveness lock of run {run_id}.")
        yield


def is_run_alive(conn: sa.Connection, run_id: str) -> bool:
    """Whether some live session holds ``run_id``'s liveness lock."""
    return locks.is_locked(conn, locks.run_lock_key(run_id))


@dataclasses.dataclass
class StoreClaim:
    """The outcome of :func:`claim_store`.

    Attributes:
        acquired: the store is ours for the block.
        busy_with: when not acquired, the run holding the store (``None``: its lock).
        closed: abandoned ``running`` rows closed before starting.
        lock: the store lock, for :meth:`verify` before each window.
    """

    acquired: bool
    busy_with: str | None = None
    closed: int = 0
    lock: locks.HeldLock | None = None

    def verify(self) -> bool:
        """Whether the store is still ours (see :meth:`orders_sync.db.locks.HeldLock.verify`)."""
        return self.acquired and self.lock is not None and self.lock.verify()


@contextlib.contextmanager
def claim_store(engine: sa.Engine, store_code: str, run_id: str) -> Iterator[StoreClaim]:
    """Make ``store_code`` this run's for the block, or say who has it.

    Under the store's advisory lock, its ``running`` rows are sorted: rows of dead runs
    (nobody holds their liveness lock) and earlier rows of this very run (a previous
    attempt of this job died) are closed as ``abandoned``; a row of another live run means
    that run is still writing although its lock connection died, so the store is busy.
    """
    with locks.advisory_lock(
        engine, locks.store_lock_key(store_code), with_shared=(locks.run_lock_key(run_id),)
    ) as store_lock:
        if not store_lock:
            yield StoreClaim(acquired=False)
            return
        with engine.begin() as conn:
            running = sync_log.running_rows(conn, store_code=store_code)
            live = sorted(
                {
                    row.run_id
                    for row in running
                    if row.run_id != run_id and is_run_alive(conn, row.run_id)
                }
            )
            if live:
                busy_with: str | None = live[0]
                closed = 0
            else:
                busy_with = None
                closed = sync_log.close_rows(
                    conn,
                    running,
                    CloseReason.ABANDONED,
                    f"the process running this window died; closed by run {run_id}",
                )
        if busy_with is not None:
            yield StoreClaim(acquired=False, busy_with=busy_with)
            return
        if closed:
            logger.warning(
                "store %s: closed %d abandoned running window(s)",
                store_code,
                closed,
                extra={"run_id": run_id, "store_code": store_code},
            )
        yield StoreClaim(acquired=True, closed=closed, lock=store_lock)


def close_run_windows(engine: sa.Engine, run_id: str, detail: str) -> int:
    """Close this run's windows still ``running`` as abandoned (``detail`` says why), store
    by store, under the store's lock.

    A store whose lock is held elsewhere is left alone (a live process may own the row).

    Returns:
        How many windows were closed.
    """
    with engine.connect() as conn:
        running = sync_log.running_rows(conn, run_id=run_id)
    closed = 0
    for store_code in sorted({row.store_code for row in running}):
        with locks.advisory_lock(engine, locks.store_lock_key(store_code)) as acquired:
            if not acquired:
                continue
            with engine.begin() as conn:
                closed += sync_log.close_rows(
                    conn,
                    [row for row in running if row.store_code == store_code],
                    CloseReason.ABANDONED,
                    detail,
                )
    return closed


def close_abandoned_runs(
    engine: sa.Engine,
    *,
    airflow_owner_prefix: str | None = None,
    current_owner: str | None = None,
) -> list[str]:
    """Close every abandoned run summary of orders_sync; returns their run ids.

    Args:
        airflow_owner_prefix: also close ``airflow`` runs whose owner starts with this
            (``"<dag_id>/"``); only the DAG's own start task may pass it.
        current_owner: the caller's own owner string, never closed.
    """
    with engine.connect() as conn:
        candidates = run_summaries.open_runs(conn, (RUN_PROFILER, *registry.pipeline_codes()))
    closed: list[str] = []
    for run in candidates:
        if run.owner == current_owner and current_owner is not None:
            continue
        if run.owner_kind == run_summaries.AIRFLOW_OWNER:
            if not airflow_owner_prefix or not (run.owner or "").startswith(airflow_owner_prefix):
                continue
            why = f"its Airflow run {run.owner} ended without finishing it"
            if _close(engine, run.run_id, why):
                closed.append(run.run_id)
            continue
        # process-owned (or of unknown owner): abandoned when nobody holds its lock. The
        # owner takes the lock before inserting the summary, so there is no gap to race.
        with engine.connect() as conn:
            if is_run_alive(conn, run.run_id):
                continue
        why = f"its process {run.owner or '(unknown)'} is gone"
        if _close(engine, run.run_id, why):
            closed.append(run.run_id)
    return closed


def _close(engine: sa.Engine, run_id: str, why: str) -> bool:
    with engine.connect() as conn:  # what the windows reached, before closing them
        reached = summary_text(sync_log.status_counts_for_run(conn, run_id))
    windows_closed = close_run_windows(
        engine, run_id, f"run {run_id} ended while this window was running"
    )
    with engine.begin() as conn:
        text = f"abandoned: {why}; windows reached: {reached}"
        done = run_summaries.close_abandoned(conn, run_id=run_id, summary_text=text)
    if done:
        logger.warning(
            "closed abandoned run %s (%s; %d running window(s) closed)",
            run_id,
            why,
            windows_closed,
            extra={"run_id": run_id, "status": Status.FAILED},
        )
    return done


# --- open → run → close ----------------------------------------------------------------------


def open_run(
    engine: sa.Engine,
    *,
    run_id: str,
    pipeline_name: str,
    run_env: str,
    report_date: dt.date,
    owner_kind: str = run_summaries.PROCESS_OWNER,
    owner: str | None = None,
    airflow_owner_prefix: str | None = None,
) -> None:
    """Close abandoned runs, then insert the run's summary row (``running``).

    Args:
        run_id: the new run's id.
        pipeline_name: ``pipeline_run_summaries.pipeline_name``.
        run_env: ``--env``.
        report_date: the run's today in the pipeline timezone.
        owner_kind: ``process`` (the caller holds :func:`hold_run`) or ``airflow``.
        owner: ``host:pid`` or ``<dag_id>/<dag run id>``; defaults to this process.
        airflow_owner_prefix: also close earlier ``airflow`` runs of this DAG (its start).
    """
    owner = owner or process_owner()
    close_abandoned_runs(
        engine,
        airflow_owner_prefix=airflow_owner_prefix,
        current_owner=owner if airflow_owner_prefix else None,
    )
    with engine.begin() as conn:
        run_summaries.start_run(
            conn,
            run_id=run_id,
            pipeline_name=pipeline_name,
            run_env=run_env,
            report_date=report_date,
            owner_kind=owner_kind,
            owner=owner,
        )


@contextlib.contextmanager
def process_run(
    engine: sa.Engine, *, pipeline_name: str, run_env: str, report_date: dt.date
) -> Iterator[str]:
    """A run owned by this process: its liveness lock held for the block, the row opened.

    Yields:
        The new run id. The caller closes the run with :func:`close_run` inside the block.
    """
    run_id = run_summaries.new_run_id(pipeline_name)
    with hold_run(engine, run_id):
        open_run(
            engine,
            run_id=run_id,
            pipeline_name=pipeline_name,
            run_env=run_env,
            report_date=report_date,
        )
        yield run_id


JobSteps = Generator[WindowReport, None, JobResult]
"""A job run a window at a time: each ``next()`` runs one window and yields its report; the
job's result is the generator's return value (:func:`finish_job` drives one to its end)."""


def job_steps(
    engine: sa.Engine,
    job: Job,
    pipeline: WindowPipeline,
    *,
    run_id: str,
    run_env: str,
    stop_event: threading.Event | None = None,
) -> JobSteps:
    """Run one store's windows in order under the store's claim (:func:`claim_store`).

    The first failed or partial window stops the store for this run; there is no retry
    loop. When another run holds the store the job is skipped, never run twice at once.
    Window-level failures never raise (see the result); an unexpected error does.

    The claim is held from the first step to the last, so the steps may be taken by
    different threads (never two at once) with other stores' windows in between — the
    profiler's executor interleaves stores this way. A step taken after ``stop_event`` is
    set runs no window: it returns the result so far at once.
    """
    if stop_event is not None and stop_event.is_set():
        return JobResult(job.store_code, job.pipeline.code, not_run=len(job.windows))
    with claim_store(engine, job.store_code, run_id) as claim:
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
        reports: list[WindowReport] = []

        def stopped(index: int, crashed: str | None = None) -> JobResult:
            return JobResult(
                job.store_code,
                job.pipeline.code,
                windows=tuple(reports),
                not_run=len(job.windows) - index,
                crashed=crashed,
            )

        for index, window in enumerate(job.windows):
            if stop_event is not None and stop_event.is_set():
                return stopped(index)
            if not claim.verify():
                return stopped(index, crashed="lost the store lock to another run")
            reasons = tuple(str(reason) for reason in window.reasons)
            started = time.monotonic()
            result = pipeline.run_window(
                WindowRequest(
                    store_code=job.store_code,
                    cost_center=job.cost_center,
                    from_date=window.from_date,
                    to_date=window.to_date,
                    run_id=run_id,
                    run_env=run_env,
                    window_reason=sync_log.reasons_column(reasons),
                )
            )
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


def run_job(
    engine: sa.Engine,
    job: Job,
    pipeline: WindowPipeline,
    *,
    run_id: str,
    run_env: str,
    stop_event: threading.Event | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
) -> JobResult:
    """:func:`job_steps` from the first window to the last, in the caller's thread."""
    return finish_job(
        job_steps(engine, job, pipeline, run_id=run_id, run_env=run_env, stop_event=stop_event),
        on_window,
    )


def close_run(
    engine: sa.Engine,
    run_id: str,
    results: Sequence[JobResult],
    *,
    interrupted: bool = False,
    skipped_fails_run: bool = False,
    more: Callable[[sa.Connection], Mapping[str, int]] | None = None,
) -> RunOutcome:
    """Close the run: its windows still ``running``, then its summary row, by the one rule.

    An interrupted run first closes its own ``running`` rows as ``interrupted`` (this process
    owns them, its threads may still hold the store locks); any other row of the run still
    ``running`` (a killed worker) is closed as ``abandoned`` where its store's lock is free.
    ``overall_status`` and ``summary_text`` come from what ``orders_sync_log`` recorded for
    the run and from ``results`` (:func:`orders_sync.runs.summary.decide`).

    Args:
        results: every job's result (a job that never reported: ``crashed``).
        interrupted: the run was stopped before its planned work was done.
        skipped_fails_run: a skipped store fails the run (see :mod:`orders_sync.runs.summary`).
        more: further counters for the text, read in the closing transaction.
    """
    if interrupted:
        with engine.begin() as conn:
            sync_log.close_rows(
                conn,
                sync_log.running_rows(conn, run_id=run_id),
                CloseReason.INTERRUPTED,
                "the run was stopped",
            )
    close_run_windows(engine, run_id, "the run finished while this window was running")
    with engine.begin() as conn:
        counts = sync_log.status_counts_for_run(conn, run_id)
        status, text = decide(
            counts,
            RunTally.of(results, interrupted=interrupted),
            skipped_fails_run=skipped_fails_run,
            more=more(conn) if more is not None else None,
        )
        run_summaries.finish_run(conn, run_id=run_id, overall_status=status, summary_text=text)
    logger.log(
        logging.INFO if status == Status.SUCCESS else logging.WARNING,
        "run %s finished: %s (%s)",
        run_id,
        status,
        text,
        extra={"run_id": run_id, "overall_status": status, "summary_text": text},
    )
    return RunOutcome(run_id=run_id, overall_status=status, summary_text=text, counts=counts)
