"""The simulator's source clock: the real clock by default, settable for tests."""

from __future__ import annotations

import datetime as dt
import threading

IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")


class SourceClock:
    """Thread-safe "now" of the simulated CRMs.

    Args:
        fixed: an aware instant to freeze the clock at; ``None`` follows the real clock.
    """

    def __init__(self, fixed: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._fixed: dt.datetime | None = None
        if fixed is not None:
            self.set(fixed)

    def now(self) -> dt.datetime:
        """The current simulated instant, in IST."""
        with self._lock:
            fixed = self._fixed
        return fixed if fixed is not None else dt.datetime.now(IST)

    @property
    def is_real(self) -> bool:
        """Whether the clock follows the real clock."""
        with self._lock:
            return self._fixed is None

    def set(self, instant: dt.datetime) -> None:
        """Freeze the clock at ``instant`` (which must be timezone-aware).

        Raises:
            ValueError: ``instant`` is naive.
        """
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("the simulator clock needs a timezone-aware datetime")
        with self._lock:
            self._fixed = instant.astimezone(IST)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move the clock by ``delta`` (freezing it first if it was real); return the new now."""
        with self._lock:
            base = self._fixed if self._fixed is not None else dt.datetime.now(IST)
            self._fixed = base + delta
            return self._fixed

    def use_real_clock(self) -> None:
        """Follow the real clock again."""
        with self._lock:
            self._fixed = None
