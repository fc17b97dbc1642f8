"""A run's life, the same for every front end: open → claim store → run windows → close.

- :func:`open_run` (or :func:`process_run` for a command-line process) closes abandoned runs
  (:mod:`orders_sync.runs.liveness`) and inserts the run's ``pipeline_run_summaries`` row
  (``running``);
- each job claims its store (:mod:`orders_sync.runs.claims`) and runs its windows in order,
  stopping at the first failed or partial one (:mod:`orders_sync.runs.steps`);
- :func:`close_run` closes what the run left ``running`` and writes the final summary with
  the one rule of :mod:`orders_sync.runs.summary`.

The profiler CLI (threads), the standalone pipelines (one store after the other) and the
DAG (``start`` / mapped ``sync_store`` / ``finish``) are three callers of these calls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence

import sqlalchemy as sa

from orders_sync.config import get_settings
from orders_sync.db.engine import database_lost, wait_for_database
from orders_sync.db.repositories import run_outcomes, run_summaries, sync_log
from orders_sync.db.repositories.pipelines import source_pipelines
from orders_sync.domain import CloseReason, NotRun, Status
from orders_sync.runs.liveness import (
    close_abandoned_runs,
    close_run_windows,
    hold_run,
    process_owner,
)
from orders_sync.runs.results import JobResult, RunOutcome
from orders_sync.runs.summary import RunTally, decide

logger = logging.getLogger(__name__)


def open_run(
    engine: sa.Engine,
    *,
    run_id: str,
    pipeline_name: str,
    run_env: str,
    report_date: dt.date,
    owner_kind: str = run_summaries.PROCESS_OWNER,
    owner: str | None = None,
    airflow_owner_prefix: str | None = None,
) -> None:
    """Close abandoned runs, then insert the run's summary row (``running``).

    Args:
        run_id: the new run's id.
        pipeline_name: ``pipeline_run_summaries.pipeline_name``.
        run_env: ``--env``.
        report_date: the run's today in the pipeline timezone.
        owner_kind: ``process`` (the caller holds :func:`hold_run`) or ``airflow``.
        owner: ``host:pid`` or ``<dag_id>/<dag run id>``; defaults to this process.
        airflow_owner_prefix: also close earlier ``airflow`` runs of this DAG (its start).
    """
    owner = owner or process_owner()
    close_abandoned_runs(
        engine,
        airflow_owner_prefix=airflow_owner_prefix,
        current_owner=owner if airflow_owner_prefix else None,
    )
    with engine.begin() as conn:
        run_summaries.start_run(
            conn,
            run_id=run_id,
            pipeline_name=pipeline_name,
            run_env=run_env,
            report_date=report_date,
            owner_kind=owner_kind,
            owner=owner,
        )


@contextlib.contextmanager
def process_run(
    engine: sa.Engine, *, pipeline_name: str, run_env: str, report_date: dt.date
) -> Iterator[str]:
    """A run owned by this process: its liveness lock held for the block, the row opened.

    Yields:
        The new run id. The caller closes the run with :func:`close_run` inside the block.
    """
    run_id = run_summaries.new_run_id(pipeline_name)
    with hold_run(engine, run_id):
        open_run(
            engine,
            run_id=run_id,
            pipeline_name=pipeline_name,
            run_env=run_env,
            report_date=report_date,
        )
        yield run_id


def close_run(
    engine: sa.Engine,
    run_id: str,
    results: Sequence[JobResult],
    *,
    interrupted: bool = False,
    skipped_fails_run: bool = False,
    more: Callable[[sa.Connection], Mapping[str, int]] | None = None,
) -> RunOutcome:
    """Close the run: its windows still ``running``, then its summary row, by the one rule.

    An interrupted run first closes its own ``running`` rows as ``interrupted`` (this process
    owns them, its threads may still hold the store locks); any other row of the run still
    ``running`` (a killed worker) is closed as ``abandoned`` where its store's lock is free.
    ``overall_status`` and ``summary_text`` come from what ``orders_sync_log`` recorded for
    the run and from ``results`` (:func:`orders_sync.runs.summary.decide`).

    Args:
        results: every job's result (a job that never reported: ``crashed``).
        interrupted: the run was stopped before its planned work was done.
        skipped_fails_run: a skipped store fails the run (see :mod:`orders_sync.runs.summary`).
        more: further counters for the text, read in the closing transaction.
    """
    wait_s = get_settings().database_wait_s
    if not wait_for_database(engine, wait_s):
        raise database_lost(
            engine,
            f"run {run_id} could not be closed (the next run closes it): the orders database "
            f"did not answer again within {wait_s:.0f} s",
        )
    with engine.begin() as conn:
        running = sync_log.running_rows(conn, run_id=run_id)
        lost = [r for r in results if r.reason == NotRun.DATABASE_UNAVAILABLE]
        if lost:  # their windows stopped with the database, not with the run: say so
            ids = {p.code: p.id for p in source_pipelines(conn).values()}
            keys = {(r.store_code, ids.get(r.pipeline)) for r in lost}
            sync_log.close_rows(
                conn,
                [row for row in running if (row.store_code, row.pipeline_id) in keys],
                CloseReason.DATABASE_UNAVAILABLE,
                "the orders database stopped answering under this window",
            )
        if interrupted:
            sync_log.close_rows(
                conn,
                sync_log.running_rows(conn, run_id=run_id),
                CloseReason.INTERRUPTED,
                "the run was stopped",
            )
    close_run_windows(engine, run_id, "the run finished while this window was running")
    with engine.begin() as conn:
        run_outcomes.save_outcomes(
            conn,
            run_id,
            [
                run_outcomes.JobOutcome(
                    pipeline=r.pipeline,
                    store_code=r.store_code,
                    outcome=str(r.outcome),
                    detail=r.crashed,
                    windows_not_run=r.not_run,
                )
                for r in results
                if r.outcome != Status.SUCCESS
            ],
        )
        counts = sync_log.status_counts_for_run(conn, run_id)
        status, text = decide(
            counts,
            RunTally.of(results, interrupted=interrupted),
            skipped_fails_run=skipped_fails_run,
            more=more(conn) if more is not None else None,
        )
        run_summaries.finish_run(conn, run_id=run_id, overall_status=status, summary_text=text)
    logger.log(
        logging.INFO if status == Status.SUCCESS else logging.WARNING,
        "run %s finished: %s (%s)",
        run_id,
        status,
        text,
        extra={"run_id": run_id, "overall_status": status, "summary_text": text},
    )
    return RunOutcome(run_id=run_id, overall_status=status, summary_text=text, counts=counts)
