"""A batch's deadline inside its ``sync_store`` task: past it, the window in flight is
interrupted (closed ``failed``, ``interrupted: ...``) and the batch's other jobs do not start.

The deadline grows with the batch's planned work — ``300 s + ORDERS_SYNC_TIMEOUT_PER_DAY x
days + 30 s x jobs`` — up to ``ORDERS_SYNC_TASK_TIMEOUT``; Airflow's own ``execution_timeout``
is a backstop above that ceiling. Both use ``SIGALRM`` in the task's main thread: this one
saves Airflow's timer, runs its own (never longer than what is left of Airflow's), and puts
Airflow's back afterwards. A stuck HTTP read or database call is interrupted too, so one hung
store cannot hold a worker slot — and, with ``max_active_runs=1``, the schedule — forever.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType

from orders_sync.domain import Job
from orders_sync.exceptions import RunInterrupted

BASE_S = 300.0
PER_JOB_S = 30.0


class BatchTimeout(RunInterrupted):
    """The batch ran past its deadline."""


def batch_deadline_s(jobs: Sequence[Job], *, per_day_s: float, ceiling_s: float) -> float:
    """The deadline of a batch of ``jobs``, in seconds from its start."""
    work = BASE_S + per_day_s * sum(job.days for job in jobs) + PER_JOB_S * len(jobs)
    return min(ceiling_s, work)


@contextlib.contextmanager
def deadline(seconds: float, stop: threading.Event) -> Iterator[None]:
    """Raise :class:`BatchTimeout` in this (main) thread after ``seconds``, and set ``stop``.

    Outside the main thread (no signals there) only ``stop`` is set: no new window starts.
    """
    message = f"the batch ran past its deadline of {seconds:.0f} s"
    if threading.current_thread() is not threading.main_thread():
        timer = threading.Timer(seconds, stop.set)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        stop.set()
        raise BatchTimeout(message)

    previous_handler = signal.getsignal(signal.SIGALRM)
    previous_delay, _ = signal.getitimer(signal.ITIMER_REAL)
    if previous_delay:
        seconds = min(seconds, previous_delay)
    started = time.monotonic()
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:
            left = previous_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
