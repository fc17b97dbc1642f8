"""Planning benchmark: ``load_plan.plan_run`` over 2,000 stores with five years of log history.

Builds, in a throw-away embedded PostgreSQL (fsync off), ``store_master`` with 2,000 stores
(half TD, half UC) and about a million ``orders_sync_log`` rows written with
``generate_series``: per store, 4-day success windows from its start date five years ago,
an earlier failed attempt of every tenth window, a few holes (2 % of the stores miss 40 days
in the middle) and a lagging tail (10 % stopped 200 days ago, so they plan a real backfill).

Then it times ``plan_run`` warm (median of ``--reps`` runs) and counts the SQL statements it
issues (SQLAlchemy ``before_cursor_execute``) with 20, 200 and 2,000 active stores: the
count must not depend on the number of stores. Goal (issue 5): under 2 s for 2,000 stores,
constant statement count. Usage::

    .venv/bin/python benchmarks/plan.py [--stores 2000] [--years 5] [--reps 5] [--strict]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from orders_sync.config import Settings  # noqa: E402
from orders_sync.run_profiler import load_plan  # noqa: E402
from orders_sync.run_profiler.options import ProfilerOptions  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402

GOAL_S = 2.0
TODAY = dt.date(2026, 1, 20)
SIZES = (20, 200, 2000)


def build_history(engine: sa.Engine, stores: int, years: int) -> int:
    """Stores and log rows, set-based; returns the number of log rows."""
    start = TODAY - dt.timedelta(days=round(365.25 * years))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO store_master
                    (store_code, store_name, sync_group, cost_center, start_date, is_active)
                SELECT 'S' || lpad(n::text, 5, '0'), 'bench store ' || n,
                       CASE WHEN n % 2 = 0 THEN 'TD' ELSE 'UC' END, 'CC' || (n % 50),
                       CAST(:start AS DATE) + (n % 7), true
                FROM generate_series(1, :stores) AS n
                """
            ),
            {"stores": stores, "start": start},
        )
        for run_id in ("bench-history", "bench-retries"):
            conn.execute(
                sa.text(
                    """
                    INSERT INTO pipeline_run_summaries
                        (run_id, pipeline_name, run_env, started_at, finished_at, report_date,
                         overall_status, summary_text)
                    VALUES (:run_id, 'orders_sync_run_profiler', 'bench', now(), now(), :today,
                            'success', 'benchmark history')
                    """
                ),
                {"run_id": run_id, "today": TODAY},
            )
        # windows: 4-day chunks from the start date to yesterday (200 days ago for laggards)
        windows_sql = """
            FROM store_master s
            JOIN pipelines p ON p.code = CASE s.sync_group WHEN 'TD' THEN 'td_orders_sync'
                                                             ELSE 'uc_orders_sync' END
            CROSS JOIN LATERAL generate_series(
                s.start_date,
                CAST(:today AS DATE) - CASE WHEN right(s.store_code, 1) = '7' THEN 200 ELSE 1 END,
                interval '4 days'
            ) AS g(day)
            WHERE NOT (right(s.store_code, 2) IN ('13', '63')
                       AND g.day BETWEEN s.start_date + 400 AND s.start_date + 440)
        """
        conn.execute(
            sa.text(
                f"""
                INSERT INTO orders_sync_log
                    (pipeline_id, run_id, run_env, cost_center, store_code, from_date, to_date,
                     orders_pulled_at, status, created_at, updated_at)
                SELECT p.id, 'bench-history', 'bench', s.cost_center, s.store_code,
                       g.day::date, g.day::date + 3, g.day + interval '4 days 2 hours',
                       'success', g.day + interval '4 days 1 hour',
                       g.day + interval '4 days 2 hours'
                {windows_sql}
                """
            ),
            {"today": TODAY},
        )
        conn.execute(
            sa.text(
                f"""
                INSERT INTO orders_sync_log
                    (pipeline_id, run_id, run_env, cost_center, store_code, from_date, to_date,
                     status, error_message, created_at, updated_at)
                SELECT p.id, 'bench-retries', 'bench', s.cost_center, s.store_code,
                       g.day::date, g.day::date + 3, 'failed', 'orders: HTTP 503',
                       g.day + interval '4 days', g.day + interval '4 days'
                {windows_sql}
                  AND (g.day::date - s.start_date) % 40 = 0
                """
            ),
            {"today": TODAY},
        )
        rows = int(conn.execute(sa.text("SELECT count(*) FROM orders_sync_log")).scalar_one())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return rows


