"""What every pipeline takes and returns: one store over one date window.

The standalone commands, the run profiler and the Airflow tasks all call
:meth:`WindowPipeline.run_window` with a :class:`WindowRequest` and read the
:class:`WindowResult`; nothing else about a pipeline is public.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from orders_sync.domain import Status
from orders_sync.exceptions import UsageError

DEFAULT_SPAN_DAYS = 90
"""Days in the default window of a standalone run: ``today - (DEFAULT_SPAN_DAYS - 1)..today``."""


@dataclass(frozen=True, slots=True)
class WindowRequest:
    """Run one pipeline for one store over ``from_date..to_date`` (both included).

    Attributes:
        store_code: ``store_master.store_code``.
        cost_center: ``store_master.cost_center``, copied to the log row.
        from_date: first day of the window.
        to_date: last day of the window.
        run_id: the ``pipeline_run_summaries.run_id`` the window belongs to (must exist).
        run_env: ``--env``.
        window_reason: why the window runs (``orders_sync_log.window_reason``), if known.
    """

    store_code: str
    cost_center: str | None
    from_date: dt.date
    to_date: dt.date
    run_id: str
    run_env: str
    window_reason: str | None = None

    def __post_init__(self) -> None:
        if self.from_date > self.to_date:
            raise UsageError(
                f"from_date {self.from_date.isoformat()} is after to_date "
                f"{self.to_date.isoformat()}."
            )
        if not self.store_code:
            raise UsageError("store_code must not be empty.")


@dataclass(frozen=True, slots=True)
class WindowResult:
    """What one window did; its ``orders_sync_log`` row says the same.

    Attributes:
        pipeline_code: the source's pipeline code.
        store_code: the store.
        from_date: first day of the window.
        to_date: last day of the window.
        status: ``success``, ``partial`` or ``failed``.
        rows_fetched: source rows received (all parts).
        rows_inserted: new keys written.
        rows_updated: existing keys whose values changed.
        duration_s: wall time of the window.
        error_message: why it was not a success (``part: Class: message``), else ``None``.
        log_id: ``orders_sync_log.id`` of the window, ``None`` if it could not be written.
        database_lost: it failed because the orders database stopped answering, not because
            of its source: worth retrying once the database is back
            (:mod:`orders_sync.runs.steps` does).
    """

    pipeline_code: str
    store_code: str
    from_date: dt.date
    to_date: dt.date
    status: str
    rows_fetched: int
    rows_inserted: int
    rows_updated: int
    duration_s: float
    error_message: str | None
    log_id: int | None
    database_lost: bool = False

    @property
    def ok(self) -> bool:
        """Whether the window succeeded."""
        return self.status == Status.SUCCESS


class WindowPipeline(Protocol):
    """A pipeline that syncs one store over one date window, logging it.

    Attributes:
        code: ``pipelines.code``.
        pipeline_id: ``pipelines.id`` of ``code``.
    """

    code: str
    pipeline_id: int

    def run_window(self, request: WindowRequest) -> WindowResult:
        """Sync the window; never raises for a window-level failure (see the result)."""
        ...


def default_window(
    today: dt.date,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    span_days: int = DEFAULT_SPAN_DAYS,
) -> tuple[dt.date, dt.date]:
    """The window of a standalone run: the dates given, else the last ``span_days`` days.

    ``to_date`` defaults to ``today``; ``from_date`` to ``to_date - (span_days - 1)``, which
    is the requirement's ``current_date - 89`` when ``to_date`` is omitted too.

    Args:
        today: today in ``config.pipeline_timezone``.
        from_date: ``--from-date``, if given.
        to_date: ``--to-date``, if given.
        span_days: days in the default window.

    Raises:
        UsageError: the resulting ``from_date`` is after ``to_date``.
    """
    if span_days < 1:
        raise ValueError(f"span_days must be 1 or more, got {span_days}")
    end = to_date if to_date is not None else today
    start = from_date if from_date is not None else end - dt.timedelta(days=span_days - 1)
    if start > end:
        raise UsageError(
            f"from_date {start.isoformat()} is after to_date {end.isoformat()}; "
            "a window must not end before it starts."
        )
    return start, end
