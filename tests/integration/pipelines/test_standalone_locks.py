"""A standalone run lives alongside the profiler: run liveness lock and store locks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from orders_sync.db import locks
from orders_sync.db.repositories import run_summaries, sync_log
from orders_sync.db.repositories import stores as store_master
from orders_sync.db.repositories.pipelines import resolve_pipeline_ids
from orders_sync.pipelines import standalone
from orders_sync.pipelines.window import WindowRequest, WindowResult
from orders_sync.runs import liveness as run_lifecycle
from tests.integration.pipelines.test_standalone_cli import WINDOW, _log, _run, _summary
from tests.support.seeding import TD_ORDERS_SYNC

DAY = dt.date(2026, 1, 5)


def _plan(engine: sa.Engine) -> standalone.StandaloneRun:
    with engine.connect() as conn:
        pipeline_id = resolve_pipeline_ids(conn, [TD_ORDERS_SYNC])[TD_ORDERS_SYNC]
        rows = store_master.select_runnable_stores(conn, sync_groups=["TD"])
    return standalone.StandaloneRun(
        code=TD_ORDERS_SYNC,
        pipeline_id=pipeline_id,
        run_env="test",
        today=DAY,
        from_date=DAY,
        to_date=DAY,
        stores=tuple(rows),
    )


class _SweepingPipeline:
    """Runs a profiler's sweep of abandoned runs in the middle of every window."""

    code = TD_ORDERS_SYNC

    def __init__(self, engine: sa.Engine, pipeline_id: int) -> None:
        self.engine = engine
        self.pipeline_id = pipeline_id
        self.seen: list[str] = []

    def run_window(self, request: WindowRequest) -> WindowResult:
        run_lifecycle.close_abandoned_runs(self.engine)
        with self.engine.connect() as conn:
            run = run_summaries.get_run(conn, request.run_id)
        assert run is not None
        self.seen.append(run.overall_status)
        return WindowResult(
            self.code, request.store_code, DAY, DAY, "success", 0, 0, 0, 0.0, None, None
        )


def test_a_live_standalone_run_is_never_closed_as_abandoned(seeded: sa.Engine) -> None:
    plan = _plan(seeded)
    pipeline = _SweepingPipeline(seeded, plan.pipeline_id)
    assert standalone.execute(seeded, pipeline, plan) == 0
    assert pipeline.seen == ["running", "running"]  # A001, A002
    with seeded.connect() as conn:
        owner = conn.execute(sa.text("SELECT owner_kind, owner FROM orders_sync_run_owners")).one()
    assert owner == ("process", run_lifecycle.process_owner())


def test_a_store_locked_by_another_run_is_skipped_and_fails_the_run(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    with locks.advisory_lock(seeded, locks.store_lock_key("A002")) as held:
        assert held
        done = _run("td_orders_sync.sh", WINDOW, cli_env, tmp_path)
    assert done.returncode == 1, done.stderr
    assert [(r.store_code, r.status) for r in _log(seeded)] == [("A001", "success")]
    summary = _summary(seeded)
    assert summary.overall_status == "failed"
    assert "skipped_stores=1" in summary.summary_text
    assert "store A002 is locked by another run: skipped" in done.stderr


def test_a_running_row_left_by_a_dead_process_is_closed_before_the_window(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    plan = _plan(seeded)
    with seeded.begin() as conn:
        run_summaries.start_run(
            conn, run_id="dead-run", pipeline_name="td_orders_sync", run_env="x", report_date=DAY
        )
        stale = sync_log.insert_running(
            conn,
            pipeline_id=plan.pipeline_id,
            run_id="dead-run",
            run_env="x",
            store_code="A001",
            cost_center=None,
            from_date=DAY,
            to_date=DAY,
        )
    done = _run("td_orders_sync.sh", [*WINDOW, "--store-code", "A001"], cli_env, tmp_path)
    assert done.returncode == 0, done.stderr
    with seeded.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, error_message FROM orders_sync_log WHERE id = :id"),
            {"id": stale},
        ).one()
    assert row.status == "failed"
    assert row.error_message.startswith("abandoned:")
