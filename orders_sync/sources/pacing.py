"""Polite at a CRM's rate limit (interfaces.md "Source rate limits").

One :class:`Pacer` per API and process, shared by every client and thread of the process
(:func:`pacer_for`), paces the requests with a token bucket:

- **configured** (``TD_API_MAX_RPS`` = R): the process's share of R — all of it for the
  command line's threads; R divided by the worker processes (:mod:`orders_sync.run_profiler.
  shards`) or by the DAG run's ``max_workers`` slots, each mapped task its share
  (:func:`set_share`). So a whole run stays within R. Two runs at once (a DAG run and a manual
  CLI run) each take their budget; the CRM's 429s then slow both down (below).
- **found** (unset): unpaced until the first 429, then 15 % under what the CRM was seen to
  accept; raised again while no 429 comes — quickly (+20 %/s) to 95 % of that limit, then
  slowly (+1 %/s), probing; one decrease a second at most (AIMD with a remembered limit).

Either way a 429 also lowers the pace (a budget that is too high, another client on the same
token), never below :data:`MIN_RPS`; the request itself waits its ``Retry-After`` and is sent
again without using up an attempt (:mod:`orders_sync.sources.retry`).
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

MIN_RPS = 0.2
"""The slowest pace: a request every 5 s."""
DECREASE = 0.85
"""The pace after a 429, as a share of what the CRM was seen to accept (the limit)."""
RECOVER_PER_S = 0.2
"""How fast the pace climbs back towards the limit last seen: +20 % a second ..."""
NEAR_LIMIT = 0.95
"""... up to this share of it; beyond, it probes slowly:"""
INCREASE_PER_S = 0.01
"""+1 % a second, while no 429 comes."""
WINDOW_S = 2.0
"""The recent past the accepted rate is measured over."""


class Pacer:
    """A token bucket whose rate is configured, found from 429s, or both; thread-safe.

    Args:
        rps: the configured budget of this process (``None``: find the limit).
        clock: monotonic seconds (tests pass a fake).
        sleep: waits (tests pass a fake).
    """

    def __init__(
        self,
        rps: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ceiling = rps
        self.rate: float | None = rps
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = 1.0
        self._stamp = clock()
        self._changed = self._stamp
        self._decreased = float("-inf")
        self._accepted: collections.deque[float] = collections.deque()
        self.rate_limited = 0
        self.limit: float | None = None

    def before_request(self) -> None:
        """Wait until the pace lets one more request go (its slot is reserved at once, so
        threads waiting together leave one after the other)."""
        with self._lock:
            wait = self._reserve()
        if wait > 0:
            self._sleep(wait)

    def _reserve(self) -> float:
        now = self._clock()
        if self.rate is None:
            return 0.0
        self._tokens = min(1.0, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1.0  # below zero: the slot is taken, later callers queue behind it
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def on_response(self, rate_limited: bool) -> None:
        """Learn from one answer: a 429 lowers the pace (once a second at most: the requests
        in flight together answer for one excess), others raise it again — quickly back to
        just under the limit last seen, then slowly, probing (AIMD with a remembered limit)."""
        with self._lock:
            now = self._clock()
            while self._accepted and self._accepted[0] < now - WINDOW_S:
                self._accepted.popleft()
            if rate_limited:
                self.rate_limited += 1
                if self.rate is not None and now - self._decreased < 1.0:
                    return
                span = min(WINDOW_S, max(now - self._accepted[0], 0.25)) if self._accepted else 0
                seen = len(self._accepted) / span if span else None
                current = self.rate if self.rate is not None else (seen or 1.0)
                limit = min(current, seen) if seen else current
                self.limit = limit
                self.rate = max(MIN_RPS, limit * DECREASE)
                self._changed = self._decreased = now
                return
            self._accepted.append(now)
            elapsed = now - self._changed
            if self.rate is not None and elapsed >= 1.0:
                near = self.limit is not None and self.rate >= self.limit * NEAR_LIMIT
                step = INCREASE_PER_S if near else RECOVER_PER_S
                raised = self.rate * (1 + step * elapsed)
                if self.limit is not None and not near:
                    raised = min(raised, self.limit * NEAR_LIMIT)
                self.rate = min(raised, self.ceiling) if self.ceiling else raised
                self._changed = now


_lock = threading.Lock()
_pacers: dict[tuple[str, str], Pacer] = {}
_share = 1.0


def set_share(share: float) -> None:
    """This process's share of every configured budget (``1 / worker processes`` of a CLI
    run, ``1 / max_workers`` of a DAG run's task); pacers already made keep theirs."""
    global _share
    if not 0 < share <= 1:
        raise ValueError(f"a share is within (0, 1], got {share}")
    with _lock:
        _share = share
        _pacers.clear()


def pacer_for(api: str, base_url: str, rps: float | None) -> Pacer:
    """The process's one pacer of ``api`` at ``base_url`` (made on first use).

    Args:
        rps: the configured budget of the whole run (``None``: find the limit).
    """
    key = (api, base_url.rstrip("/"))
    with _lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = Pacer(rps * _share if rps else None)
            _pacers[key] = pacer
        return pacer


def forget_pacers() -> None:
    """Drop every pacer (a forked worker process starts with its own)."""
    with _lock:
        _pacers.clear()
