"""Splitting a date range into the longest spans an API accepts in one request."""

from __future__ import annotations

import datetime as dt

from orders_sync.domain import DateRange


def split_date_range(
    from_date: dt.date, to_date: dt.date, max_days: int
) -> list[tuple[dt.date, dt.date]]:
    """Consecutive inclusive spans of at most ``max_days`` days covering the range.

    Args:
        from_date: first day of the range.
        to_date: last day of the range (inclusive).
        max_days: most days one span may hold, counting both ends (31 for TD).

    Returns:
        ``[(start, end), ...]`` in order, with ``end - start <= max_days - 1``.

    Raises:
        ValueError: ``from_date`` is after ``to_date`` or ``max_days`` is below 1.
    """
    if max_days < 1:
        raise ValueError(f"max_days must be 1 or more, got {max_days}")
    if from_date > to_date:
        raise ValueError(f"from_date {from_date} is after to_date {to_date}")
    return [(span.start, span.end) for span in DateRange(from_date, to_date).chunks(max_days)]
