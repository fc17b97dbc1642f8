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
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa

from orders_sync.domain import Job, deal_by_work
from orders_sync.runs.results import JobResult, WindowReport, without_result
from orders_sync.sources import pacing

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
    job that reported one, in no particular order.

    Each shard writes to a pipe of its own, so one that dies mid-message can garble only
    its own stream (read as its end), never block or corrupt another's.
    """
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    readers: dict[Connection, int] = {}
    processes = []
    for index, (shard_jobs, workers) in enumerate(
        zip(deal_by_work(jobs, shards), workers_of(max_workers, shards), strict=True)
    ):
        if not shard_jobs:
            continue
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(
            target=_shard_main,
            args=(
                index,
                os.getpid(),
                engine,
                shard_jobs,
                workers,
                workers / max_workers,
                execute,
                stop,
                writer,
            ),
            name=f"orders_sync-shard-{index}",
            daemon=True,
        )
        process.start()
        writer.close()  # the shard's end; this process only reads
        readers[reader] = index
        processes.append(process)
    results: list[JobResult] = []
    stopping_since: float | None = None
    try:
        while readers:
            if stop_event.is_set() and stopping_since is None:
                stop.set()
                stopping_since = time.monotonic()
            if stopping_since is not None and time.monotonic() - stopping_since > grace_s + 1.0:
                break
            for ready in multiprocessing.connection.wait(list(readers), timeout=_POLL_S):
                assert isinstance(ready, Connection)
                try:
                    kind, payload = ready.recv()
                except (EOFError, OSError, pickle.UnpicklingError):
                    kind, payload = "done", None  # it ended, or died mid-message
                if kind == "window":
                    on_window(payload)
                elif kind == "result":
                    results.append(payload)
                else:
                    readers.pop(ready)
                    ready.close()
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
        for reader in readers:
            reader.close()
    if not stop_event.is_set():
        for job in without_result(jobs, results):
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
    parent: int,
    engine: sa.Engine,
    jobs: Sequence[Job],
    workers: int,
    share: float,
    execute: Execute,
    stop: Any,
    writer: Connection,
) -> None:
    """A shard: die with the parent, leave signals to it, run its jobs, report, exit.

    Its share of each source's request budget is its share of the run's workers."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above: nobody to report to
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine.dispose(close=False)  # the parent's pooled connections are the parent's
    pacing.set_share(share)  # and its request pacers, made anew at this share
    local_stop = threading.Event()
    sending = threading.Lock()  # the worker threads share the pipe

    def relay_stop() -> None:
        stop.wait()
        local_stop.set()

    def send(kind: str, payload: object) -> None:
        with sending:
            writer.send((kind, payload))

    threading.Thread(target=relay_stop, name="shard-stop", daemon=True).start()
    code = 0
    try:
        for result in execute(engine, jobs, workers, local_stop, lambda r: send("window", r)):
            send("result", result)
    except BaseException:  # its jobs without a result are reported crashed by the parent
        logger.exception("worker process %d failed", index)
        code = 1
    finally:
        with contextlib.suppress(OSError):
            send("done", index)
        os._exit(code)  # not waiting for worker threads still blocked on the network
