"""Request counting of the simulator: totals per endpoint and a concurrency gauge."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager


@dataclasses.dataclass(frozen=True)
class SimulatorStats:
    """A snapshot of the simulator's API traffic (admin ``/_sim/`` requests excluded).

    Attributes:
        requests_total: API requests received.
        by_endpoint: requests per path.
        by_status: replies per HTTP status.
        in_flight: requests being answered right now.
        in_flight_max: the most requests ever answered at the same time.
    """

    requests_total: int
    by_endpoint: dict[str, int]
    by_status: dict[int, int]
    in_flight: int
    in_flight_max: int


class RequestStats:
    """Thread-safe counters behind :class:`SimulatorStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._by_endpoint: Counter[str] = Counter()
        self._by_status: Counter[int] = Counter()
        self._in_flight = 0
        self._in_flight_max = 0

    @contextmanager
    def track(self, path: str) -> Iterator[None]:
        """Count one request to ``path`` while the block answers it."""
        with self._lock:
            self._total += 1
            self._by_endpoint[path] += 1
            self._in_flight += 1
            self._in_flight_max = max(self._in_flight_max, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def record_status(self, status: int) -> None:
        """Count one reply with ``status``."""
        with self._lock:
            self._by_status[status] += 1

    def snapshot(self) -> SimulatorStats:
        """The counters now."""
        with self._lock:
            return SimulatorStats(
                requests_total=self._total,
                by_endpoint=dict(self._by_endpoint),
                by_status=dict(self._by_status),
                in_flight=self._in_flight,
                in_flight_max=self._in_flight_max,
            )

    def reset(self) -> None:
        """Zero every counter (requests in flight stay counted as in flight)."""
        with self._lock:
            self._total = 0
            self._by_endpoint.clear()
            self._by_status.clear()
            self._in_flight_max = self._in_flight
