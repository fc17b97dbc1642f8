"""The one alert payload of a failed or partial profiler run, for every sender and front end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from orders_sync.domain import RUN_PROFILER, SUCCESS
from orders_sync.runs.results import JobResult, RunOutcome

MAX_TEXT_FAILURES = 3


def alert_payload(
    outcome: RunOutcome,
    results: Sequence[JobResult],
    *,
    run_env: str,
    report_date: dt.date,
) -> dict[str, Any]:
    """The JSON object POSTed for a run that ended ``failed`` or ``partial``.

    ``text`` is one human line (Slack shows it as is); ``failures`` lists each failed or
    partial window of the run. Error messages come redacted of credentials by the clients.
    """
    failures = [
        {
            "store_code": window.store_code,
            "pipeline": window.pipeline,
            "from_date": window.from_date.isoformat(),
            "to_date": window.to_date.isoformat(),
            "status": window.status,
            "error_message": window.error_message,
        }
        for result in results
        for window in result.failed_windows
    ]
    crashed = [r for r in results if r.crashed]
    stores = {(r.store_code, r.pipeline) for r in results if r.pipeline != "plan"}
    bad = {(f["store_code"], f["pipeline"]) for f in failures} | {
        (r.store_code, r.pipeline) for r in crashed
    }
    details = [
        f"{f['store_code']} {f['pipeline']} {f['from_date']}..{f['to_date']}: "
        f"{f['error_message'] or f['status']}"
        for f in failures[:MAX_TEXT_FAILURES]
    ] + [f"{r.store_code} {r.pipeline}: crashed: {r.crashed}" for r in crashed][:MAX_TEXT_FAILURES]
    more = len(failures) + len(crashed) - len(details)
    text = (
        f"{RUN_PROFILER} {outcome.overall_status} ({run_env}, {report_date.isoformat()}): "
        f"{len(bad)} of {len(stores)} stores {outcome.overall_status}"
        + (" — " + "; ".join(details) if details else f" — {outcome.summary_text}")
        + (f" (+{more} more)" if more > 0 else "")
    )
    return {
        "text": " ".join(text.split()),
        "run_id": outcome.run_id,
        "run_env": run_env,
        "pipeline_name": RUN_PROFILER,
        "overall_status": outcome.overall_status,
        "report_date": report_date.isoformat(),
        "summary_text": outcome.summary_text,
        "failures": failures,
    }


def needs_alert(outcome: RunOutcome) -> bool:
    """Whether a run's outcome is alerted: every run that did not end ``success``."""
    return outcome.overall_status != SUCCESS
