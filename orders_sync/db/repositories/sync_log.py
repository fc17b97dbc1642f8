"""``orders_sync_log``: one row per attempt of one store + date window of one pipeline.

Every insert and update names the resolved ``pipeline_id`` (requirement §A); ``updated_at``
is kept by the database's trigger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from orders_sync.domain import CloseReason, WindowReason


@dataclasses.dataclass(frozen=True, slots=True)
class WindowOutcome:
    """What a window did, for its final update."""

    status: str
    error_message: str | None = None
    rows_fetched: int | None = None
    rows_inserted: int | None = None
    rows_updated: int | None = None
    duration_ms: int | None = None
    close_reason: CloseReason | None = None


def insert_running(
    conn: sa.Connection,
    *,
    pipeline_id: int,
    run_id: str,
    run_env: str,
    store_code: str,
    cost_center: str | None,
    from_date: dt.date,
    to_date: dt.date,
    window_reason: str | None = None,
) -> int:
    """Start the window's ``running`` row; ``attempt_no`` = 1 + earlier attempts of the window.

    The window's first attempt in this run inserts the row (``attempt_no`` = 1 + the rows of
    earlier runs). A later attempt in the *same* run — an Airflow retry, a batch re-executed
    after a scheduler restart, a window retried once the database answered again — starts
    the same row over (the unique index is per run): ``running`` again, ``attempt_no`` + 1,
    its outcome of the earlier attempt cleared. The caller holds the store's claim, so no
    other process writes the row.

    Returns:
        The row's id.
    """
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO orders_sync_log
                    (pipeline_id, run_id, run_env, cost_center, store_code, from_date, to_date,
                     status, attempt_no, window_reason)
                SELECT CAST(:pipeline_id AS BIGINT), CAST(:run_id AS VARCHAR),
                       CAST(:run_env AS VARCHAR), CAST(:cost_center AS VARCHAR),
                       CAST(:store_code AS VARCHAR), CAST(:from_date AS DATE),
                       CAST(:to_date AS DATE), 'running', 1 + count(*),
                       CAST(:window_reason AS VARCHAR)
                FROM orders_sync_log
                WHERE pipeline_id = CAST(:pipeline_id AS BIGINT)
                  AND store_code = CAST(:store_code AS VARCHAR)
                  AND from_date = CAST(:from_date AS DATE) AND to_date = CAST(:to_date AS DATE)
                ON CONFLICT (pipeline_id, store_code, from_date, to_date, run_id) DO UPDATE
                SET status = 'running', attempt_no = orders_sync_log.attempt_no + 1,
                    error_message = NULL, close_reason = NULL, orders_pulled_at = NULL,
                    sales_pulled_at = NULL, rows_fetched = NULL, rows_inserted = NULL,
                    rows_updated = NULL, duration_ms = NULL,
                    window_reason = EXCLUDED.window_reason
                RETURNING id
                """
            ),
            {
                "pipeline_id": pipeline_id,
                "run_id": run_id,
                "run_env": run_env,
                "cost_center": cost_center,
                "store_code": store_code,
                "from_date": from_date,
                "to_date": to_date,
                "window_reason": window_reason,
            },
        ).scalar_one()
    )


def mark_pulled(conn: sa.Connection, *, log_id: int, pipeline_id: int, part: str) -> None:
    """Set ``orders_pulled_at`` (part ``'orders'``) or ``sales_pulled_at`` (``'sales'``) = now()."""
    column = {"orders": "orders_pulled_at", "sales": "sales_pulled_at"}[part]
    conn.execute(
        sa.text(
            f"""
            UPDATE orders_sync_log SET {column} = now(), pipeline_id = :pipeline_id
            WHERE id = :log_id AND pipeline_id = :pipeline_id
            """
        ),
        {"log_id": log_id, "pipeline_id": pipeline_id},
    )


def finish_window(
    conn: sa.Connection, *, log_id: int, pipeline_id: int, outcome: WindowOutcome
) -> None:
    """Write the window's final status, error message and counts.

    A row no longer ``running`` (closed meanwhile as interrupted or abandoned) is left as it
    is: the log never turns a closed window back into a success.
    """
    conn.execute(
        sa.text(
            """
            UPDATE orders_sync_log
            SET status = :status, error_message = :error_message, pipeline_id = :pipeline_id,
                rows_fetched = :rows_fetched, rows_inserted = :rows_inserted,
                rows_updated = :rows_updated, duration_ms = :duration_ms,
                close_reason = :close_reason
            WHERE id = :log_id AND pipeline_id = :pipeline_id AND status = 'running'
            """
        ),
        {"log_id": log_id, "pipeline_id": pipeline_id, **dataclasses.asdict(outcome)},
    )


def status_counts_for_run(conn: sa.Connection, run_id: str) -> dict[tuple[str, str], int]:
    """``{(pipeline code, status): windows}`` of one run (its latest row per window)."""
    rows = conn.execute(
        sa.text(
            """
            SELECT p.code, l.status, count(*)
            FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
            WHERE l.run_id = :run_id
            GROUP BY p.code, l.status
            """
        ),
        {"run_id": run_id},
    ).all()
    return {(str(code), str(status)): int(n) for code, status, n in rows}


@dataclasses.dataclass(frozen=True, slots=True)
class LoggedWindow:
    """A window of a run that ended, as its row says."""

    pipeline: str
    store_code: str
    from_date: dt.date
    to_date: dt.date
    status: str
    error_message: str | None
    reasons: tuple[WindowReason, ...]
    rows_fetched: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    duration_ms: int = 0


