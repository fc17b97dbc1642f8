"""Parallel-execution benchmark: the profiler's wall time at 1, 2, 4, 8 workers, and its
orchestration overhead per window.

In a throw-away embedded PostgreSQL (fsync off) against the in-process CRM simulator:

1. **Scaling**: 12 TD stores, each with four 30-day windows (two API requests per window,
   50 ms simulator latency per request), run by ``executor.run_profiler`` with
   ``max_workers`` 1, 2, 4 and 8 (tables emptied between runs, median of ``--reps``). The
   ideal at M workers is ``work / M`` with ``work`` = the 1-worker time. The executor deals
   windows, not whole stores (``orders_sync.run_profiler.window_queue``), and from 4
   workers on 2+ CPUs splits the run over worker processes (``run_profiler.shards``); its
   *list floor* is its own schedule of the 1-worker window times, with no contention.
   Goal (issue 13): within 1.15x of ideal at 4 workers. It is measured twice: with the
   simulator in a thread of this process (it then competes with the profiler for the GIL:
   every row is generated, JSON-encoded, decoded and validated in one interpreter) and with
   the same simulator in a process of its own, as a real CRM would be.
2. **Overhead per window**: zero latency, one store, 60 one-day windows, one worker. The
   same 60 windows are fetched with a bare ``TdClient`` (pure fetch time); the profiler's
   wall time minus that fetch time minus the data upserts (timed by wrapping
   ``upsert_rows``) is the orchestration: lock, ``orders_sync_log`` writes, planning,
   summary, thread pool. The SQL statements on ``orders_sync_log`` and the advisory locks
   are also timed one by one. Goal: under 20 ms per window.

Usage::

    .venv/bin/python benchmarks/parallel.py [--reps 3] [--latency-ms 50] [--window-days 30]
        [--modes thread,process] [--skip-overhead] [--strict]

With 30-day windows (about 400 orders and 400 payments per request) a window costs about as
much CPU and database time as latency, and a 2-CPU machine limits the speed-up; with
``--window-days 3`` the work is latency-bound and shows the executor's own scaling.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import heapq
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from orders_sync.config import (
    Endpoint,
    Settings,  # noqa: E402
)
from orders_sync.domain import Job, deal_by_work  # noqa: E402
from orders_sync.pipelines import page_writer  # noqa: E402
from orders_sync.run_profiler.execution import ProfilerRun, run_profiler  # noqa: E402
from orders_sync.run_profiler.options import ProfilerOptions  # noqa: E402
from orders_sync.run_profiler.shards import shard_count, workers_of  # noqa: E402
from orders_sync.run_profiler.window_queue import WindowQueue, open_limit  # noqa: E402
from orders_sync.runs.results import WindowReport  # noqa: E402
from orders_sync.sources.td_client import TdClient  # noqa: E402
from orders_sync_devtools import embedded_postgres as embedded  # noqa: E402
from orders_sync_devtools.simulator import IST, SimulatorServer  # noqa: E402

STORES = 12
WINDOW_DAYS = 30
WINDOWS_PER_STORE = 4
WORKERS = (1, 2, 4, 8)
SCALING_GOAL = 1.15
OVERHEAD_GOAL_MS = 20.0
OVERHEAD_WINDOWS = 60
TOKEN = "benchmark-token"
POOL_CONNECTIONS = 30  # as the command line's engine: pool 10 + overflow 20
DATA_TABLES = ("orders_sync_log", "pipeline_run_summaries", "td_orders", "td_sales", "uc_orders")


def _proc_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its children it has reaped (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(pgdata: Path) -> float:
    """CPU seconds of the embedded server: the postmaster, its live and reaped children."""
    try:
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = _proc_cpu(postmaster)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and int(fields[1]) == postmaster:
            total += sum(int(value) for value in fields[11:13]) / os.sysconf("SC_CLK_TCK")
    return total


class Simulator:
    """The CRM simulator, in a thread of this process or in a process of its own."""

    def __init__(self, base_url: str, server: SimulatorServer | None, pid: int = 0) -> None:
        self.base_url = base_url
        self._server = server
        self._pid = pid

    def cpu_seconds(self) -> float:
        """CPU of a simulator process (a thread's is counted in this process's)."""
        return _proc_cpu(self._pid) if self._pid else 0.0

    def _admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + "/_sim/" + path, data=data)
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.load(response))

    def reset_stats(self) -> None:
        if self._server is not None:
            self._server.reset_stats()
        else:
            self._admin("reset", {"faults": False, "stats": True})

    def in_flight_max(self) -> int:
        if self._server is not None:
            return self._server.in_flight_max
        return int(self._admin("stats")["in_flight_max"])

    def set_latency(self, seconds: float) -> None:
        if self._server is not None:
            self._server.faults.set_latency(seconds)
        else:
            self._admin("faults", {"latency_s": seconds})


@contextlib.contextmanager
def simulator(mode: str, now: dt.datetime, latency_s: float) -> Iterator[Simulator]:
    """``mode`` ``thread``: an in-process ``SimulatorServer``; ``process``: the same server
    run by ``python -m orders_sync_devtools.simulator`` on a free port."""
    if mode == "thread":
        with SimulatorServer(seed=42, clock=now, latency_s=latency_s) as server:
            yield Simulator(server.base_url, server)
        return
    child = subprocess.Popen(
        [sys.executable, "-m", "orders_sync_devtools.simulator", "--port", "0", "--seed", "42",
         "--clock", now.isoformat(), "--latency-ms", str(latency_s * 1000)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if "listening on " not in line:
            raise SystemExit(f"the simulator process did not start: {line!r}")
        yield Simulator(line.split("listening on ", 1)[1].split()[0], None, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=10)


def empty_run_tables(engine: sa.Engine) -> None:
    """Forget every run and every synced row; keep ``store_master`` and ``pipelines``."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"))


