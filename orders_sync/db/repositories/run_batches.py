"""``orders_sync_run_batches``: a DAG run's plan, one row per batch of store + pipeline jobs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def save_batches(
    conn: sa.Connection, run_id: str, batches: Sequence[tuple[str, Sequence[Mapping[str, Any]]]]
) -> None:
    """Store ``[(label, [job dict, ...]), ...]`` as the run's plan (replacing an earlier one:
    a retried ``plan`` task plans again)."""
    conn.execute(sa.text("DELETE FROM orders_sync_run_batches WHERE run_id = :r"), {"r": run_id})
    if not batches:
        return
    conn.execute(
        sa.text(
            "INSERT INTO orders_sync_run_batches (run_id, batch_index, label, plans) "
            "VALUES (:run_id, :index, :label, CAST(:plans AS JSONB))"
        ),
        [
            {"run_id": run_id, "index": index, "label": label, "plans": json.dumps(list(plans))}
            for index, (label, plans) in enumerate(batches)
        ],
    )


def load_batch(conn: sa.Connection, run_id: str, batch_index: int) -> list[dict[str, Any]]:
    """The job dicts of one batch.

    Raises:
        LookupError: the run has no such batch.
    """
    plans = conn.execute(
        sa.text("SELECT plans FROM orders_sync_run_batches WHERE run_id = :r AND batch_index = :i"),
        {"r": run_id, "i": batch_index},
    ).scalar_one_or_none()
    if plans is None:
        raise LookupError(f"run {run_id} has no batch {batch_index}")
    return list(plans)


def planned_jobs(conn: sa.Connection, run_id: str) -> list[tuple[str, str]] | None:
    """``(store_code, pipeline)`` of every job of the run's plan; ``None`` when it has none
    stored at all (its plan task did not get that far)."""
    rows = conn.execute(
        sa.text(
            "SELECT p->>'store_code', p->>'pipeline' FROM orders_sync_run_batches, "
            "jsonb_array_elements(plans) AS p WHERE run_id = :r"
        ),
        {"r": run_id},
    ).all()
    exists = conn.execute(
        sa.text("SELECT count(*) FROM orders_sync_run_batches WHERE run_id = :r"), {"r": run_id}
    ).scalar_one()
    return [(str(s), str(p)) for s, p in rows] if exists else None


KEEP_DAYS = 7
"""Plans are kept this long after their run: they tie each store to its mapped task."""


def prune_batches(conn: sa.Connection) -> None:
    """Forget plans older than :data:`KEEP_DAYS` (their outcomes are in ``orders_sync_log``)."""
    conn.execute(
        sa.text(
            "DELETE FROM orders_sync_run_batches "
            "WHERE created_at < now() - make_interval(days => :days)"
        ),
        {"days": KEEP_DAYS},
    )


def latest_batches(conn: sa.Connection) -> dict[tuple[str, str], tuple[str, int]]:
    """``{(store_code, pipeline): (run owner, batch index)}`` of each store's latest batch.

    The owner of a DAG run's summary is ``<dag_id>/<dag run id>``
    (``orders_sync_run_owners``), and a batch's index is its mapped task's map index.
    """
    rows = conn.execute(
        sa.text(
            """
            SELECT DISTINCT ON (p->>'store_code', p->>'pipeline')
                   p->>'store_code', p->>'pipeline', o.owner, b.batch_index
            FROM orders_sync_run_batches b
            JOIN orders_sync_run_owners o ON o.run_id = b.run_id AND o.owner_kind = 'airflow'
            CROSS JOIN jsonb_array_elements(b.plans) AS p
            ORDER BY p->>'store_code', p->>'pipeline', b.created_at DESC
            """
        )
    ).all()
    return {(str(s), str(p)): (str(owner), int(index)) for s, p, owner, index in rows}