def reasons_column(reasons: Sequence[str]) -> str | None:
    """``window_reason`` as stored: the reasons comma-separated (``None`` for none)."""
    return ",".join(reasons) or None


def reasons_of(column: str | None) -> tuple[WindowReason, ...]:
    """The reasons stored in ``window_reason`` (unknown ones left out)."""
    known = set(WindowReason)
    return tuple(WindowReason(r) for r in (column or "").split(",") if r in known)


_LOGGED_COLUMNS = """
    p.code, l.store_code, l.from_date, l.to_date, l.status, l.error_message, l.window_reason,
    COALESCE(l.rows_fetched, 0), COALESCE(l.rows_inserted, 0), COALESCE(l.rows_updated, 0),
    COALESCE(l.duration_ms, 0)
    FROM orders_sync_log l JOIN pipelines p ON p.id = l.pipeline_id
"""


def _logged(rows: Sequence[Any]) -> list[LoggedWindow]:
    return [
        LoggedWindow(
            pipeline=str(code),
            store_code=str(store),
            from_date=first,
            to_date=last,
            status=str(status),
            error_message=error,
            reasons=reasons_of(reasons),
            rows_fetched=int(fetched),
            rows_inserted=int(inserted),
            rows_updated=int(updated),
            duration_ms=int(ms),
        )
        for code, store, first, last, status, error, reasons, fetched, inserted, updated, ms in rows
    ]


def finished_windows_of_run(
    conn: sa.Connection, run_id: str, store_codes: Sequence[str]
) -> list[LoggedWindow]:
    """The windows of ``run_id`` for these stores that ended ``success``, ``failed`` or
    ``partial`` by their source (a window the lifecycle closed, or still ``running``, is
    left out: it is not finished)."""
    rows = conn.execute(
        sa.text(
            f"""
            SELECT {_LOGGED_COLUMNS}
            WHERE l.run_id = :run_id AND l.store_code = ANY(:stores)
              AND l.status IN ('success', 'failed', 'partial') AND l.close_reason IS NULL
            """
        ),
        {"run_id": run_id, "stores": list(store_codes)},
    ).all()
    return _logged(rows)


def failed_windows_for_run(conn: sa.Connection, run_id: str) -> list[LoggedWindow]:
    """The run's ``failed``/``partial`` windows, by store, pipeline and date."""
    rows = conn.execute(
        sa.text(
            f"""
            SELECT {_LOGGED_COLUMNS}
            WHERE l.run_id = :run_id AND l.status IN ('failed', 'partial')
            ORDER BY l.store_code, p.code, l.from_date, l.id
            """
        ),
        {"run_id": run_id},
    ).all()
    return _logged(rows)


def stores_of_run(conn: sa.Connection, run_id: str) -> int:
    """How many distinct (store, pipeline) the run logged a window for."""
    return int(
        conn.execute(
            sa.text(
                "SELECT count(DISTINCT (pipeline_id, store_code)) FROM orders_sync_log "
                "WHERE run_id = :run_id"
            ),
            {"run_id": run_id},
        ).scalar_one()
    )


def reason_counts_for_run(conn: sa.Connection, run_id: str) -> dict[str, int]:
    """``{reason: windows}`` of one run, from ``window_reason`` (comma-separated reasons)."""
    rows = conn.execute(
        sa.text(
            """
            SELECT reason, count(*)
            FROM orders_sync_log, unnest(string_to_array(window_reason, ',')) AS reason
            WHERE run_id = :run_id
            GROUP BY reason
            """
        ),
        {"run_id": run_id},
    ).all()
    return {str(reason): int(n) for reason, n in rows}


@dataclasses.dataclass(frozen=True, slots=True)
class RunningRow:
    """A log row still ``running``."""

    id: int
    pipeline_id: int
    run_id: str
    store_code: str


def running_rows(
    conn: sa.Connection, *, store_code: str | None = None, run_id: str | None = None
) -> list[RunningRow]:
    """``running`` rows of a store and/or of a run (``None``: any), oldest first."""
    rows = conn.execute(
        sa.text(
            """
            SELECT id, pipeline_id, run_id, store_code FROM orders_sync_log
            WHERE status = 'running'
              AND (CAST(:store_code AS TEXT) IS NULL OR store_code = :store_code)
              AND (CAST(:run_id AS TEXT) IS NULL OR run_id = :run_id)
            ORDER BY id
            """
        ),
        {"store_code": store_code, "run_id": run_id},
    ).all()
    return [RunningRow(int(i), int(p), str(r), str(c)) for i, p, r, c in rows]


def close_rows(
    conn: sa.Connection, rows: list[RunningRow], reason: CloseReason, detail: str
) -> int:
    """Close the given rows as failed, for ``reason``, if they are still ``running``.

    ``close_reason`` gets ``reason``; ``error_message`` says ``<reason>: <detail>`` for people.

    Only for rows nobody is writing any more: under the store's advisory lock, or by the
    process that owns them.

    Returns:
        How many rows were closed.
    """
    closed = 0
    for row in rows:
        result = conn.execute(
            sa.text(
                """
                UPDATE orders_sync_log
                SET status = 'failed', error_message = :error_message, pipeline_id = :pipeline_id,
                    close_reason = :reason
                WHERE id = :id AND pipeline_id = :pipeline_id AND status = 'running'
                """
            ),
            {
                "id": row.id,
                "pipeline_id": row.pipeline_id,
                "error_message": f"{reason}: {detail}",
                "reason": reason.value,
            },
        )
        closed += int(result.rowcount)
    return closed
