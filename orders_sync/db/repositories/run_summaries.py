"""``pipeline_run_summaries``: one row per run, opened at the start and closed at the end."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

from orders_sync.domain import Status


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


PROCESS_OWNER = "process"
AIRFLOW_OWNER = "airflow"


def start_run(
    conn: sa.Connection,
    *,
    run_id: str,
    pipeline_name: str,
    run_env: str,
    report_date: dt.date,
    owner_kind: str = PROCESS_OWNER,
    owner: str = "",
) -> None:
    """Insert the run's row (``overall_status = 'running'``, ``started_at = now()``) and
    its owner (``orders_sync_run_owners``), in the caller's transaction."""
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
            "status": Status.RUNNING,
        },
    )
    conn.execute(
        sa.text(
            "INSERT INTO orders_sync_run_owners (run_id, owner_kind, owner) "
            "VALUES (:run_id, :owner_kind, :owner)"
        ),
        {"run_id": run_id, "owner_kind": owner_kind, "owner": owner},
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


@dataclasses.dataclass(frozen=True, slots=True)
class OpenRun:
    """A summary still ``running`` and who owns it (``owner_kind`` None: unknown owner)."""

    run_id: str
    pipeline_name: str
    owner_kind: str | None
    owner: str | None


def open_runs(conn: sa.Connection, pipeline_names: tuple[str, ...]) -> list[OpenRun]:
    """Summaries of ``pipeline_names`` still ``running``, oldest first."""
    rows = conn.execute(
        sa.text(
            """
            SELECT s.run_id, s.pipeline_name, o.owner_kind, o.owner
            FROM pipeline_run_summaries s
            LEFT JOIN orders_sync_run_owners o ON o.run_id = s.run_id
            WHERE s.overall_status = 'running' AND s.pipeline_name = ANY(:names)
            ORDER BY s.started_at
            """
        ),
        {"names": list(pipeline_names)},
    ).all()
    return [OpenRun(*row) for row in rows]


def close_abandoned(conn: sa.Connection, *, run_id: str, summary_text: str) -> bool:
    """Close a still-running summary as ``failed``; ``False`` if it was closed meanwhile."""
    result = conn.execute(
        sa.text(
            """
            UPDATE pipeline_run_summaries
            SET finished_at = now(), overall_status = 'failed', summary_text = :text
            WHERE run_id = :run_id AND overall_status = 'running'
            """
        ),
        {"run_id": run_id, "text": summary_text},
    )
    return bool(result.rowcount)
