"""Which store's next window a free worker of the profiler takes: its schedule, pure.

A store's windows are a chain: in order, under the store's lock, stopping at the first
failed or partial one. Dealing whole stores to workers (a worker runs one store from its
first window to its last) leaves workers idle at the end whenever stores hold more data
than their planned days say — a store with twice the orders takes twice as long, and
nothing before the run tells which one it is. So the executor deals *windows*:

- at most :func:`open_limit` jobs are *open* at once (claimed, their store locked), twice
  ``max_workers`` within the database connections of the run;
- a free worker takes the open job with the most planned work left (the days of its windows
  not run, plus :data:`~orders_sync.domain.JOB_OVERHEAD_DAYS` for a job not started); of
  equals, the one that has waited longest — so equal stores take turns, and a store that
  turns out slow is not the last one still running alone;
- a job opens when fewer than the limit are open, the longest first
  (:func:`~orders_sync.domain.longest_first`).

With every store's windows run by one worker at a time in order, "one job per store at a
time" and "a store stops at its first failed or partial window" hold exactly as before;
what changes is only which free worker runs a store's next window.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Sequence

from orders_sync.domain import Job, longest_first

OPEN_PER_WORKER = 2
"""Open jobs per worker: with fewer, a slow store still ends alone; more gains little."""
CONNECTIONS_PER_WORKER = 2
"""Database connections a running window may hold at once (log row, then its pages)."""


def open_limit(max_workers: int, connections: int) -> int:
    """How many jobs may be open at once.

    Each open job holds one connection (its locks); each running window up to
    :data:`CONNECTIONS_PER_WORKER` more. ``OPEN_PER_WORKER × max_workers`` when that fits in
    ``connections`` (the engine's pool), never fewer than ``max_workers``.
    """
    budget = connections - CONNECTIONS_PER_WORKER * max_workers
    return max(max_workers, min(OPEN_PER_WORKER * max_workers, budget))


class WindowQueue:
    """The jobs of one run, handed out a window at a time (see the module).

    ``take()`` names the job whose next window a free worker runs; the worker reports back
    with ``window_done()`` (the job has windows left) or ``job_done()`` (it ended: all
    windows run, stopped, skipped or crashed). A job is never handed out twice at once.
    """

    def __init__(self, jobs: Sequence[Job], *, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"at least one job must be open at a time, got {limit}")
        self.jobs: tuple[Job, ...] = tuple(longest_first(jobs))
        self.limit = limit
        self._waiting = deque(range(len(self.jobs)))
        self._ready: list[tuple[int, int, int]] = []  # (-work left, turn, job index)
        self._runs = [0] * len(self.jobs)  # windows each job has run
        self._open = 0
        self._turn = itertools.count()

    @property
    def open(self) -> int:
        """Jobs open now (handed out at least once, not done)."""
        return self._open

    @property
    def waiting(self) -> int:
        """Jobs not opened yet."""
        return len(self._waiting)

    def take(self) -> int | None:
        """The index (in :attr:`jobs`) of the job a free worker runs a window of next;
        ``None`` when every open job's window is being run and no job may open."""
        while self._waiting and self._open < self.limit:
            index = self._waiting.popleft()
            self._open += 1
            heapq.heappush(self._ready, (-self.jobs[index].work, next(self._turn), index))
        if not self._ready:
            return None
        return heapq.heappop(self._ready)[2]

    def window_done(self, index: int) -> None:
        """Job ``index`` ran a window and has more: its next one is ready."""
        self._runs[index] += 1
        left = sum(window.days for window in self.jobs[index].windows[self._runs[index] :])
        heapq.heappush(self._ready, (-left, next(self._turn), index))

    def job_done(self, index: int) -> None:
        """Job ``index`` ended; another job may open."""
        self._open -= 1

    def ready(self) -> list[int]:
        """Open jobs not being run now (on a stop: the ones to close)."""
        return [index for _, _, index in self._ready]
