"""The profiler's library calls: start a run, plan it, run one job, finish the run.

The standalone command line (:mod:`orders_sync.run_profiler.main`) and the Airflow DAG
(``dags/orders_sync_run_profiler.py``) are two thin front ends over exactly these calls:

``start_run`` → ``plan_run`` → ``run_job`` per job (in parallel across stores) →
``finish_run`` (always, even when jobs crashed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from orders_sync import run_lifecycle
from orders_sync.config import Settings, get_settings
from orders_sync.db.repositories import run_summaries, stores, sync_log
from orders_sync.db.repositories.log_facts import load_log_facts
from orders_sync.db.repositories.pipelines import (
    RUN_PROFILER,
    TD_ORDERS_SYNC,
    UC_ORDERS_SYNC,
    resolve_pipeline_ids,
)
from orders_sync.exceptions import UsageError
from orders_sync.run_profiler.plan_types import (
    Job,
    PipelineRef,
    PlannedWindow,
    PlanOptions,
    StoreRef,
    WindowReason,
)
from orders_sync.run_profiler.planning import plan_jobs
from orders_sync.run_rollup import overall_status, summary_text

logger = logging.getLogger(__name__)

SYNC_GROUP_PIPELINES = {"TD": TD_ORDERS_SYNC, "UC": UC_ORDERS_SYNC}
SYNC_GROUP_CHOICES = ("TD", "UC", "ALL")
DEFAULT_MAX_WORKERS = 3


@dataclasses.dataclass(frozen=True)
class ProfilerOptions:
    """The profiler's flags (CLI) or conf (DAG).

    Attributes:
        env: ``run_env`` written on every row.
        sync_group: ``'TD'``, ``'UC'`` or ``'ALL'``.
        window_days: N, the backfill chunk size.
        overlap_days: K, the most recent successful days always re-run.
        max_workers: stores synced at once.
        force: ignore success windows and re-run everything.
        store_code: run only this ``store_master.store_code``.
        settle_days: S, re-fetch covered days once S days after them (0: off).
        dry_run: plan and print, write nothing.
    """

    env: str
    sync_group: str = "ALL"
    window_days: int = 90
    overlap_days: int = 1
    max_workers: int = DEFAULT_MAX_WORKERS
    force: bool = False
    store_code: str | None = None
    settle_days: int = 0
    dry_run: bool = False

    def validate(self) -> None:
        """Raise :class:`UsageError` (one sentence) for any value that cannot be used."""
        if not self.env or len(self.env) > 32:
            raise UsageError(f"--env must be 1 to 32 characters, got {self.env!r}.")
        if self.sync_group not in SYNC_GROUP_CHOICES:
            raise UsageError(f"--sync-group must be one of TD, UC, ALL, got {self.sync_group!r}.")
        if (
            isinstance(self.max_workers, bool)
            or not isinstance(self.max_workers, int)
            or self.max_workers < 1
        ):
            raise UsageError(
                f"max_workers (--max-workers) must be a whole number of at least 1, "
                f"got {self.max_workers!r}."
            )
        if self.store_code is not None and not (0 < len(self.store_code) <= 8):
            raise UsageError(f"--store-code must be 1 to 8 characters, got {self.store_code!r}.")
        self.plan_options()

    def plan_options(self) -> PlanOptions:
        """The planner's knobs (validated by :class:`PlanOptions`)."""
        return PlanOptions(
            window_days=self.window_days,
            overlap_days=self.overlap_days,
            force=self.force,
            settle_days=self.settle_days,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (DAG conf, XCom)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfilerOptions:
        """Build from a dict such as a DAG conf; unknown keys are a usage error."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown profiler option(s): {', '.join(unknown)}.")
        return cls(**dict(data))


@dataclasses.dataclass(frozen=True)
class WindowReport:
    """One finished window, for progress output and job results."""

    store_code: str
    pipeline: str
    from_date: dt.date
    to_date: dt.date
    status: str
    rows_fetched: int
    duration_s: float
    error_message: str | None
    reasons: tuple[str, ...]
    logged: bool = True


@dataclasses.dataclass(frozen=True)
class JobResult:
    """What one job did.

    Attributes:
        skipped: the store's lock was held by another process; nothing ran.
        windows: the windows that ran, in order (the last one may be failed/partial).
        not_run: planned windows left out after a failed/partial window or a stop request.
        crashed: an unexpected error stopped the job (its message).
    """

    store_code: str
    pipeline: str
    skipped: bool = False
    windows: tuple[WindowReport, ...] = ()
    not_run: int = 0
    crashed: str | None = None

    @property
    def unlogged_failures(self) -> int:
        """Windows that did not succeed and whose log row could not even be written."""
        return sum(1 for w in self.windows if not w.logged and w.status != sync_log.SUCCESS)

    @property
    def status(self) -> str:
        """success / partial / failed / skipped for this job."""
        if self.skipped:
            return "skipped"
        if self.crashed:
            return sync_log.FAILED
        return overall_status(window.status for window in self.windows)


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """A finished run: its summary row's final values."""

    run_id: str
    overall_status: str
    summary_text: str
    counts: Mapping[tuple[str, str], int]


# --- XCom / conf serialisation ---------------------------------------------------------


def job_to_dict(job: Job) -> dict[str, Any]:
    """JSON-serialisable form of a job (Airflow XCom, mapped-task input)."""
    return {
        "store_code": job.store_code,
        "cost_center": job.cost_center,
        "pipeline": job.pipeline.code,
        "pipeline_id": job.pipeline.id,
        "windows": [
            {
                "from_date": window.from_date.isoformat(),
                "to_date": window.to_date.isoformat(),
                "reasons": [str(reason) for reason in window.reasons],
            }
            for window in job.windows
        ],
    }


def job_from_dict(data: Mapping[str, Any]) -> Job:
    """Inverse of :func:`job_to_dict`."""
    return Job(
        store_code=str(data["store_code"]),
        cost_center=data.get("cost_center"),
        pipeline=PipelineRef(code=str(data["pipeline"]), id=int(data["pipeline_id"])),
        windows=tuple(
            PlannedWindow(
                from_date=dt.date.fromisoformat(window["from_date"]),
                to_date=dt.date.fromisoformat(window["to_date"]),
                reasons=tuple(WindowReason(reason) for reason in window["reasons"]),
            )
            for window in data["windows"]
        ),
    )


def job_result_to_dict(result: JobResult) -> dict[str, Any]:
    """JSON-serialisable form of a job result (Airflow XCom)."""
    return {
        "store_code": result.store_code,
        "pipeline": result.pipeline,
        "status": result.status,
        "skipped": result.skipped,
        "not_run": result.not_run,
        "crashed": result.crashed,
        "unlogged_failures": result.unlogged_failures,
        "windows": [
            {
                "from_date": w.from_date.isoformat(),
                "to_date": w.to_date.isoformat(),
                "status": w.status,
                "rows_fetched": w.rows_fetched,
                "duration_s": round(w.duration_s, 3),
                "error_message": w.error_message,
            }
            for w in result.windows
        ],
    }


# --- the four calls ------------------------------------------------------------------


def start_run(
    engine: sa.Engine,
    options: ProfilerOptions,
    settings: Settings | None = None,
    *,
    run_id: str | None = None,
    owner_kind: str = run_summaries.PROCESS_OWNER,
    owner: str | None = None,
    today: dt.date | None = None,
) -> str:
    """Validate ``options`` and insert the run's ``pipeline_run_summaries`` row.

    Args:
        run_id: the run id to use; a new unique one when ``None``.
        owner_kind: ``process`` (the caller holds :func:`run_lifecycle.hold_run`) or
            ``airflow`` (a DAG run; see :mod:`orders_sync.run_lifecycle`).
        owner: ``host:pid`` or ``<dag_id>/<dag run id>``; defaults to this process.
        today: the run's ``report_date`` override (replays); else today in the timezone.

    Returns:
        The run id.
    """
    settings = settings or get_settings()
    options.validate()
    run_id = run_id or run_summaries.new_run_id("orders_sync_run_profiler")
    with engine.begin() as conn:
        run_summaries.start_run(
            conn,
            run_id=run_id,
            pipeline_name=RUN_PROFILER,
            run_env=options.env,
            report_date=today or settings.today(),
            owner_kind=owner_kind,
            owner=owner or run_lifecycle.process_owner(),
        )
    return run_id


def select_stores(conn: sa.Connection, options: ProfilerOptions) -> list[StoreRef]:
    """The stores of this run (requirement §D "Store selection").

    Raises:
        UsageError: ``--store-code`` names no runnable store of the selected group.
    """
    group = None if options.sync_group == "ALL" else options.sync_group
    rows = stores.select_runnable_stores(conn, sync_group=group, store_code=options.store_code)
    if options.store_code is not None and not rows:
        existing = stores.get_store(conn, options.store_code)
        raise UsageError(stores.explain_unrunnable(existing, options.store_code, group))
    return [
        StoreRef(
            store_code=row.store_code,
            sync_group=row.sync_group,
            cost_center=row.cost_center,
            start_date=row.start_date,
        )
        for row in rows
        if row.start_date is not None
    ]


def plan_run(
    engine: sa.Engine,
    options: ProfilerOptions,
    settings: Settings | None = None,
    *,
    today: dt.date | None = None,
) -> list[Job]:
    """Select the stores, read the log facts (set-based) and plan (pure).

    Args:
        today: override of today's date in the pipeline timezone (tests, replays).
    """
    settings = settings or get_settings()
    options.validate()
    today = today or settings.today()
    with engine.connect() as conn:
        selected = select_stores(conn, options)
        ids = resolve_pipeline_ids(conn, SYNC_GROUP_PIPELINES.values())
        pipelines = {
            group: PipelineRef(code=code, id=ids[code])
            for group, code in SYNC_GROUP_PIPELINES.items()
        }
        facts = load_log_facts(
            conn,
            pipeline_ids=sorted(ids.values()),
            store_codes=[store.store_code for store in selected],
            overlap_days=options.overlap_days,
            today=today,
            settle_days=options.settle_days,
            timezone=settings.pipeline_timezone,
        )
    return plan_jobs(selected, pipelines, facts, today, options.plan_options())


def run_job(
    engine: sa.Engine,
    job: Job,
    *,
    run_id: str,
    options: ProfilerOptions,
    settings: Settings | None = None,
    stop_event: threading.Event | None = None,
    on_window: Callable[[WindowReport], None] | None = None,
) -> JobResult:
    """Run one store's windows in order under the store's advisory lock.

    The first failed or partial window stops the store for this run; there is no retry
    loop. When another process holds the store's lock the job is skipped, never run twice
    at once. Under the lock, ``running`` rows of this store + pipeline left by a dead
    process are first closed as failed (``abandoned: ...``).
    """

    settings = settings or get_settings()
    if stop_event is not None and stop_event.is_set():
        return JobResult(job.store_code, job.pipeline.code, not_run=len(job.windows))
    with run_lifecycle.claim_store(engine, job.store_code, run_id) as claim:
        if not claim.acquired:
            holder = f"run {claim.busy_with}" if claim.busy_with else "another run"
            logger.warning(
                "store %s is being synced by %s: skipped",
                job.store_code,
                holder,
                extra={"run_id": run_id, "store_code": job.store_code, "status": "skipped"},
            )
            return JobResult(job.store_code, job.pipeline.code, skipped=True)
        return _run_windows(engine, job, run_id, options, settings, claim, stop_event, on_window)


def _run_windows(
    engine: sa.Engine,
    job: Job,
    run_id: str,
    options: ProfilerOptions,
    settings: Settings,
    claim: run_lifecycle.StoreClaim,
    stop_event: threading.Event | None,
    on_window: Callable[[WindowReport], None] | None,
) -> JobResult:
    from orders_sync.pipelines.registry import open_pipeline
    from orders_sync.pipelines.window import WindowRequest

    reports: list[WindowReport] = []

    def stopped(index: int, crashed: str | None = None) -> JobResult:
        return JobResult(
            job.store_code,
            job.pipeline.code,
            windows=tuple(reports),
            not_run=len(job.windows) - index,
            crashed=crashed,
        )

    with open_pipeline(
        job.pipeline.code, engine, settings, pipeline_id=job.pipeline.id
    ) as pipeline:
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
                    run_env=options.env,
                    window_reason=",".join(reasons),
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
            )
            reports.append(report)
            if on_window is not None:
                on_window(report)
            if result.status != sync_log.SUCCESS:
                return stopped(index + 1)
    return JobResult(job.store_code, job.pipeline.code, windows=tuple(reports))


