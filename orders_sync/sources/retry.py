"""The retry policy of both CRM clients, in one place.

* ``429`` → the CRM says "later", not "failed": wait ``Retry-After`` seconds (capped at
  ``retry_after_cap_s``) and send again — a 429 uses up no attempt; the waiting is bounded by
  time (``rate_limit_wait_s``, ``ORDERS_SYNC_RATE_LIMIT_WAIT``), and the pacer
  (:mod:`orders_sync.sources.pacing`) slows every request of the process down;
* ``500/502/503/504``, timeouts, connection errors → exponential backoff with full
  jitter (``uniform(0, min(cap, base * 2**(n-1)))``), then retry; each counts against
  ``max_attempts``; when they run out, :class:`SourceRetriesExhaustedError`;
* anything else (``400``, ``401``, ``404``, ...) is returned to the caller untouched,
  never retried.

The sleep and the random source are injectable so tests never really wait.
"""

from __future__ import annotations

import dataclasses
import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import Protocol

import httpx

from orders_sync.sources.errors import PageContext, SourceRetriesExhaustedError

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES: frozenset[int] = frozenset({500, 502, 503, 504})
RATE_LIMITED_STATUS = 429


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one request.

    Attributes:
        max_attempts: attempts per request, the first one included (>= 1).
        backoff_base_s: upper bound of the first backoff delay; doubles each attempt.
        backoff_cap_s: largest upper bound any backoff delay can reach.
        retry_after_cap_s: longest ``Retry-After`` wait honoured on a 429.
        rate_limit_wait_s: the longest one request waits in all on 429s before it fails.
        sleep: called with the number of seconds to wait.
        jitter: returns a float in ``[0, 1)``; drives the full jitter.
    """

    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    retry_after_cap_s: float = 60.0
    rate_limit_wait_s: float = 900.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be 1 or more")
        if self.backoff_base_s < 0 or self.retry_after_cap_s < 0:
            raise ValueError("backoff_base_s and retry_after_cap_s must not be negative")

    def backoff_delay(self, attempt: int) -> float:
        """Full-jitter delay after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return self.jitter() * ceiling

    def rate_limit_delay(self, retry_after: str | None, attempt: int) -> float:
        """Delay after a 429: its ``Retry-After`` (seconds or HTTP date), capped.

        A missing or unreadable header falls back to :meth:`backoff_delay`.
        """
        seconds = parse_retry_after(retry_after)
        if seconds is None:
            seconds = self.backoff_delay(attempt)
        return min(max(seconds, 0.0), self.retry_after_cap_s)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value, or ``None`` if unreadable.

    Args:
        value: ``"3"``, ``"1.5"`` or an HTTP date.
        now: the current POSIX time, for HTTP dates (default: the real clock).
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(seconds, 0.0)


class Pacing(Protocol):
    """What :func:`send_with_retry` needs of a :class:`~orders_sync.sources.pacing.Pacer`."""

    def before_request(self) -> None: ...

    def on_response(self, rate_limited: bool) -> None: ...


def send_with_retry(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy,
    *,
    context: PageContext,
    pacer: Pacing | None = None,
) -> httpx.Response:
    """Call ``send`` until it gives a non-transient response, following ``policy``.

    Args:
        send: performs one HTTP attempt.
        policy: the retry policy.
        context: the request, for log lines and the exhaustion error.
        pacer: paces every attempt and learns from the answers (``None``: unpaced).

    Returns:
        The first response that is neither 429 nor a retryable 5xx.

    Raises:
        SourceRetriesExhaustedError: every attempt was transient, or the 429s outlasted
            ``rate_limit_wait_s``.
    """
    last_problem = ""
    last_status: int | None = None
    last_exc: httpx.TransportError | None = None
    attempt = 0
    limited_s = 0.0
    while True:
        if pacer is not None:
            pacer.before_request()
        try:
            response = send()
        except httpx.TransportError as exc:  # timeouts, connection refused/reset, ...
            attempt += 1
            last_status = None
            last_exc = exc
            last_problem = type(exc).__name__
            delay = policy.backoff_delay(attempt)
        else:
            limited = response.status_code == RATE_LIMITED_STATUS
            if pacer is not None:
                pacer.on_response(limited)
            if limited:  # "later": no attempt used, the time waited is what counts
                delay = policy.rate_limit_delay(response.headers.get("Retry-After"), attempt + 1)
                if limited_s + delay > policy.rate_limit_wait_s:
                    raise SourceRetriesExhaustedError(
                        f"rate limited (HTTP 429) for {limited_s:.0f} s, longer than the "
                        f"{policy.rate_limit_wait_s:.0f} s a request waits "
                        "(ORDERS_SYNC_RATE_LIMIT_WAIT)",
                        context=context,
                        attempts=attempt + 1,
                        last_status=RATE_LIMITED_STATUS,
                    )
                limited_s += delay
                logger.info(
                    "CRM rate limit (HTTP 429) [%s]; sending again in %.2fs",
                    context.describe(),
                    delay,
                )
                policy.sleep(delay)
                continue
            if response.status_code not in RETRYABLE_STATUSES:
                return response
            attempt += 1
            last_status, last_exc = response.status_code, None
            last_problem = f"HTTP {response.status_code}"
            delay = policy.backoff_delay(attempt)
        if attempt >= policy.max_attempts:
            break
        logger.warning(
            "CRM request failed transiently (%s) [%s]; attempt %d of %d, retrying in %.2fs",
            last_problem,
            context.describe(),
            attempt,
            policy.max_attempts,
            delay,
        )
        policy.sleep(delay)
    raise SourceRetriesExhaustedError(
        f"gave up after {policy.max_attempts} attempt(s); last failure: {last_problem}",
        context=context,
        attempts=policy.max_attempts,
        last_status=last_status,
    ) from last_exc
