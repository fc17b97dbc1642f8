"""``orders_sync_run_outcomes``: the jobs of a run that did not sync, and why (written when the
run closes, read by the alert)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import sqlalchemy as sa


@dataclasses.dataclass(frozen=True, slots=True)
class JobOutcome:
    """One job of a run that did not end ``success``.

    Attributes:
        outcome: ``failed``, ``partial``, ``skipped``, or why it did not run
            (:class:`orders_sync.domain.NotRun`).
        detail: what happened, for people.
        windows_not_run: its planned windows that did not run.
    """

    pipeline: str
    store_code: str
    outcome: str
    detail: str | None
    windows_not_run: int


def save_outcomes(conn: sa.Connection, run_id: str, outcomes: Sequence[JobOutcome]) -> None:
    """Record the run's outcomes (again: a later close of the same run replaces them)."""
    conn.execute(sa.text("DELETE FROM orders_sync_run_outcomes WHERE run_id = :r"), {"r": run_id})
    if not outcomes:
        return
    conn.execute(
        sa.text(
            """
            INSERT INTO orders_sync_run_outcomes
                (run_id, pipeline, store_code, outcome, detail, windows_not_run)
            VALUES (:run_id, :pipeline, :store_code, :outcome, :detail, :windows_not_run)
            ON CONFLICT (run_id, pipeline, store_code) DO UPDATE
            SET outcome = EXCLUDED.outcome, detail = EXCLUDED.detail,
                windows_not_run = EXCLUDED.windows_not_run
            """
        ),
        [{"run_id": run_id, **dataclasses.asdict(o)} for o in outcomes],
    )


def outcomes_of_run(conn: sa.Connection, run_id: str) -> list[JobOutcome]:
    """The run's recorded outcomes, by store and pipeline."""
    rows = conn.execute(
        sa.text(
            """
            SELECT pipeline, store_code, outcome, detail, windows_not_run
            FROM orders_sync_run_outcomes WHERE run_id = :r ORDER BY store_code, pipeline
            """
        ),
        {"r": run_id},
    ).all()
    return [JobOutcome(str(p), str(s), str(o), d, int(n)) for p, s, o, d, n in rows]
