"""What a run's jobs did: typed results shared by every front end.

A *job* is every window one store needs from one pipeline in a run (the profiler's plan, or
the one window of a standalone command). Its :class:`JobResult` is what :func:`close_run
<orders_sync.runs.lifecycle.close_run>` rolls up; Airflow carries it between tasks as JSON
(:mod:`orders_sync.airflow_support.xcom`) and rebuilds the same type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from orders_sync.domain import Job, NotRun, Status
from orders_sync.runs.summary import overall_status


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
    rows_inserted: int = 0
    rows_updated: int = 0


@dataclasses.dataclass(frozen=True)
class JobResult:
    """What one job did.

    Attributes:
        skipped: the store's lock was held by another run; nothing ran.
        windows: the windows that ran, in order (the last one may be failed/partial).
        not_run: planned windows left out after a failed/partial window or a stop request.
        crashed: what stopped the job before its plan was done, for people: an unexpected
            error, a task that never reported, a database that did not come back ...
        reason: why, as data (``None`` with ``crashed`` set: :attr:`NotRun.CRASHED`).
    """

    store_code: str
    pipeline: str
    skipped: bool = False
    windows: tuple[WindowReport, ...] = ()
    not_run: int = 0
    crashed: str | None = None
    reason: NotRun | None = None

    @property
    def outcome(self) -> str:
        """The job's one outcome: ``success``, ``failed``, ``partial``, ``skipped`` (another
        run held the store), or why it was not run (:class:`~orders_sync.domain.NotRun`)."""
        if self.skipped:
            return Status.SKIPPED
        if self.crashed is not None:
            return self.reason or NotRun.CRASHED
        status = overall_status(window.status for window in self.windows)
        if status == Status.SUCCESS and self.not_run:
            return NotRun.STOPPED
        return status

    @property
    def unlogged_failures(self) -> int:
        """Windows that did not succeed and whose log row could not even be written."""
        return sum(1 for w in self.windows if not w.logged and w.status != Status.SUCCESS)

    @property
    def problem(self) -> str | None:
        """What went wrong with the job, for people (``None``: nothing)."""
        if self.crashed:
            return f"{self.store_code} {self.pipeline}: {self.outcome}: {self.crashed}"
        if self.status.is_bad:
            return f"{self.store_code} {self.pipeline}: {self.status}"
        return None

    @property
    def status(self) -> Status:
        """success / partial / failed / skipped for this job."""
        if self.skipped:
            return Status.SKIPPED
        if self.crashed:
            return Status.FAILED
        return overall_status(window.status for window in self.windows)


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """A finished run: its summary row's final values.

    Attributes:
        counts: ``{(pipeline code, status): windows}`` of the run, from ``orders_sync_log``.
    """

    run_id: str
    overall_status: str
    summary_text: str
    counts: Mapping[tuple[str, str], int]


def without_result(jobs: Iterable[Job], results: Iterable[JobResult]) -> list[Job]:
    """The jobs (store + pipeline) none of ``results`` is the result of, in their order."""
    reported = {(result.store_code, result.pipeline) for result in results}
    return [job for job in jobs if (job.store_code, job.pipeline.code) not in reported]


PLAN_FAILED = "the plan task failed"


def account_for_plan(
    results: Sequence[JobResult], planned: Iterable[tuple[str, str]] | None
) -> tuple[list[JobResult], list[str]]:
    """Every planned job's result, and the problems to report.

    A planned ``(store, pipeline)`` with no result crashed (its worker died before it
    reported); a failed plan (``planned`` is ``None``) counts as one crashed job.
    """
    accounted = list(results)
    problems = [p for p in (r.problem for r in results) if p]
    if planned is None:
        problems.insert(0, PLAN_FAILED)
        accounted.append(JobResult("(plan)", "plan", crashed=PLAN_FAILED))
    reported = {(r.store_code, r.pipeline) for r in results}
    for store, pipeline in sorted(set(planned or []) - reported):
        problems.append(f"{store} {pipeline}: crashed (no result)")
        accounted.append(JobResult(store, pipeline, crashed="its task ended without a result"))
    return accounted, problems
