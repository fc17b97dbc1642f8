"""Convergence benchmark: a replayed month of daily runs, three ways (issue 7).

Replays ``--days`` simulated days (default 30) of one profiler run a day at 21:00
Asia/Kolkata against the bundled CRM simulator's late changes, for ``--stores`` stores
(default 6: two thirds TD, one third UC) whose ``start_date`` is ``--backfill-days`` (45)
before the first day, on a fresh throw-away embedded PostgreSQL, three ways:

- ``K=1``        the requirement's default (``--overlap-days 1``);
- ``K=11``       a wide overlap window (``--overlap-days 11``);
- ``K=1 + S=11`` the default overlap plus the settle pass (``--settle-days 11``).

For each it prints:

- rows stale at the end: stored rows (``td_orders``, ``td_sales``, ``uc_orders``) missing
  or differing from the source at the final clock, as a count and a % of the source's rows,
  over the days older than the run's own horizon (K for an overlap, S for the settle
  pass), and over the days at least 12 days old (final in the source: stale there means
  stale for good), both for all stored days and for the replayed month's days only;
- the steady-state cost per run, averaged over the last 10 runs: source HTTP requests,
  windows, days fetched, days re-fetched (already covered by an earlier success), rows
  fetched and wall time.

Usage::

    .venv/bin/python benchmarks/convergence.py [--days 30] [--stores 6] [--window-days 90]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orders_sync.config import override_settings  # noqa: E402
from orders_sync.db.migrate import upgrade  # noqa: E402
from orders_sync.run_profiler.options import ProfilerOptions  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from orders_sync_devtools.simulator.server import SimulatorServer  # noqa: E402
from tests.support.replay import (  # noqa: E402
    DayRecord,
    Replay,
    StaleReport,
    make_stores,
    replay_settings,
    steady_state,
)

SEED = 42
FIRST_DAY = dt.date(2026, 3, 2)
FINAL_AGE = 12  # days at least this old are final in the simulator (SETTLE_DAYS = 10)
STEADY_RUNS = 10


@dataclasses.dataclass(frozen=True)
class Way:
    name: str
    overlap_days: int
    settle_days: int

    @property
    def horizon(self) -> int:
        """Days newer than this are re-fetched by design; older ones should be right."""
        return max(self.overlap_days, self.settle_days)


WAYS = (Way("K=1", 1, 0), Way("K=11", 11, 0), Way("K=1 + S=11", 1, 11))


@dataclasses.dataclass(frozen=True)
class Result:
    way: Way
    records: list[DayRecord]
    own_all: StaleReport
    own_month: StaleReport
    final_all: StaleReport
    final_month: StaleReport
    elapsed_s: float


def replay_one(
    server: embedded.EmbeddedServer,
    simulator: SimulatorServer,
    state: Path,
    way: Way,
    args: argparse.Namespace,
) -> Result:
    name = "conv_" + "".join(ch for ch in way.name.lower() if ch.isalnum())
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.url(name)
    upgrade(url)
    settings = replay_settings(simulator, url, state)
    override_settings(settings)
    engine = sa.create_engine(url, pool_size=args.workers + 4)
    try:
        start_date = FIRST_DAY - dt.timedelta(days=args.backfill_days)
        td = args.stores - args.stores // 3
        stores = make_stores(td, args.stores - td, start_date=start_date)
        options = ProfilerOptions(
            env="bench",
            window_days=args.window_days,
            overlap_days=way.overlap_days,
            settle_days=way.settle_days,
            max_workers=args.workers,
        )
        replay = Replay(engine, simulator, settings, stores, options)
        replay.seed()
        started = time.monotonic()
        records = replay.run_days(FIRST_DAY, args.days)
        elapsed = time.monotonic() - started
        failed = [r.day for r in records if r.status != "success"]
        if failed:
            raise SystemExit(f"{way.name}: runs not successful on {failed}")
        final = records[-1].day
        own = final - dt.timedelta(days=way.horizon)
        settled = final - dt.timedelta(days=FINAL_AGE - 1)
        return Result(
            way=way,
            records=records,
            own_all=replay.compare(own),
            own_month=replay.compare(own, since=FIRST_DAY),
            final_all=replay.compare(settled),
            final_month=replay.compare(settled, since=FIRST_DAY),
            elapsed_s=elapsed,
        )
    finally:
        engine.dispose()
        override_settings(None)


def _stale(report: StaleReport) -> str:
    return f"{report.stale:,} / {report.source_rows:,} ({report.stale_pct:.1f}%)"


def render(results: Sequence[Result], args: argparse.Namespace) -> str:
    final = FIRST_DAY + dt.timedelta(days=args.days - 1)
    lines = [
        f"{args.days} daily runs at 21:00 Asia/Kolkata, {FIRST_DAY}..{final}, "
        f"{args.stores} stores, start_date {args.backfill_days} days before the first run, "
        f"window_days={args.window_days}, simulator seed {SEED}.",
        "",
        "| | " + " | ".join(r.way.name for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]

    def row(label: str, cells: Sequence[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row(
        "stale rows older than the run's horizon (K or S), all stored days",
        [f"{_stale(r.own_all)}, days < {r.own_all.before}" for r in results],
    )
    row(
        "… of which days of the replayed month",
        [_stale(r.own_month) for r in results],
    )
    row(
        f"stale rows at least {FINAL_AGE} days old (final in the source), all stored days",
        [_stale(r.final_all) for r in results],
    )
    row(
        "… of which days of the replayed month",
        [_stale(r.final_month) for r in results],
    )
    steady = [steady_state(r.records, STEADY_RUNS) for r in results]
    per_store = args.stores
    for key, label, fmt in (
        ("requests", "source HTTP requests per run", "{:.1f}"),
        ("windows", "windows per run", "{:.1f}"),
        ("days_fetched", "days fetched per run (all stores)", "{:.1f}"),
        ("days_refetched", "days re-fetched per run (all stores)", "{:.1f}"),
        ("rows_fetched", "source rows fetched per run", "{:,.0f}"),
        ("wall_s", "wall time per run (s)", "{:.2f}"),
    ):
        row(f"{label}, last {STEADY_RUNS} runs", [fmt.format(s[key]) for s in steady])
    row(
        "days re-fetched per store per run",
        [f"{s['days_refetched'] / per_store:.1f}" for s in steady],
    )
    row("replay wall time (s)", [f"{r.elapsed_s:.1f}" for r in results])
    lines += ["", f"Stale rows at least {FINAL_AGE} days old, by table:"]
    lines += [f"- {r.way.name}: {r.final_all.describe()}" for r in results]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--stores", type=int, default=6)
    parser.add_argument("--window-days", type=int, default=90)
    parser.add_argument("--backfill-days", type=int, default=45)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    if args.days <= STEADY_RUNS or args.stores < 2:
        parser.error(f"--days must exceed {STEADY_RUNS} and --stores be at least 2")

    with tempfile.TemporaryDirectory(prefix="orders_sync_bench_") as tmp:
        state = Path(tmp)
        print(f"starting a throw-away PostgreSQL in {state} (fsync off) ...", flush=True)
        server = embedded.ensure_running(state, durable=False)
        try:
            with SimulatorServer(seed=SEED, clock=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as sim:
                results = []
                for way in WAYS:
                    print(f"replaying {args.days} days with {way.name} ...", flush=True)
                    results.append(replay_one(server, sim, state, way, args))
            print()
            print(render(results, args))
        finally:
            embedded.stop(state)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
