"""Splitting a date range into the API's maximum spans."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders_sync.sources.spans import split_date_range

D = dt.date


@pytest.mark.parametrize(
    ("from_date", "to_date", "max_days", "expected"),
    [
        (D(2026, 1, 6), D(2026, 1, 6), 31, [(D(2026, 1, 6), D(2026, 1, 6))]),
        (D(2026, 1, 1), D(2026, 1, 31), 31, [(D(2026, 1, 1), D(2026, 1, 31))]),
        (D(2026, 1, 1), D(2026, 2, 1), 31,
         [(D(2026, 1, 1), D(2026, 1, 31)), (D(2026, 2, 1), D(2026, 2, 1))]),
        (D(2026, 1, 1), D(2026, 3, 31), 31,
         [(D(2026, 1, 1), D(2026, 1, 31)), (D(2026, 2, 1), D(2026, 3, 3)),
          (D(2026, 3, 4), D(2026, 3, 31))]),
        (D(2026, 1, 1), D(2026, 3, 3), 62, [(D(2026, 1, 1), D(2026, 3, 3))]),
        (D(2026, 1, 1), D(2026, 3, 4), 62,
         [(D(2026, 1, 1), D(2026, 3, 3)), (D(2026, 3, 4), D(2026, 3, 4))]),
        (D(2024, 2, 28), D(2024, 3, 1), 1,
         [(D(2024, 2, 28), D(2024, 2, 28)), (D(2024, 2, 29), D(2024, 2, 29)),
          (D(2024, 3, 1), D(2024, 3, 1))]),
    ],
    ids=["one-day", "exactly-31", "32-days", "90-day-window", "exactly-62", "63-days",
         "leap-day-single-days"],
)  # fmt: skip
def test_split_examples(
    from_date: dt.date, to_date: dt.date, max_days: int, expected: list[tuple[dt.date, dt.date]]
) -> None:
    assert split_date_range(from_date, to_date, max_days) == expected


@given(
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)),
    length=st.integers(min_value=0, max_value=800),
    max_days=st.integers(min_value=1, max_value=100),
)
def test_spans_tile_the_range_exactly(start: dt.date, length: int, max_days: int) -> None:
    end = start + dt.timedelta(days=length)
    spans = split_date_range(start, end, max_days)
    assert spans[0][0] == start and spans[-1][1] == end
    for (_, a_to), (b_from, _) in zip(spans, spans[1:], strict=False):
        assert b_from == a_to + dt.timedelta(days=1)
    assert all(0 <= (to - fr).days <= max_days - 1 for fr, to in spans)
    assert len(spans) == -(-(length + 1) // max_days)


@pytest.mark.parametrize(
    ("from_date", "to_date", "max_days"),
    [(D(2026, 1, 2), D(2026, 1, 1), 31), (D(2026, 1, 1), D(2026, 1, 2), 0)],
    ids=["reversed-range", "zero-max-days"],
)
def test_split_rejects_nonsense(from_date: dt.date, to_date: dt.date, max_days: int) -> None:
    with pytest.raises(ValueError):
        split_date_range(from_date, to_date, max_days)
