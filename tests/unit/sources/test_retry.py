"""The retry policy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable

import httpx
import pytest

from orders_sync.sources.errors import PageContext, SourceRetriesExhaustedError
from orders_sync.sources.retry import RetryPolicy, parse_retry_after, send_with_retry

CTX = PageContext("A001", "/reports/order-report", dt.date(2026, 1, 1), dt.date(2026, 1, 31), 1)
REQUEST = httpx.Request("GET", "http://crm.test/reports/order-report")


def response(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={}, request=REQUEST)


def failure(kind: type[httpx.TransportError]) -> httpx.TransportError:
    return kind("boom", request=REQUEST)


Outcome = httpx.Response | httpx.TransportError


def scripted(outcomes: list[Outcome]) -> tuple[Callable[[], httpx.Response], list[int]]:
    """A ``send`` that plays ``outcomes`` in order, and the list of attempts it saw."""
    calls: list[int] = []

    def send() -> httpx.Response:
        calls.append(1)
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, httpx.TransportError):
            raise outcome
        return outcome

    return send, calls


def policy(sleeps: list[float], *, attempts: int = 4, jitter: float = 0.5) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=attempts,
        backoff_base_s=0.1,
        backoff_cap_s=1.0,
        retry_after_cap_s=5.0,
        sleep=sleeps.append,
        jitter=lambda: jitter,
    )


@pytest.mark.parametrize(
    "first",
    [
        response(500),
        response(502),
        response(503),
        response(504),
        response(429, **{"Retry-After": "2"}),
        failure(httpx.ConnectError),
        failure(httpx.ReadTimeout),
        failure(httpx.ConnectTimeout),
        failure(httpx.RemoteProtocolError),
        failure(httpx.ReadError),
    ],
    ids=["500", "502", "503", "504", "429", "connect-error", "read-timeout", "connect-timeout",
         "connection-reset-mid-response", "read-error"],
)  # fmt: skip
def test_transient_failure_is_retried_then_succeeds(first: Outcome) -> None:
    sleeps: list[float] = []
    send, calls = scripted([first, first, response(200)])
    assert send_with_retry(send, policy(sleeps), context=CTX).status_code == 200
    assert len(calls) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "status", [200, 204, 400, 401, 403, 404, 405, 418, 501], ids=lambda s: f"http-{s}"
)
def test_other_statuses_are_returned_at_once_never_retried(status: int) -> None:
    sleeps: list[float] = []
    send, calls = scripted([response(status), response(200)])
    assert send_with_retry(send, policy(sleeps), context=CTX).status_code == status
    assert (len(calls), sleeps) == (1, [])


@pytest.mark.parametrize(
    ("outcome", "last_status", "problem"),
    [
        (response(500), 500, "HTTP 500"),
        (response(503), 503, "HTTP 503"),
        (failure(httpx.ConnectError), None, "ConnectError"),
    ],
    ids=["permanent-500", "permanent-503", "unreachable"],
)
def test_gives_up_after_max_attempts(
    outcome: Outcome, last_status: int | None, problem: str
) -> None:
    sleeps: list[float] = []
    send, calls = scripted([outcome] * 10)
    with pytest.raises(SourceRetriesExhaustedError) as caught:
        send_with_retry(send, policy(sleeps, attempts=4), context=CTX)
    assert len(calls) == 4
    assert len(sleeps) == 3  # no pointless sleep after the last attempt
    error = caught.value
    assert (error.attempts, error.last_status) == (4, last_status)
    assert problem in str(error)
    assert "gave up after 4 attempt(s)" in str(error)
    assert "store A001" in str(error) and "page 1" in str(error)


def test_single_attempt_policy_never_sleeps() -> None:
    sleeps: list[float] = []
    send, calls = scripted([response(503)])
    with pytest.raises(SourceRetriesExhaustedError):
        send_with_retry(send, policy(sleeps, attempts=1), context=CTX)
    assert (len(calls), sleeps) == (1, [])


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    sleeps: list[float] = []
    send, _ = scripted([response(503)] * 7)
    with pytest.raises(SourceRetriesExhaustedError):
        send_with_retry(send, policy(sleeps, attempts=7, jitter=0.5), context=CTX)
    # jitter 0.5 of min(cap=1.0, 0.1 * 2**(n-1)) for n = 1..6
    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5])


@pytest.mark.parametrize("jitter", [0.0, 0.3, 0.999], ids=["zero", "mid", "top"])
def test_backoff_delay_stays_within_the_jitter_window(jitter: float) -> None:
    retry = policy([], jitter=jitter)
    for attempt in range(1, 10):
        assert 0.0 <= retry.backoff_delay(attempt) <= min(1.0, 0.1 * 2 ** (attempt - 1))


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2", 2.0), ("0", 0.0), ("1.5", 1.5), ("3600", 5.0), (None, 0.05), ("soon", 0.05),
     ("-4", 0.0)],
    ids=["seconds", "zero", "fractional", "capped", "missing-falls-back-to-backoff",
         "garbage-falls-back-to-backoff", "negative-is-zero"],
)  # fmt: skip
def test_429_waits_retry_after_capped(header: str | None, expected: float) -> None:
    sleeps: list[float] = []
    headers = {"Retry-After": header} if header is not None else {}
    send, _ = scripted([response(429, **headers), response(200)])
    send_with_retry(send, policy(sleeps), context=CTX)
    assert sleeps == pytest.approx([expected])


def test_retry_after_as_http_date() -> None:
    now = 1_767_700_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize("value", ["", "   ", "nan", "inf", "Tuesday"], ids=repr)
def test_unreadable_retry_after_is_none(value: str) -> None:
    assert parse_retry_after(value) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"backoff_base_s": -1.0}, {"retry_after_cap_s": -1.0}],
    ids=["no-attempts", "negative-backoff", "negative-cap"],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retries_are_logged_with_context_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    send, _ = scripted([response(503), response(200)])
    with caplog.at_level("WARNING", logger="orders_sync.sources.retry"):
        send_with_retry(send, policy([]), context=CTX)
    (record,) = caplog.records
    assert "HTTP 503" in record.getMessage() and "store A001" in record.getMessage()


def test_429s_use_up_no_attempt() -> None:
    # interfaces.md "Source rate limits": a 429 is "later", not a failure.
    sleeps: list[float] = []
    send, calls = scripted([response(429, **{"Retry-After": "1"})] * 6 + [response(200)])
    answer = send_with_retry(send, policy(sleeps, attempts=2), context=CTX)
    assert answer.status_code == 200
    assert (len(calls), sleeps) == (7, [1.0] * 6)


def test_a_5xx_after_429s_still_has_its_attempts() -> None:
    sleeps: list[float] = []
    outcomes = [response(429, **{"Retry-After": "1"})] * 3 + [response(503), response(200)]
    send, calls = scripted(outcomes)
    assert send_with_retry(send, policy(sleeps, attempts=2), context=CTX).status_code == 200
    assert len(calls) == 5


def test_endless_429s_give_up_after_the_time_ceiling_not_a_count() -> None:
    sleeps: list[float] = []
    send, calls = scripted([response(429, **{"Retry-After": "5"})] * 100)
    bounded = RetryPolicy(max_attempts=2, retry_after_cap_s=5.0, rate_limit_wait_s=22.0,
                          sleep=sleeps.append)  # fmt: skip
    with pytest.raises(SourceRetriesExhaustedError) as caught:
        send_with_retry(send, bounded, context=CTX)
    assert sleeps == [5.0] * 4 and len(calls) == 5  # 20 s waited; a fifth wait would pass 22
    assert caught.value.last_status == 429
    assert "rate limited (HTTP 429) for 20 s" in str(caught.value)
    assert "ORDERS_SYNC_RATE_LIMIT_WAIT" in str(caught.value)
