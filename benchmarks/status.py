"""Status benchmark: the coverage of 2,000 stores with five years of log history.

The same history as ``benchmarks/plan.py`` (about a million ``orders_sync_log`` rows, in a
throw-away embedded PostgreSQL). Times ``status.load.read_statuses`` warm (median of
``--reps``) with 20, 200 and 2,000 active stores, and counts its SQL statements: the count
must not depend on the number of stores. Goal (issue 11): under 2 s for 2,000 stores, like
planning. Usage::

    .venv/bin/python benchmarks/status.py [--stores 2000] [--years 5] [--reps 5] [--strict]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from benchmarks.plan import SIZES, TODAY, build_history, set_active  # noqa: E402
from orders_sync.status.load import read_statuses  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402

GOAL_S = 2.0


def time_status(engine: sa.Engine, reps: int) -> tuple[float, int, int, int]:
    """(median seconds, statements, stores, failing stores) of ``read_statuses``."""
    counted: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        counted.append(statement)

    with engine.connect() as conn:
        read_statuses(conn, today=TODAY)  # warm-up
    durations, statements = [], []
    statuses = []
    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        for _ in range(reps):
            counted.clear()
            began = time.perf_counter()
            with engine.connect() as conn:
                statuses = read_statuses(conn, today=TODAY)
            durations.append(time.perf_counter() - began)
            statements.append(len(counted))
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    failing = sum(1 for s in statuses if s.failing)
    return statistics.median(durations), max(statements), len(statuses), failing


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
        engine = sa.create_engine(server.url())
        rows = build_history(engine, args.stores, args.years)
        print(f"generated {args.stores} stores, {rows:,} orders_sync_log rows", flush=True)
        results = []
        for size in sizes:
            set_active(engine, size)
            results.append((size, *time_status(engine, args.reps)))
        engine.dispose()
    print(f"\n{'stores':>7} {'median':>9} {'statements':>11} {'entries':>8} {'failing':>8}")
    for size, median, statements, entries, failing in results:
        print(f"{size:>7} {median * 1000:>7.0f}ms {statements:>11} {entries:>8} {failing:>8}")
    largest = results[-1]
    constant = len({r[2] for r in results}) == 1
    print(
        f"\nstatus of {largest[0]} stores: median {largest[1]:.2f}s (goal < {GOAL_S:.0f}s, ratio "
        f"{largest[1] / GOAL_S:.2f} of the goal); statement count "
        f"{'constant' if constant else 'NOT constant'} ({', '.join(str(r[2]) for r in results)})"
    )
    ok = largest[1] < GOAL_S and constant
    print("goal met" if ok else "GOAL MISSED")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