def seed_stores(engine: sa.Engine, codes: Sequence[str], start: dt.date) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM store_master"))
        conn.execute(
            sa.text(
                """
                INSERT INTO store_master
                    (store_code, store_name, sync_group, cost_center, start_date, is_active)
                VALUES (:code, :name, 'TD', 'CC1', :start, true)
                """
            ),
            [{"code": code, "name": f"bench {code}", "start": start} for code in codes],
        )


def cpu_seconds() -> float:
    """CPU of this process and of its children reaped so far (the run's worker processes;
    the simulator process is reaped only after its mode's runs)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def timed_run(
    engine: sa.Engine,
    settings: Settings,
    today: dt.date,
    *,
    window_days: int,
    max_workers: int,
    on_window: Callable[[WindowReport], None] | None = None,
) -> tuple[float, ProfilerRun]:
    empty_run_tables(engine)
    options = ProfilerOptions(env="bench", window_days=window_days, max_workers=max_workers)
    began = time.perf_counter()
    run = run_profiler(engine, options, settings, on_window=on_window, today=today)
    wall = time.perf_counter() - began
    if run.outcome.overall_status != "success":
        raise SystemExit(f"benchmark run failed: {run.outcome.summary_text}")
    return wall, run


@dataclasses.dataclass(frozen=True)
class Scaling:
    workers: int
    wall_s: float
    ideal_s: float
    list_s: float  # the executor's own schedule of the 1-worker window times (no contention)
    cpu_s: float  # CPU time of this process during the run (all its threads)
    all_cpu_s: float  # this process + the simulator process + PostgreSQL

    @property
    def cpu_floor_s(self) -> float:
        """The wall time if every CPU of the machine did only this run's work."""
        return self.all_cpu_s / (os.cpu_count() or 1)

    @property
    def ratio(self) -> float:
        return self.wall_s / self.ideal_s

    @property
    def list_ratio(self) -> float:
        return self.wall_s / self.list_s


