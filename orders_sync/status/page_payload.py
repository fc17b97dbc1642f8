"""The coverage page's data: what the screen needs for every store, compact.

One row per store + pipeline, worst first (:func:`~orders_sync.status.overview.worst_first`),
as an array under ``columns`` instead of an object; repeated strings (pipelines, sync groups,
error messages, DAG runs) are sent once and referred to by index; the day grid is
run-length encoded (``"n12c40f8"``: 12 days before the store started, 40 covered, 8
failing). A 1,000-store chain is tens of kilobytes before the api-server's gzip. Pure.

The status command's ``--format json`` (interfaces.md "Status") is the full contract; this is
a view of the same statuses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from orders_sync.status.coverage import StoreStatus
from orders_sync.status.overview import (
    HEALTH,
    failing_streak,
    health_flags,
    overview_counts,
    problem_text,
    stuck_facts,
    worst_first,
)

STATE_CODES = {"covered": "c", "failing": "f", "missing": "m", "running": "r"}
BEFORE_START = "n"
COLUMNS = (
    "store_code",
    "pipeline",  # index into "pipelines"
    "sync_group",  # index into "sync_groups"
    "covered_through",
    "days_behind",
    "missing_days",
    "flags",  # bit i set: HEALTH[i] holds
    "streak",  # [days, first_day, last_day, since, attempts, status, error, last_attempt_at]
    "stuck",  # [days, since, attempts]
    "problem",  # the status table's text of the streak and stuck days ("" when none)
    "cells",  # run-length encoded day states, oldest first
    "task",  # [index into "runs", map_index] of the latest sync_store, or null
)


class _Interned:
    """Strings sent once, referred to by index."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found


def run_length(states: Sequence[str]) -> str:
    """``["c", "c", "f"]`` → ``"c2f1"``."""
    out: list[str] = []
    previous, count = "", 0
    for state in states:
        if state == previous:
            count += 1
            continue
        if count:
            out.append(f"{previous}{count}")
        previous, count = state, 1
    if count:
        out.append(f"{previous}{count}")
    return "".join(out)


def grid_cells(status: StoreStatus, first: dt.date, days: int) -> str:
    """The run-length encoded states of ``days`` days from ``first`` —
    :func:`~orders_sync.status.coverage.day_state` of each day, painted range by range
    (lowest precedence first) instead of day by day."""
    cells = [STATE_CODES["missing"]] * days

    def paint(start: dt.date, end: dt.date, code: str) -> None:
        lo, hi = max((start - first).days, 0), min((end - first).days, days - 1)
        if lo <= hi:
            cells[lo : hi + 1] = [code] * (hi - lo + 1)

    for window in status.failing:
        paint(window.from_date, window.to_date, STATE_CODES["failing"])
    for running in status.running:
        paint(running.start, running.end, STATE_CODES["running"])
    for covered in status.covered:
        paint(covered.start, covered.end, STATE_CODES["covered"])
    paint(first, status.store.start_date - dt.timedelta(days=1), BEFORE_START)
    return run_length(cells)


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def page_payload(
    statuses: Sequence[StoreStatus],
    *,
    today: dt.date,
    timezone: str,
    days: int,
    max_days_behind: int,
    batches: Mapping[tuple[str, str], tuple[str, int]],
) -> dict[str, Any]:
    """The page's JSON.

    Args:
        days: the grid's days, today and the ``days - 1`` before it.
        max_days_behind: a store more days behind than this counts as behind.
        batches: ``(store_code, pipeline) → (owner "dag_id/dag_run_id", map_index)`` of the
            store's latest mapped ``sync_store`` (``orders_sync_run_batches``).
    """
    grid = [today - dt.timedelta(days=i) for i in range(days - 1, -1, -1)]
    pipelines, groups, errors, runs = _Interned(), _Interned(), _Interned(), _Interned()
    rows = []
    for status in worst_first(statuses):
        flags = health_flags(status, max_days_behind)
        streak, stuck = failing_streak(status), stuck_facts(status)
        batch = batches.get((status.store.store_code, status.pipeline))
        rows.append(
            [
                status.store.store_code,
                pipelines(status.pipeline),
                groups(status.store.sync_group),
                _date(status.covered_through),
                status.days_behind,
                status.missing_days,
                sum(1 << i for i, name in enumerate(HEALTH) if name in flags),
                None
                if streak is None
                else [
                    streak.days,
                    streak.first_day.isoformat(),
                    streak.last_day.isoformat(),
                    streak.since.astimezone(dt.UTC).isoformat(timespec="seconds"),
                    streak.attempts,
                    streak.status,
                    errors(" ".join((streak.error_message or streak.status).split())),
                    streak.last_attempt_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                ],
                None
                if stuck is None
                else [
                    stuck.days,
                    stuck.since.astimezone(dt.UTC).isoformat(timespec="seconds"),
                    stuck.attempts,
                ],
                problem_text(status),
                grid_cells(status, grid[0], days),
                None if batch is None else [runs(batch[0]), batch[1]],
            ]
        )
    return {
        "today": today.isoformat(),
        "timezone": timezone,
        "first_day": grid[0].isoformat(),
        "days": days,
        "max_days_behind": max_days_behind,
        "health": list(HEALTH),
        "counts": overview_counts(statuses, max_days_behind),
        "columns": list(COLUMNS),
        "pipelines": pipelines.values,
        "sync_groups": groups.values,
        "errors": errors.values,
        "runs": runs.values,
        "rows": rows,
    }
