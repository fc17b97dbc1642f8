"""What the DAG's tasks pass each other through XCom: compact JSON, rebuilt into typed values.

Jobs go from ``plan`` to the mapped ``sync_store`` tasks; each job's result goes back to
``finish``, which rebuilds :class:`~orders_sync.runs.results.JobResult` values and closes
the run with the same call as the command line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from orders_sync.domain import Job, NotRun, PipelineRef, PlannedWindow, WindowReason
from orders_sync.runs.results import JobResult, WindowReport


def job_to_dict(job: Job) -> dict[str, Any]:
    """JSON-serialisable form of a job (mapped-task input)."""
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
    """JSON-serialisable form of a job result (one item of the XCom ``job_results``)."""
    return {
        "store_code": result.store_code,
        "pipeline": result.pipeline,
        "status": str(result.status),
        "skipped": result.skipped,
        "not_run": result.not_run,
        "crashed": result.crashed,
        "reason": str(result.reason) if result.reason else None,
        "windows": [
            {
                "from_date": w.from_date.isoformat(),
                "to_date": w.to_date.isoformat(),
                "status": str(w.status),
                "rows_fetched": w.rows_fetched,
                "rows_inserted": w.rows_inserted,
                "rows_updated": w.rows_updated,
                "duration_s": round(w.duration_s, 3),
                "error_message": w.error_message,
                "reasons": [str(reason) for reason in w.reasons],
                "logged": w.logged,
            }
            for w in result.windows
        ],
    }


def job_result_from_dict(data: Mapping[str, Any]) -> JobResult:
    """Inverse of :func:`job_result_to_dict` (durations rounded to milliseconds)."""
    store_code, pipeline = str(data["store_code"]), str(data["pipeline"])
    return JobResult(
        store_code=store_code,
        pipeline=pipeline,
        skipped=bool(data.get("skipped", False)),
        not_run=int(data.get("not_run", 0)),
        crashed=data.get("crashed"),
        reason=NotRun(data["reason"]) if data.get("reason") else None,
        windows=tuple(
            WindowReport(
                store_code=store_code,
                pipeline=pipeline,
                from_date=dt.date.fromisoformat(w["from_date"]),
                to_date=dt.date.fromisoformat(w["to_date"]),
                status=str(w["status"]),
                rows_fetched=int(w.get("rows_fetched", 0)),
                rows_inserted=int(w.get("rows_inserted", 0)),
                rows_updated=int(w.get("rows_updated", 0)),
                duration_s=float(w.get("duration_s", 0.0)),
                error_message=w.get("error_message"),
                reasons=tuple(w.get("reasons", ())),
                logged=bool(w.get("logged", True)),
            )
            for w in data.get("windows", ())
        ),
    )