def list_schedule_s(
    jobs: Sequence[Job], window_seconds: dict[tuple[str, int], float], workers: int
) -> float:
    """When the last window ends if the executor deals the windows as it does — over its
    worker processes (``shards``), each with a :class:`WindowQueue` — and each takes what
    it took alone: the schedule's own imbalance with no contention at all.
    ``window_seconds``: (store, window index) -> its 1-worker seconds."""
    shards = shard_count(workers, os.cpu_count() or 1)
    if shards == 1:
        return _queue_schedule_s(jobs, window_seconds, workers)
    return max(
        _queue_schedule_s(part, window_seconds, threads)
        for part, threads in zip(
            deal_by_work(jobs, shards), workers_of(workers, shards), strict=True
        )
        if part
    )


def _queue_schedule_s(
    jobs: Sequence[Job], window_seconds: dict[tuple[str, int], float], workers: int
) -> float:
    queue = WindowQueue(jobs, limit=open_limit(workers, POOL_CONNECTIONS))
    clock = 0.0
    running: list[tuple[float, int, int]] = []  # (ends at, job index, window index)
    runs = [0] * len(queue.jobs)
    while True:
        while len(running) < workers and (index := queue.take()) is not None:
            took = window_seconds[(queue.jobs[index].store_code, runs[index])]
            heapq.heappush(running, (clock + took, index, runs[index]))
        if not running:
            return clock
        clock, index, window = heapq.heappop(running)
        runs[index] = window + 1
        if runs[index] < len(queue.jobs[index].windows):
            queue.window_done(index, window_seconds[(queue.jobs[index].store_code, window)])
        else:
            queue.job_done(index)


def measure_scaling(
    engine: sa.Engine,
    settings: Settings,
    sim: Simulator,
    today: dt.date,
    reps: int,
    pgdata: Path,
    window_days: int,
) -> list[Scaling]:
    codes = [f"P{n:03d}" for n in range(1, STORES + 1)]
    seed_stores(engine, codes, today - dt.timedelta(days=window_days * WINDOWS_PER_STORE - 1))
    timed_run(engine, settings, today, window_days=window_days, max_workers=8)  # warm-up
    walls: dict[int, float] = {}
    window_seconds: list[dict[tuple[str, int], float]] = []
    jobs: Sequence[Job] = ()
    cpus: dict[int, float] = {}
    all_cpus: dict[int, float] = {}
    for workers in WORKERS:
        samples = []
        cpu_samples = []
        all_samples = []
        for _ in range(reps):
            sim.reset_stats()
            own, others = cpu_seconds(), sim.cpu_seconds() + postgres_cpu(pgdata)
            wall, run = timed_run(
                engine, settings, today, window_days=window_days, max_workers=workers
            )
            own = cpu_seconds() - own
            cpu_samples.append(own)
            all_samples.append(own + sim.cpu_seconds() + postgres_cpu(pgdata) - others)
            windows = sum(len(r.windows) for r in run.results)
            assert windows == STORES * WINDOWS_PER_STORE, windows
            assert sim.in_flight_max() <= workers, (sim.in_flight_max(), workers)
            samples.append(wall)
            if workers == 1:  # each window's time alone
                jobs = run.jobs
                window_seconds.append(
                    {(r.store_code, i): w.duration_s for r in run.results
                     for i, w in enumerate(r.windows)}
                )  # fmt: skip
        walls[workers] = statistics.median(samples)
        cpus[workers] = statistics.median(cpu_samples)
        all_cpus[workers] = statistics.median(all_samples)
        print(f"  {workers} worker(s): {walls[workers]:.2f}s", flush=True)
    work = walls[1]
    alone = {
        key: statistics.median(rep[key] for rep in window_seconds) for key in window_seconds[0]
    }
    return [
        Scaling(
            workers=m,
            wall_s=walls[m],
            ideal_s=work / m,
            list_s=list_schedule_s(jobs, alone, m) * work / sum(alone.values()),
            cpu_s=cpus[m],
            all_cpu_s=all_cpus[m],
        )
        for m in WORKERS
    ]


@dataclasses.dataclass(frozen=True)
class Overhead:
    windows: int
    wall_s: float
    fetch_s: float
    upsert_s: float
    window_sum_s: float
    log_sql_s: float
    log_statements: int
    lock_sql_s: float
    lock_statements: int

    def per_window_ms(self, seconds: float) -> float:
        return seconds / self.windows * 1000

    @property
    def orchestration_s(self) -> float:
        return self.wall_s - self.fetch_s - self.upsert_s


