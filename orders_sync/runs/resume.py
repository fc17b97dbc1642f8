"""Resuming a job that already ran in this run, by reading the log.

An Airflow batch can run more than once in one DAG run: a retry after its worker was lost, a
scheduler that reset it after a restart, an operator's *Clear*. Each execution reads what the
run's earlier executions logged and carries on from there, never from the first window:

- a window that ended ``success`` in this run is done, and not run again;
- a window that ended ``failed`` or ``partial`` by its source ended the plan (the first failed
  or partial window stops the store for this run): the plan is finished, with that outcome;
- the first window with no row, a row still ``running``, or a row the lifecycle closed
  (``abandoned``, ``interrupted``) is where the plan resumes — as a retry of the same row
  (``attempt_no`` + 1, :func:`orders_sync.db.repositories.sync_log.insert_running`).

Pure: the log rows come in, the decision goes out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from orders_sync.db.repositories.sync_log import LoggedWindow
from orders_sync.domain import Job, Status
from orders_sync.runs.results import JobResult, WindowReport


@dataclasses.dataclass(frozen=True)
class Resumption:
    """Where a job stands in this run.

    Attributes:
        done: the windows this run already finished for the job, in order.
        remaining: the job with the windows still to run (``None``: nothing is left).
        finished: the job's result when nothing is left to run.
    """

    done: tuple[WindowReport, ...]
    remaining: Job | None
    finished: JobResult | None


def _report(window: LoggedWindow) -> WindowReport:
    return WindowReport(
        store_code=window.store_code,
        pipeline=window.pipeline,
        from_date=window.from_date,
        to_date=window.to_date,
        status=window.status,
        rows_fetched=window.rows_fetched,
        duration_s=window.duration_ms / 1000,
        error_message=window.error_message,
        reasons=tuple(str(reason) for reason in window.reasons),
        rows_inserted=window.rows_inserted,
        rows_updated=window.rows_updated,
    )


def resume(job: Job, finished: Iterable[LoggedWindow]) -> Resumption:
    """Where ``job`` stands, given the windows this run already finished.

    Args:
        job: the planned job.
        finished: this run's windows that their source ended (any store; the job's are
            picked by pipeline, store and dates).
    """
    logged = {(w.pipeline, w.store_code, w.from_date, w.to_date): w for w in finished}
    done: list[WindowReport] = []
    for index, window in enumerate(job.windows):
        row = logged.get((job.pipeline.code, job.store_code, window.from_date, window.to_date))
        report = _report(row) if row is not None else None
        if report is None:
            if index == 0:
                return Resumption((), job, None)
            rest = dataclasses.replace(job, windows=job.windows[index:])
            return Resumption(tuple(done), rest, None)
        done.append(report)
        if report.status != Status.SUCCESS:
            result = JobResult(
                job.store_code,
                job.pipeline.code,
                windows=tuple(done),
                not_run=len(job.windows) - index - 1,
            )
            return Resumption(tuple(done), None, result)
    result = JobResult(job.store_code, job.pipeline.code, windows=tuple(done))
    return Resumption(tuple(done), None, result)


def continued(resumption: Resumption, result: JobResult) -> JobResult:
    """The whole job's result: the windows done before, then what the resumed run did."""
    if not resumption.done:
        return result
    return dataclasses.replace(result, windows=(*resumption.done, *result.windows))
