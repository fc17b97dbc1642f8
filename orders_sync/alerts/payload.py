"""The one alert of a failed or partial profiler run, built from the database after the run's
summary is final — the same for the command line and the DAG (interfaces.md "Alerts")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from orders_sync.db.repositories import run_outcomes, run_summaries, sync_log
from orders_sync.domain import RUN_PROFILER, NotRun, Status, WindowReason
from orders_sync.runs.summary import run_succeeded
from orders_sync.status.coverage import StoreStatus

MAX_TEXT_ITEMS = 3


def _failure(window: sync_log.LoggedWindow) -> dict[str, Any]:
    return {
        "store_code": window.store_code,
        "pipeline": window.pipeline,
        "from_date": window.from_date.isoformat(),
        "to_date": window.to_date.isoformat(),
        "status": window.status,
        "error_message": window.error_message,
        "stuck": WindowReason.STUCK in window.reasons,
    }


def _stale(status: StoreStatus) -> dict[str, Any]:
    return {
        "store_code": status.store.store_code,
        "pipeline": status.pipeline,
        "days_behind": status.days_behind,
        "covered_through": status.covered_through.isoformat() if status.covered_through else None,
    }


def _listed(items: Sequence[str]) -> str:
    more = len(items) - MAX_TEXT_ITEMS
    return "; ".join(items[:MAX_TEXT_ITEMS]) + (f" (+{more} more)" if more > 0 else "")


def alert_text(payload: dict[str, Any], stores_total: int) -> str:
    """The one human line (a Slack incoming webhook shows it as is)."""
    failures = payload["failures"]
    not_synced = payload["not_synced"]
    status = payload["overall_status"]
    bad = {(f["store_code"], f["pipeline"]) for f in (*failures, *not_synced)}
    head = f"{payload['pipeline_name']} {status} ({payload['run_env']}, {payload['report_date']})"
    if bad:  # never "0 of N stores failed": a run that failed with no store to name says why
        head += f": {len(bad)} of {max(stores_total, len(bad))} stores {status}"
    details = [
        f"{f['store_code']} {f['pipeline']} {f['from_date']}..{f['to_date']}"
        f"{' (stuck)' if f['stuck'] else ''}: {f['error_message'] or f['status']}"
        for f in failures
    ] + [
        f"{n['store_code']} {n['pipeline']}: {n['outcome']}"
        + (f": {n['detail']}" if n["detail"] else "")
        for n in not_synced
    ]
    text = head + (f" — {_listed(details)}" if details else f" — {payload['summary_text']}")
    if payload["stale_stores"]:
        stale = [
            f"{s['store_code']} {s['pipeline']} {s['days_behind']} days behind"
            for s in payload["stale_stores"]
        ]
        text += f"; {len(stale)} stale: {_listed(stale)}"
    return " ".join(text.split())


def build_alert(
    conn: sa.Connection, run_id: str, *, statuses: Sequence[StoreStatus], max_days_behind: int
) -> dict[str, Any] | None:
    """The alert of ``run_id``, or ``None`` when the run succeeded (a success posts nothing).

    Args:
        statuses: the status of the run's stores after it (the freshness check).
        max_days_behind: a store more days behind than this is named as stale.

    Raises:
        ValueError: the run has no summary row.
    """
    run = run_summaries.get_run(conn, run_id)
    if run is None:
        raise ValueError(f"no pipeline_run_summaries row for run {run_id}")
    if run_succeeded(run.overall_status):
        return None
    payload: dict[str, Any] = {
        "text": "",
        "run_id": run.run_id,
        "run_env": run.run_env,
        "pipeline_name": run.pipeline_name,
        "overall_status": run.overall_status,
        "report_date": run.report_date.isoformat(),
        "summary_text": run.summary_text,
        "failures": [_failure(w) for w in sync_log.failed_windows_for_run(conn, run_id)],
        "not_synced": [
            {
                "store_code": o.store_code,
                "pipeline": o.pipeline,
                "outcome": o.outcome,
                "detail": o.detail,
                "windows_not_run": o.windows_not_run,
            }
            for o in run_outcomes.outcomes_of_run(conn, run_id)
            if o.outcome in set(NotRun)
        ],
        "stale_stores": [_stale(s) for s in statuses if s.days_behind > max_days_behind],
    }
    total = max(sync_log.stores_of_run(conn, run_id), len(statuses))
    payload["text"] = alert_text(payload, total)
    return payload


def not_started_alert(*, run_env: str, report_date: str, problem: str) -> dict[str, Any]:
    """The alert of a DAG run that failed before its run existed (a refused conf, no CRM URL,
    no database): nothing was written, but somebody must hear of it."""
    return {
        "text": f"{RUN_PROFILER} failed ({run_env}, {report_date}): the run did not start — "
        f"{' '.join(problem.split())}",
        "run_id": None,
        "run_env": run_env,
        "pipeline_name": RUN_PROFILER,
        "overall_status": Status.FAILED.value,
        "report_date": report_date,
        "summary_text": "the run did not start",
        "failures": [],
        "not_synced": [],
        "stale_stores": [],
    }