def pure_fetch_s(base_url: str, store: str, days: Sequence[dt.date]) -> float:
    with TdClient(base_url, TOKEN) as client:
        began = time.perf_counter()
        for day in days:
            for _ in client.iter_order_pages(store, day, day):
                pass
            for _ in client.iter_sale_pages(store, day, day):
                pass
        return time.perf_counter() - began


def measure_overhead(
    engine: sa.Engine, settings: Settings, sim: Simulator, today: dt.date, reps: int
) -> Overhead:
    sim.set_latency(0.0)
    store = "Q001"
    first = today - dt.timedelta(days=OVERHEAD_WINDOWS - 1)
    days = [first + dt.timedelta(days=n) for n in range(OVERHEAD_WINDOWS)]
    seed_stores(engine, [store], first)

    upsert_total = [0.0]
    real_upsert = page_writer.upsert_rows

    def timed_upsert(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return real_upsert(*args, **kwargs)
        finally:
            upsert_total[0] += time.perf_counter() - began

    sql: dict[str, list[float]] = {"log": [], "lock": []}
    started: dict[int, float] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seconds = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        if "advisory" in statement:
            sql["lock"].append(seconds)
        elif "orders_sync_log" in statement:
            sql["log"].append(seconds)

    pure_fetch_s(sim.base_url, store, days)  # warm the simulator's data cache
    samples: list[Overhead] = []
    for _ in range(reps):
        fetch = pure_fetch_s(sim.base_url, store, days)
        reports: list[WindowReport] = []
        upsert_total[0] = 0.0
        for values in sql.values():
            values.clear()
        page_writer.upsert_rows = timed_upsert  # type: ignore[assignment]
        sa.event.listen(engine, "before_cursor_execute", before)
        sa.event.listen(engine, "after_cursor_execute", after)
        try:
            wall, run = timed_run(
                engine, settings, today, window_days=1, max_workers=1, on_window=reports.append
            )
        finally:
            page_writer.upsert_rows = real_upsert  # type: ignore[assignment]
            sa.event.remove(engine, "before_cursor_execute", before)
            sa.event.remove(engine, "after_cursor_execute", after)
        assert len(reports) == OVERHEAD_WINDOWS, len(reports)
        samples.append(
            Overhead(
                windows=len(reports),
                wall_s=wall,
                fetch_s=fetch,
                upsert_s=upsert_total[0],
                window_sum_s=sum(r.duration_s for r in reports),
                log_sql_s=sum(sql["log"]),
                log_statements=len(sql["log"]),
                lock_sql_s=sum(sql["lock"]),
                lock_statements=len(sql["lock"]),
            )
        )
    return sorted(samples, key=lambda o: o.orchestration_s)[len(samples) // 2]


def print_overhead(o: Overhead) -> None:
    ms = o.per_window_ms
    print()
    print(f"per window ({o.windows} one-day windows, 1 worker, no latency):")
    print(f"  profiler wall              {ms(o.wall_s):7.1f} ms")
    print(f"  pure client fetch          {ms(o.fetch_s):7.1f} ms")
    print(f"  data upserts               {ms(o.upsert_s):7.1f} ms")
    print(f"  window (run_window) time   {ms(o.window_sum_s):7.1f} ms")
    print(f"  orchestration (wall - fetch - upserts) {ms(o.orchestration_s):7.1f} ms")
    print(
        f"  of which orders_sync_log SQL {ms(o.log_sql_s):5.1f} ms "
        f"({o.log_statements / o.windows:.1f} statements), advisory-lock SQL "
        f"{ms(o.lock_sql_s):4.1f} ms ({o.lock_statements / o.windows:.2f} statements)"
    )


MODES = ("thread", "process")


def settings_for(url: str, base_url: str, state: Path) -> Settings:
    return Settings(
        database_url=url,
        endpoints={"TD": Endpoint(base_url, TOKEN), "UC": Endpoint(base_url, TOKEN)},
        state_dir=state,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument(
        "--window-days", type=int, default=WINDOW_DAYS, help="days per window (rows per request)"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="thread,process or one of them")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args(argv)
    modes = tuple(mode for mode in args.modes.split(",") if mode in MODES) or MODES

    now = dt.datetime.now(IST).replace(microsecond=0)
    today = now.date()
    print("starting a throw-away PostgreSQL (fsync off) ...", flush=True)
    with embedded.throwaway_server("orders_sync_bench_") as server:
        state = server.pgdata.parent
        url = server.url()
        engine = sa.create_engine(url, pool_size=10, max_overflow=POOL_CONNECTIONS - 10)
        latency_s = args.latency_ms / 1000
        print(
            f"scaling: {STORES} TD stores x {WINDOWS_PER_STORE} windows of {args.window_days}"
            f" days, {args.latency_ms:.0f} ms per request, median of {args.reps}",
            flush=True,
        )
        scaling: dict[str, list[Scaling]] = {}
        for mode in modes:
            print(f"simulator in a {mode}:", flush=True)
            with simulator(mode, now, latency_s) as sim:
                settings = settings_for(url, sim.base_url, state)
                scaling[mode] = measure_scaling(
                    engine, settings, sim, today, args.reps, server.pgdata, args.window_days
                )
        overhead: Overhead | None = None
        if not args.skip_overhead:
            print(f"overhead: {OVERHEAD_WINDOWS} one-day windows, no latency", flush=True)
            with simulator("process", now, 0.0) as sim:
                settings = settings_for(url, sim.base_url, state)
                overhead = measure_overhead(engine, settings, sim, today, args.reps)
        engine.dispose()

    print()
    for mode in modes:
        print(f"simulator in a {mode}:")
        print(
            f"{'workers':>9} {'wall':>8} {'ideal':>8} {'ratio':>7} {'list floor':>11} "
            f"{'ratio':>7} {'python CPU':>11} {'all CPU':>8} {'CPU floor':>10}"
        )
        for s in scaling[mode]:
            print(
                f"{s.workers:>9} {s.wall_s:>7.2f}s {s.ideal_s:>7.2f}s {s.ratio:>6.2f}x "
                f"{s.list_s:>10.2f}s {s.list_ratio:>6.2f}x {s.cpu_s:>10.2f}s "
                f"{s.all_cpu_s:>7.2f}s {s.cpu_floor_s:>9.2f}s"
            )
    if overhead is not None:
        print_overhead(overhead)
    print(
        "(python CPU: the profiler's CPU time, its own process's and its worker processes'; "
        "all CPU: plus the simulator process and PostgreSQL; CPU floor: all CPU / CPUs, the "
        "wall time below which no number of workers can go on this machine; list floor: the "
        "stores' 1-worker window times dealt as the executor deals them (worker processes, "
        "window queues) to free workers — what unequal stores cost with no contention at "
        "all, scaled to the 1-worker wall)"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end "
        "(other work on the machine slows the many-worker runs most)"
    )
    print()
    scaling_ok = True
    for mode in modes:
        at4 = next(s for s in scaling[mode] if s.workers == 4)
        met = at4.ratio <= SCALING_GOAL
        scaling_ok = scaling_ok and met
        print(
            f"simulator in a {mode}: 4 workers at {at4.ratio:.2f}x of ideal "
            f"(goal <= {SCALING_GOAL}x): {'met' if met else 'MISSED'}"
        )
    overhead_ok = True
    if overhead is not None:
        per_window = overhead.per_window_ms(overhead.orchestration_s)
        overhead_ok = per_window < OVERHEAD_GOAL_MS
        print(
            f"orchestration {per_window:.1f} ms per window "
            f"(goal < {OVERHEAD_GOAL_MS:.0f} ms): {'met' if overhead_ok else 'MISSED'}"
        )
    return 0 if (scaling_ok and overhead_ok) or not args.strict else 1


if __name__ == "__main__":
    raise SystemExit(main())
