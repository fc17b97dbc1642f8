"""Fetch benchmark: a 365-day fetch of one store through the real clients, over loopback.

Starts an in-process CRM simulator (threaded HTTP server on 127.0.0.1, clock frozen at
"now") and times, with fresh clients and a cold data cache:

* TD: orders + sales of one store for 365 days (12 spans of <= 31 days each, pages of 500);
* UC: GST lines of one store for 365 days (6 spans of <= 62 days, pages of 1000);

then the same fetches again with the simulator's data cache warm. Each result is checked
against the simulator's ground truth. Goal (issue 3): each cold 365-day fetch of one
store under 2 seconds. Usage::

    .venv/bin/python benchmarks/fetch.py [--days 365] [--td-store A001] [--uc-store UC104]
        [--seed 42] [--url http://127.0.0.1:8765] [--strict]

With ``--url`` it fetches from an already running simulator instead (no truth check).
``--strict`` exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from orders_sync.sources.td_client import TdClient  # noqa: E402
from orders_sync.sources.uc_client import UcClient  # noqa: E402
from orders_sync_devtools.simulator import IST, SimulatorServer  # noqa: E402

GOAL_S = 2.0


@dataclasses.dataclass(frozen=True)
class Timing:
    """One timed fetch."""

    label: str
    seconds: float
    rows: int
    requests: int


Fetched = tuple[list[object], int]  # rows, HTTP requests


def _time(label: str, run: Callable[[], Fetched]) -> tuple[Timing, list[object]]:
    started = time.perf_counter()
    rows, requests = run()
    return Timing(label, time.perf_counter() - started, len(rows), requests), rows


def _td_fetch(base_url: str, store: str, first: dt.date, last: dt.date) -> Callable[[], Fetched]:
    def run() -> Fetched:
        with TdClient(base_url, "benchmark-token") as client:
            rows: list[object] = [*client.fetch_orders(store, first, last)]
            rows += client.fetch_sales(store, first, last)
            return rows, client.requests_made

    return run


def _uc_fetch(base_url: str, store: str, first: dt.date, last: dt.date) -> Callable[[], Fetched]:
    def run() -> Fetched:
        with UcClient(base_url, "benchmark-token") as client:
            return [*client.fetch_gst(store, first, last)], client.requests_made

    return run


def _report(timing: Timing, goal: bool) -> bool:
    met = timing.seconds < GOAL_S
    verdict = f"  goal < {GOAL_S:.1f} s: {'met' if met else 'NOT MET'}" if goal else ""
    print(
        f"{timing.label:<34} {timing.seconds:6.3f} s  {timing.rows:6d} rows  "
        f"{timing.requests:3d} requests  {timing.rows / timing.seconds:9.0f} rows/s{verdict}"
    )
    return met or not goal


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--td-store", default="A001")
    parser.add_argument("--uc-store", default="UC104")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--url", default=None, help="an already running simulator")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)

    now = dt.datetime.now(IST).replace(microsecond=0)
    last = now.date()
    first = last - dt.timedelta(days=args.days - 1)
    sim: SimulatorServer | None = None
    if args.url is None:
        sim = SimulatorServer(seed=args.seed, clock=now)
        base_url = sim.start()
    else:
        base_url = args.url
    print(f"fetching {first}..{last} ({args.days} days) from {base_url}")
    ok = True
    try:
        td = _td_fetch(base_url, args.td_store, first, last)
        uc = _uc_fetch(base_url, args.uc_store, first, last)
        # The first pass is cold: the simulator has generated nothing yet.
        td_timing, td_rows = _time(f"TD {args.td_store} orders+sales (cold)", td)
        uc_timing, uc_rows = _time(f"UC {args.uc_store} gst (cold)", uc)
        ok &= _report(td_timing, goal=True)
        ok &= _report(uc_timing, goal=True)
        _report(_time(f"TD {args.td_store} orders+sales (warm)", td)[0], goal=False)
        _report(_time(f"UC {args.uc_store} gst (warm)", uc)[0], goal=False)
        if sim is not None:  # outside the timings: the rows are exactly the truth
            truth_td: list[object] = [*sim.truth_td_orders(args.td_store, first, last)]
            truth_td += sim.truth_td_sales(args.td_store, first, last)
            assert td_rows == truth_td, "TD rows differ from the simulator's truth"
            assert uc_rows == sim.truth_uc_gst(args.uc_store, first, last), "UC rows differ"
            print("rows match the simulator's ground truth")
    finally:
        if sim is not None:
            sim.stop()
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
