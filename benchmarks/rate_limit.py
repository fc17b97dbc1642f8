"""Rate-limit benchmark: the profiler against a CRM that allows R requests a second.

The simulator enforces the limit (a token bucket of R, 429 + ``Retry-After`` beyond it); the
profiler runs 8 stores with 8 workers, once with the budget configured (``TD_API_MAX_RPS`` = R)
and once finding the limit from the 429s, for R = 3, 10 and 30. For each: the share of requests
answered 429, the wall time against the floor (successful requests / R), failed windows.
Then the daily-freshness case: 50 daily-only stores and 4 with two years to backfill at R = 5,
budget configured — how long each daily store waited for its today, against the time its own
requests need at R. All in one invocation (these machines are noisy)::

    .venv/bin/python benchmarks/rate_limit.py [--days 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from orders_sync.config import Endpoint, Settings  # noqa: E402
from orders_sync.db.engine import dispose_engines, get_engine  # noqa: E402
from orders_sync.run_profiler.execution import run_profiler  # noqa: E402
from orders_sync.run_profiler.options import ProfilerOptions  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from orders_sync_devtools.simulator.clock import IST  # noqa: E402
from orders_sync_devtools.simulator.server import SimulatorServer  # noqa: E402

TOKEN = "bench-token-0123456789"


def _reset(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "TRUNCATE store_master, orders_sync_log, pipeline_run_summaries, td_orders, "
                "td_sales, uc_orders, orders_sync_run_owners, orders_sync_run_outcomes "
                "RESTART IDENTITY CASCADE"
            )
        )


def _stores(
    engine: sa.Engine, stores: list[tuple[str, int]], today: dt.date, synced: set[str]
) -> None:
    """The stores; those in ``synced`` were synced through yesterday by an earlier run, so
    their plan is only the daily work (the overlap day and today)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO pipeline_run_summaries (run_id, pipeline_name, run_env, started_at,"
                " finished_at, report_date, overall_status) VALUES ('earlier', "
                "'orders_sync_run_profiler', 'bench', now(), now(), :t, 'success')"
            ),
            {"t": today},
        )
        for code, days in stores:
            start = today - dt.timedelta(days=days)
            conn.execute(
                sa.text(
                    "INSERT INTO store_master (store_code, sync_group, start_date) "
                    "VALUES (:c, 'TD', :d)"
                ),
                {"c": code, "d": start},
            )
            if code in synced:
                conn.execute(
                    sa.text(
                        "INSERT INTO orders_sync_log (pipeline_id, run_id, run_env, store_code,"
                        " from_date, to_date, status) SELECT id, 'earlier', 'bench', :c, :f,"
                        " :t, 'success' FROM pipelines WHERE code = 'td_orders_sync'"
                    ),
                    {"c": code, "f": start, "t": today - dt.timedelta(days=1)},
                )


@dataclasses.dataclass
class Outcome:
    requests: int
    limited: int
    wall_s: float
    floor_s: float
    failed: int


def _run(
    url: str,
    rps: float,
    *,
    configured: bool,
    stores: list[tuple[str, int]],
    synced: frozenset[str] = frozenset(),
    workers: int = 8,
) -> tuple[Outcome, SimulatorServer, dict[str, float], int]:
    now = dt.datetime.now(IST).replace(microsecond=0)
    with SimulatorServer(td_token=TOKEN, clock=now) as sim:
        engine = get_engine(Settings(database_url=url))
        _reset(engine)
        _stores(engine, stores, now.date(), set(synced))
        sim.faults.limit_requests("td", rps, burst=max(1, int(rps)))
        settings = Settings(
            database_url=url,
            endpoints={"TD": Endpoint(sim.base_url, TOKEN, rps if configured else None)},
            http_max_attempts=3,
            http_backoff_base_s=0.1,
        )
        today_done: dict[str, float] = {}
        synced_windows = 0
        started = time.monotonic()

        def on_window(report: object) -> None:
            nonlocal synced_windows
            code = report.store_code  # type: ignore[attr-defined]
            if code in synced:
                synced_windows += 1
            if getattr(report, "to_date", None) == now.date():
                today_done[code] = time.monotonic() - started

        run = run_profiler(
            engine,
            ProfilerOptions(env="bench", window_days=30, max_workers=workers),
            settings,
            today=now.date(),
            on_window=on_window,
        )
        wall = time.monotonic() - started
        failed = sum(1 for r in run.results for w in r.windows if w.status != "success")
        seen = len(sim.faults.seen["td"])
        limited = sim.faults.limited
        outcome = Outcome(seen, limited, wall, (seen - limited) / rps, failed)
        dispose_engines()
        return outcome, sim, today_done, synced_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=60, help="history of each of the 8 stores")
    args = parser.parse_args()
    with embedded.throwaway_server("orders_sync_bench_") as server:
        url = server.url()
        print("R    mode        requests  429s   429 %   wall s  floor s  wall/floor  failed")
        for rps in (3.0, 10.0, 30.0):
            for configured in (True, False):
                stores = [(f"S{i:03d}", args.days) for i in range(8)]
                got, _, _, _ = _run(url, rps, configured=configured, stores=stores)
                mode = "configured" if configured else "found"
                print(
                    f"{rps:<4.0f} {mode:<11} {got.requests:>8}  {got.limited:>4}  "
                    f"{100 * got.limited / max(got.requests, 1):>5.1f}  {got.wall_s:>7.1f}  "
                    f"{got.floor_s:>7.1f}  {got.wall_s / got.floor_s:>10.2f}  {got.failed:>6}",
                    flush=True,
                )
        daily = [(f"D{i:03d}", 30) for i in range(50)]
        backfill = [(f"B{i:03d}", 730) for i in range(4)]
        rps = 5.0
        got, _, today_done, windows = _run(
            url, rps, configured=True, stores=daily + backfill,
            synced=frozenset(code for code, _ in daily),
        )  # fmt: skip
        daily_times = sorted(t for code, t in today_done.items() if code.startswith("D"))
        # the daily stores' own requests: each window one page of orders and one of sales
        need_s = windows * 2 / rps
        print(
            f"\ndaily first, R = {rps:.0f}: 50 daily-only stores + 4 with two years; "
            f"every daily store had today's success after {daily_times[-1]:.1f} s "
            f"(their own requests need {need_s:.1f} s at R: {daily_times[-1] / need_s:.2f}x); "
            f"whole run {got.wall_s:.1f} s, 429s {got.limited}, failed windows {got.failed}"
        )


if __name__ == "__main__":
    main()
