"""A profiler run across worker processes: one *shard* of its jobs per CPU.

The jobs' HTTP and database waits overlap well in threads, but parsing pages and formatting
rows hold one GIL: at 4 workers on 2 CPUs the threads of one process spent ~15% of the run
waiting for each other (``benchmarks/parallel.py``). So with ``max_workers`` of at least 4
and more than one CPU the run is split: :func:`shard_count` processes, forked from this one
once the run is open, each running its share of the jobs (dealt by planned work, longest
first into the lightest shard) with the same thread executor and the same lifecycle —
each store under its own claim, the run's liveness lock held by every job — and its share
of the workers (together exactly ``max_workers``).

Each shard sends every window's report and every job's result to this process, which keeps
the progress meter and builds the run's summary as before. A stop request reaches the
shards through one shared event; a shard that does not end within the grace is killed, and
its windows still running are closed as interrupted like any thread's. A shard that dies
(a crash, the OOM killer) has its jobs without a result reported as crashed; the shards
die with this process (``PR_SET_PDEATHSIG``), so a killed run leaves no orphan behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import heapq
import logging
import multiprocessing
import multiprocessing.queues
import os
import queue as queue_module
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from orders_sync.domain import Job, longest_first
from orders_sync.runs.results import JobResult, WindowReport

logger = logging.getLogger(__name__)

MIN_WORKERS_PER_SHARD = 2
"""A shard runs at least this many workers: below, one process's threads are enough."""
_POLL_S = 0.2
_PR_SET_PDEATHSIG = 1

Execute = Callable[
    [sa.Engine, Sequence[Job], int, threading.Event, Callable[[WindowReport], None]],
    list[JobResult],
]
"""``(engine, jobs, max_workers, stop_event, on_window) -> results``: the thread executor."""


def shard_count(max_workers: int, cpus: int) -> int:
    """How many processes run a profiler run: one per CPU, each with at least
    :data:`MIN_WORKERS_PER_SHARD` workers; 1 means this process alone."""
    return max(1, min(cpus, max_workers // MIN_WORKERS_PER_SHARD))


def deal(jobs: Sequence[Job], shards: int) -> list[list[Job]]:
    """The jobs split into ``shards`` lists of about equal planned work (longest first into
    the lightest), each in the order the executor takes them."""
    heap = [(0, index) for index in range(shards)]
    dealt: list[list[Job]] = [[] for _ in range(shards)]
    for job in longest_first(jobs):
        work, index = heapq.heappop(heap)
        dealt[index].append(job)
        heapq.heappush(heap, (work + job.work, index))
    return dealt


def workers_of(max_workers: int, shards: int) -> list[int]:
    """``max_workers`` split over the shards, the first ones taking the remainder."""
    return [max_workers // shards + (1 if i < max_workers % shards else 0) for i in range(shards)]


def run_in_shards(
    engine: sa.Engine,
    jobs: Sequence[Job],
    *,
    max_workers: int,
    shards: int,
    execute: Execute,
    stop_event: threading.Event,
    on_window: Callable[[WindowReport], None],
    grace_s: float,
    run_id: str,
) -> list[JobResult]:
    """Run ``jobs`` in ``shards`` forked processes (see the module); the results of every
    job that reported one, in no particular order."""
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    inbox: multiprocessing.queues.Queue[tuple[str, Any]] = context.Queue()
    dealt = deal(jobs, shards)
    processes = [
        context.Process(
            target=_shard_main,
            args=(index, engine, shard_jobs, workers, execute, stop, inbox),
            name=f"orders_sync-shard-{index}",
            daemon=True,
        )
        for index, (shard_jobs, workers) in enumerate(
            zip(dealt, workers_of(max_workers, shards), strict=True)
        )
        if shard_jobs
    ]
    for process in processes:
        process.start()
    results: list[JobResult] = []
    finished: set[int] = set()
    stopping_since: float | None = None
    try:
        while len(finished) < len(processes):
            with contextlib.suppress(queue_module.Empty):
                kind, payload = inbox.get(timeout=_POLL_S)
                if kind == "window":
                    on_window(payload)
                elif kind == "result":
                    results.append(payload)
                else:  # "done"
                    finished.add(int(payload))
                continue
            if stop_event.is_set() and stopping_since is None:
                stop.set()
                stopping_since = time.monotonic()
            for index, process in enumerate(processes):
                if index not in finished and process.exitcode is not None and inbox.empty():
                    finished.add(index)  # it died without saying "done"
            if stopping_since is not None and time.monotonic() - stopping_since > grace_s + 1.0:
                break
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
    if not stop_event.is_set():
        reported = {(r.store_code, r.pipeline) for r in results}
        for job in jobs:
            if (job.store_code, job.pipeline.code) not in reported:
                logger.error(
                    "store %s %s: its worker process died before reporting",
                    job.store_code,
                    job.pipeline.code,
                    extra={"run_id": run_id, "store_code": job.store_code},
                )
                results.append(
                    JobResult(
                        job.store_code,
                        job.pipeline.code,
                        crashed="its worker process died before reporting",
                    )
                )
    return results


def _shard_main(
    index: int,
    engine: sa.Engine,
    jobs: Sequence[Job],
    workers: int,
    execute: Execute,
    stop: Any,
    inbox: multiprocessing.queues.Queue[tuple[str, Any]],
) -> None:
    """A shard: die with the parent, leave signals to it, run its jobs, report, exit."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine.dispose(close=False)  # the parent's pooled connections are the parent's
    local_stop = threading.Event()

    def relay_stop() -> None:
        stop.wait()
        local_stop.set()

    threading.Thread(target=relay_stop, name="shard-stop", daemon=True).start()
    code = 0
    try:
        for result in execute(
            engine, jobs, workers, local_stop, lambda report: inbox.put(("window", report))
        ):
            inbox.put(("result", result))
    except BaseException:  # reported by the parent as crashed jobs
        logger.exception("worker process %d failed", index)
        code = 1
    finally:
        inbox.put(("done", index))
        inbox.close()
        inbox.join_thread()
        os._exit(code)  # not waiting for worker threads still blocked on the network
