"""Resuming a job from what this run already logged (a batch executed again)."""

from __future__ import annotations

import datetime as dt

import pytest

from orders_sync.db.repositories.sync_log import LoggedWindow
from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason
from orders_sync.runs.results import JobResult
from orders_sync.runs.resume import continued, resume

D = dt.date(2026, 1, 1)
WINDOWS = tuple(
    PlannedWindow(
        D + dt.timedelta(days=10 * i), D + dt.timedelta(days=10 * i + 9), (WindowReason.MISSING,)
    )
    for i in range(4)
)
JOB = Job("A001", "CC1", PipelineRef("td_orders_sync", 1), WINDOWS)


def _finished(index: int, status: str, store: str = "A001") -> LoggedWindow:
    window = WINDOWS[index]
    return LoggedWindow(
        "td_orders_sync", store, window.from_date, window.to_date, status,
        None if status == "success" else "orders: boom", (WindowReason.MISSING,), 5, 5, 0, 120,
    )  # fmt: skip


CASES = {
    "nothing-logged": ([], 0, None),
    "other-store-only": ([_finished(0, "success", "A002")], 0, None),
    "two-done": ([_finished(0, "success"), _finished(1, "success")], 2, None),
    "all-done": ([_finished(i, "success") for i in range(4)], 4, "success"),
    "failed-second": ([_finished(0, "success"), _finished(1, "failed")], 2, "failed"),
    "partial-first": ([_finished(0, "partial")], 1, "partial"),
    "gap-resumes-at-gap": ([_finished(0, "success"), _finished(2, "success")], 1, None),
}


@pytest.mark.parametrize(("finished", "done", "status"), CASES.values(), ids=CASES.keys())
def test_resume(finished: list[LoggedWindow], done: int, status: str | None) -> None:
    resumption = resume(JOB, finished)
    assert len(resumption.done) == done
    if status is None:
        assert resumption.finished is None
        assert resumption.remaining is not None
        assert resumption.remaining.windows == WINDOWS[done:]
    else:
        assert resumption.remaining is None and resumption.finished is not None
        assert resumption.finished.status == status
        assert resumption.finished.not_run == len(WINDOWS) - done


def test_a_resumed_result_counts_the_windows_done_before() -> None:
    resumption = resume(JOB, [_finished(0, "success")])
    assert resumption.remaining is not None
    later = JobResult("A001", "td_orders_sync", windows=resumption.done * 3)
    whole = continued(resumption, later)
    assert len(whole.windows) == 4 and whole.status == "success"
