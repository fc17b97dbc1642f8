"""Per store + pipeline: covered through, days behind, missing ranges, failing windows.

Pure: a function of (stores, log coverage, today). The definitions are interfaces.md
"Status": a day is *covered* when it lies inside some ``success`` window of that store +
pipeline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from orders_sync.db.repositories.coverage import FailingWindow, LogCoverage
from orders_sync.db.repositories.log_facts import StuckRange
from orders_sync.domain import DateRange, PipelineRef, StoreRef, merge_ranges, subtract_ranges


@dataclasses.dataclass(frozen=True)
class StoreStatus:
    """The status of one store + pipeline (the JSON entry of interfaces.md "Status")."""

    store: StoreRef
    pipeline: str
    covered: tuple[DateRange, ...]
    covered_through: dt.date | None
    days_behind: int
    missing: tuple[DateRange, ...]
    failing: tuple[FailingWindow, ...]
    running: tuple[DateRange, ...]
    last_success_at: dt.datetime | None
    stuck: tuple[StuckRange, ...] = ()

    @property
    def missing_days(self) -> int:
        """Days from ``start_date`` to today that no success window covers."""
        return sum(len(r) for r in self.missing)

    @property
    def is_running(self) -> bool:
        """Whether a window of this store + pipeline is ``running`` now."""
        return bool(self.running)

    def to_json(self) -> dict[str, Any]:
        """The entry of ``--format json``."""
        return {
            "store_code": self.store.store_code,
            "pipeline": self.pipeline,
            "sync_group": self.store.sync_group,
            "start_date": self.store.start_date.isoformat(),
            "covered_through": _iso(self.covered_through),
            "days_behind": self.days_behind,
            "missing_days": self.missing_days,
            "missing_ranges": [[r.start.isoformat(), r.end.isoformat()] for r in self.missing],
            "failing": [
                {
                    "from_date": f.from_date.isoformat(),
                    "to_date": f.to_date.isoformat(),
                    "status": f.status,
                    "error_message": f.error_message,
                    "attempts": f.attempts,
                    "last_attempt_at": _timestamp(f.last_attempt_at),
                }
                for f in self.failing
            ],
            "last_success_at": _timestamp(self.last_success_at),
            "running": self.is_running,
            "stuck": [
                {
                    "from_date": s.days.start.isoformat(),
                    "to_date": s.days.end.isoformat(),
                    "days": len(s.days),
                    "attempts": s.attempts,
                    "since": _timestamp(s.since),
                }
                for s in self.stuck
            ],
        }


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _timestamp(at: dt.datetime | None) -> str | None:
    return at.astimezone(dt.UTC).isoformat() if at is not None else None


def store_status(
    store: StoreRef, pipeline: PipelineRef, log: LogCoverage | None, today: dt.date
) -> StoreStatus:
    """The status of ``store`` with ``pipeline`` on ``today`` (see interfaces.md "Status")."""
    log = log or LogCoverage()
    covered = tuple(merge_ranges(log.covered))
    through: dt.date | None = None
    for island in covered:
        if island.start <= store.start_date <= island.end:
            through = island.end
    start = store.start_date
    behind = (today - through).days if through is not None else (today - start).days + 1
    missing: tuple[DateRange, ...] = ()
    if store.start_date <= today:
        missing = tuple(subtract_ranges([DateRange(store.start_date, today)], covered))
    failing = tuple(
        window
        for window in sorted(log.failing, key=lambda w: (w.from_date, w.to_date))
        if subtract_ranges([DateRange(window.from_date, window.to_date)], covered)
    )
    return StoreStatus(
        store=store,
        pipeline=pipeline.code,
        covered=covered,
        covered_through=through,
        days_behind=behind,
        missing=missing,
        failing=failing,
        running=tuple(log.running),
        last_success_at=log.last_success_at,
        stuck=log.stuck,
    )


def store_statuses(
    stores: Sequence[StoreRef],
    pipelines: Mapping[str, PipelineRef],
    coverage: Mapping[tuple[int, str], LogCoverage],
    today: dt.date,
) -> list[StoreStatus]:
    """Every store with the pipeline of its sync group, by store code."""
    statuses = [
        store_status(store, pipeline, coverage.get((pipeline.id, store.store_code)), today)
        for store in sorted(stores, key=lambda s: s.store_code)
        if (pipeline := pipelines.get(store.sync_group)) is not None
    ]
    return statuses


def day_state(status: StoreStatus, day: dt.date) -> str:
    """``covered``, ``running``, ``failing`` or ``missing`` of one day (the grid's cell)."""
    if any(day in r for r in status.covered):
        return "covered"
    if any(day in r for r in status.running):
        return "running"
    if any(f.from_date <= day <= f.to_date for f in status.failing):
        return "failing"
    return "missing"