def set_active(engine: sa.Engine, active: int) -> None:
    """Keep only the first ``active`` stores active (the profiler plans active ones only)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE store_master SET is_active = (substr(store_code, 2)::int <= :n)"),
            {"n": active},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE store_master"))


@dataclasses.dataclass(frozen=True)
class PlanTiming:
    stores: int
    median_s: float
    best_s: float
    statements: int
    jobs: int
    windows: int
    slowest_statement_s: float
    breakdown: tuple[tuple[str, float], ...]  # (statement's first words, seconds), last rep


def _label(statement: str) -> str:
    words = " ".join(statement.split())
    if words.startswith("WITH"):
        words = words.split(" AS (", 1)[0] + " AS (... " + words.split("FROM", 1)[1][:40]
    return words[:70]


def time_plan(engine: sa.Engine, settings: Settings, stores: int, reps: int) -> PlanTiming:
    options = ProfilerOptions(env="bench")
    counted: list[tuple[str, float]] = []
    started_at: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started_at[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.append((statement, time.perf_counter() - started_at.pop(id(cursor))))

    jobs = load_plan.plan_run(engine, options, settings, today=TODAY)  # warm-up
    durations: list[float] = []
    statements: list[int] = []
    slowest = 0.0
    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(reps):
            counted.clear()
            began = time.perf_counter()
            jobs = load_plan.plan_run(engine, options, settings, today=TODAY)
            durations.append(time.perf_counter() - began)
            statements.append(len(counted))
            slowest = max(slowest, max((s for _, s in counted), default=0.0))
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)
    if len(set(statements)) != 1:
        print(f"  note: statement counts varied between repetitions: {statements}")
    return PlanTiming(
        stores=stores,
        median_s=statistics.median(durations),
        best_s=min(durations),
        statements=max(statements),
        jobs=len(jobs),
        windows=sum(len(job.windows) for job in jobs),
        slowest_statement_s=slowest,
        breakdown=tuple((_label(statement), seconds) for statement, seconds in counted),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    sizes = sorted({size for size in SIZES if size < args.stores} | {args.stores})

    print("starting a throw-away PostgreSQL (fsync off) ...", flush=True)
    with embedded.throwaway_server("orders_sync_bench_") as server:
        url = server.url()
        engine = sa.create_engine(url)
        settings = Settings(database_url=url, state_dir=server.pgdata.parent)
        began = time.perf_counter()
        rows = build_history(engine, args.stores, args.years)
        print(
            f"generated {args.stores} stores, {rows:,} orders_sync_log rows "
            f"({args.years} years) in {time.perf_counter() - began:.1f}s",
            flush=True,
        )
        timings = []
        for size in sizes:
            set_active(engine, size)
            timings.append(time_plan(engine, settings, size, args.reps))
        engine.dispose()

    print()
    print(
        f"{'stores':>7} {'median':>9} {'best':>9} {'statements':>11} {'slowest stmt':>13} "
        f"{'jobs':>6} {'windows':>8}"
    )
    for t in timings:
        print(
            f"{t.stores:>7} {t.median_s * 1000:>7.0f}ms {t.best_s * 1000:>7.0f}ms "
            f"{t.statements:>11} {t.slowest_statement_s * 1000:>11.0f}ms {t.jobs:>6} "
            f"{t.windows:>8}"
        )
    largest = timings[-1]
    print()
    print(f"statements of one plan of {largest.stores} stores:")
    for label, seconds in largest.breakdown:
        print(f"  {seconds * 1000:>7.0f}ms  {label}")
    constant = len({t.statements for t in timings}) == 1
    print()
    print(
        f"plan of {largest.stores} stores: median {largest.median_s:.2f}s "
        f"(goal < {GOAL_S:.0f}s, ratio {largest.median_s / GOAL_S:.2f} of the goal); "
        f"statement count {'constant' if constant else 'NOT constant'} "
        f"({', '.join(str(t.statements) for t in timings)}); "
        f"per store {largest.median_s / largest.stores * 1000:.2f} ms"
    )
    ok = largest.median_s < GOAL_S and constant
    print("goal met" if ok else "GOAL MISSED")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
