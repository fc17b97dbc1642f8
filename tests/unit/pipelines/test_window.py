"""Window values: default window, local today, request validation."""

from __future__ import annotations

import datetime as dt

import pytest

from orders_sync.config import today_in
from orders_sync.exceptions import UsageError
from orders_sync.pipelines.window import DEFAULT_SPAN_DAYS, WindowRequest, default_window

TODAY = dt.date(2026, 1, 7)
D = dt.date


@pytest.mark.parametrize(
    ("from_date", "to_date", "span", "expected"),
    [
        (None, None, DEFAULT_SPAN_DAYS, (D(2025, 10, 10), TODAY)),
        (None, None, 1, (TODAY, TODAY)),
        (D(2026, 1, 1), None, DEFAULT_SPAN_DAYS, (D(2026, 1, 1), TODAY)),
        (None, D(2025, 12, 31), 10, (D(2025, 12, 22), D(2025, 12, 31))),
        (D(2026, 1, 5), D(2026, 1, 5), DEFAULT_SPAN_DAYS, (D(2026, 1, 5), D(2026, 1, 5))),
        (D(2025, 1, 1), D(2026, 12, 31), DEFAULT_SPAN_DAYS, (D(2025, 1, 1), D(2026, 12, 31))),
    ],
    ids=["defaults", "span-1", "from-only", "to-only", "one-day", "given-long"],
)
def test_default_window(
    from_date: dt.date | None,
    to_date: dt.date | None,
    span: int,
    expected: tuple[dt.date, dt.date],
) -> None:
    assert default_window(TODAY, from_date=from_date, to_date=to_date, span_days=span) == expected


def test_default_span_is_today_minus_89() -> None:
    start, end = default_window(TODAY)
    assert (end - start).days == 89 and end == TODAY


@pytest.mark.parametrize(
    ("from_date", "to_date"),
    [(D(2026, 1, 8), None), (D(2026, 1, 6), D(2026, 1, 5))],
    ids=["from-after-today", "reversed"],
)
def test_default_window_rejects_reversed(from_date: dt.date, to_date: dt.date | None) -> None:
    with pytest.raises(UsageError, match="is after to_date"):
        default_window(TODAY, from_date=from_date, to_date=to_date)


@pytest.mark.parametrize(
    ("timezone", "utc", "expected"),
    [
        ("Asia/Kolkata", dt.datetime(2026, 1, 6, 20, 0), D(2026, 1, 7)),
        ("Asia/Kolkata", dt.datetime(2026, 1, 6, 18, 29, 59), D(2026, 1, 6)),
        ("UTC", dt.datetime(2026, 1, 6, 20, 0), D(2026, 1, 6)),
        ("Pacific/Kiritimati", dt.datetime(2026, 1, 6, 10, 0), D(2026, 1, 7)),
        ("America/Los_Angeles", dt.datetime(2026, 1, 6, 7, 59), D(2026, 1, 5)),
    ],
    ids=["kolkata-tomorrow", "kolkata-still-today", "utc", "plus-14", "minus-8"],
)
def test_today_in(timezone: str, utc: dt.datetime, expected: dt.date) -> None:
    assert today_in(timezone, utc.replace(tzinfo=dt.UTC)) == expected


def test_today_in_rejects_naive() -> None:
    with pytest.raises(ValueError, match="aware"):
        today_in("UTC", dt.datetime(2026, 1, 6))


@pytest.mark.parametrize(
    ("store", "from_date", "to_date", "says"),
    [
        ("A001", D(2026, 1, 2), D(2026, 1, 1), "is after"),
        ("", D(2026, 1, 1), D(2026, 1, 1), "store"),
    ],
    ids=["reversed", "no-store"],
)
def test_window_request_validates(
    store: str, from_date: dt.date, to_date: dt.date, says: str
) -> None:
    with pytest.raises(UsageError, match=says):
        WindowRequest(store, None, from_date, to_date, "run", "dev")