def finish_run(
    engine: sa.Engine,
    run_id: str,
    *,
    skipped_stores: int = 0,
    crashed_jobs: int = 0,
    unlogged_failures: int = 0,
    interrupted: bool = False,
    settings: Settings | None = None,
) -> RunOutcome:
    """Close the run's summary from what ``orders_sync_log`` recorded for this run.

    Windows of this run still ``running`` (a killed worker) are first closed as failed
    where their store's lock is free. ``overall_status``: success if every window
    succeeded or none were due, failed if any failed, partial if only partials.

    Args:
        skipped_stores: stores whose lock was held elsewhere (counted in the text).
        crashed_jobs: jobs that died of an unexpected error (each makes the run failed).
        unlogged_failures: failed windows whose log row could not even be written.
        interrupted: the run was stopped (SIGINT/SIGTERM) before its planned work was done;
            the run is then failed whatever its windows say.
    """
    run_lifecycle.close_run_windows(
        engine, run_id, "abandoned: the run finished while this window was running"
    )
    with engine.begin() as conn:
        counts = sync_log.status_counts_for_run(conn, run_id)
        reasons = sync_log.reason_counts_for_run(conn, run_id)
        statuses = [status for (_, status), n in counts.items() for _ in range(n)]
        if crashed_jobs or unlogged_failures or interrupted:
            statuses.append(sync_log.FAILED)
        status = overall_status(statuses)
        extra: dict[str, int] = {}
        if skipped_stores:
            extra["skipped_stores"] = skipped_stores
        if crashed_jobs:
            extra["crashed_jobs"] = crashed_jobs
        if unlogged_failures:
            extra["unlogged_failures"] = unlogged_failures
        if interrupted:
            extra["interrupted"] = 1
        if reasons.get(str(WindowReason.SETTLE)):
            extra["settle_windows"] = reasons[str(WindowReason.SETTLE)]
        text = summary_text(counts, extra)
        run_summaries.finish_run(conn, run_id=run_id, overall_status=status, summary_text=text)
    return RunOutcome(run_id=run_id, overall_status=status, summary_text=text, counts=counts)
