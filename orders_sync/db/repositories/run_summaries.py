"""``pipeline_run_summaries``: one row per run, opened at the start and closed at the end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

RUNNING = "running"


def new_run_id(prefix: str) -> str:
    """A unique run id: ``<prefix>-<UTC timestamp>-<12 hex>`` (at most 64 characters)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{prefix[:30]}-{stamp}-{uuid.uuid4().hex[:12]}"


@dataclasses.dataclass(frozen=True, slots=True)
class RunSummary:
    """A ``pipeline_run_summaries`` row."""

    run_id: str
    pipeline_name: str
    run_env: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    report_date: dt.date
    overall_status: str
    summary_text: str | None


def start_run(
    conn: sa.Connection, *, run_id: str, pipeline_name: str, run_env: str, report_date: dt.date
) -> None:
    """Insert the run's row with ``overall_status = 'running'`` and ``started_at = now()``."""
    conn.execute(
        sa.text(
            """
            INSERT INTO pipeline_run_summaries
                (run_id, pipeline_name, run_env, started_at, report_date, overall_status)
            VALUES (:run_id, :pipeline_name, :run_env, now(), :report_date, :status)
            """
        ),
        {
            "run_id": run_id,
            "pipeline_name": pipeline_name,
            "run_env": run_env,
            "report_date": report_date,
            "status": RUNNING,
        },
    )


def finish_run(conn: sa.Connection, *, run_id: str, overall_status: str, summary_text: str) -> None:
    """Close the run: ``finished_at = now()``, its final status and summary text."""
    conn.execute(
        sa.text(
            """
            UPDATE pipeline_run_summaries
            SET finished_at = now(), overall_status = :status, summary_text = :text
            WHERE run_id = :run_id
            """
        ),
        {"run_id": run_id, "status": overall_status, "text": summary_text},
    )


def get_run(conn: sa.Connection, run_id: str) -> RunSummary | None:
    """The summary row of ``run_id``, or ``None``."""
    row = conn.execute(
        sa.text(
            """
            SELECT run_id, pipeline_name, run_env, started_at, finished_at, report_date,
                   overall_status, summary_text
            FROM pipeline_run_summaries WHERE run_id = :run_id
            """
        ),
        {"run_id": run_id},
    ).one_or_none()
    return RunSummary(*row) if row else None
