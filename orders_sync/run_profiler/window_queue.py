"""Which store's next window a free worker of the profiler takes: its schedule, pure.

A store's windows are a chain: in order, under the store's lock, stopping at the first
failed or partial one. Dealing whole stores to workers (a worker runs one store from its
first window to its last) leaves workers idle at the end whenever stores hold more data
than their planned days say — a store with twice the orders takes twice as long, and
nothing before the run tells which one it is. So the executor deals *windows*:

- at most :func:`open_limit` jobs are *open* at once (claimed, their store locked): three
  per worker, within the database connections of the run;
- a free worker takes the open job with the most time left by estimate: the days of its
  windows not run, times the seconds per day its own windows took so far — or, for a job
  not started, its planned work (:attr:`~orders_sync.domain.Job.work`) times the run's
  average so far. Of equals, the one that has waited longest. So a store that turns out
  slow gets a worker first and is not the last one still running alone, and stores alike
  take turns;
- a job opens when fewer than the limit are open, the longest first
  (:func:`~orders_sync.domain.longest_first`) — except when requests, not workers, bound the
  run (a source's request budget is set: ``daily_first``): then the stores with only daily
  work (overlap and today) open and run first, and the backfills share what is left, so the
  chain's daily freshness never waits behind a dozen new stores' two years.

With every store's windows run by one worker at a time in order, "one job per store at a
time" and "a store stops at its first failed or partial window" hold exactly as before;
what changes is only which free worker runs a store's next window.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence

from orders_sync.domain import Job, longest_first

OPEN_PER_WORKER = 3
"""Open jobs per worker (measured by simulation: 1 leaves a slow store ending alone, 2 keeps
~1.05x of ideal for 12 unequal stores at 4 workers, 3 ~1.03x, more gains little)."""
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

    def __init__(self, jobs: Sequence[Job], *, limit: int, daily_first: bool = False) -> None:
        if limit < 1:
            raise ValueError(f"at least one job must be open at a time, got {limit}")
        ordered = longest_first(jobs)
        if daily_first:  # stable: the daily-only jobs first, each part longest first
            ordered.sort(key=lambda job: not job.daily_only)
        self.jobs: tuple[Job, ...] = tuple(ordered)
        self._daily_first = daily_first
        self.limit = limit
        self._waiting = deque(range(len(self.jobs)))
        self._ready: dict[int, int] = {}  # job index -> its turn (when it became ready)
        self._runs = [0] * len(self.jobs)  # windows each job has run
        self._days = [0] * len(self.jobs)  # days of those windows
        self._seconds = [0.0] * len(self.jobs)  # and the seconds they took
        self._all_days = 0  # sums of the two above, kept as they grow: take() is per window
        self._all_seconds = 0.0
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
            self._open += 1
            self._ready[self._waiting.popleft()] = next(self._turn)
        if not self._ready:
            return None
        average = self._average_s_per_day()
        index = max(
            self._ready,
            key=lambda i: (
                self._daily_first and self.jobs[i].daily_only,
                self.time_left(i, average),
                -self._ready[i],
            ),
        )
        del self._ready[index]
        return index

    def window_done(self, index: int, seconds: float) -> None:
        """Job ``index`` ran a window in ``seconds`` and has more: its next one is ready."""
        days = self.jobs[index].windows[self._runs[index]].days
        self._seconds[index] += seconds
        self._days[index] += days
        self._all_seconds += seconds
        self._all_days += days
        self._runs[index] += 1
        self._ready[index] = next(self._turn)

    def job_done(self, index: int) -> None:
        """Job ``index`` ended; another job may open."""
        self._open -= 1

    def ready(self) -> list[int]:
        """Open jobs not being run now (on a stop: the ones to close)."""
        return list(self._ready)

    def time_left(self, index: int, average_s_per_day: float | None = None) -> float:
        """Job ``index``'s estimated seconds left (see the module)."""
        job = self.jobs[index]
        if self._runs[index] == 0:
            average = average_s_per_day or self._average_s_per_day()
            return job.work * average
        left = sum(window.days for window in job.windows[self._runs[index] :])
        return left * self._seconds[index] / self._days[index]

    def _average_s_per_day(self) -> float:
        return self._all_seconds / self._all_days if self._all_days else 1.0
