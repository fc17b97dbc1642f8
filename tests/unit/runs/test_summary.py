"""Roll-up of window statuses into a run's overall_status and summary_text."""

from __future__ import annotations

import pytest

from orders_sync.runs.summary import overall_status, summary_text


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "success"),
        (["success"], "success"),
        (["success", "success"], "success"),
        (["partial"], "partial"),
        (["success", "partial", "success"], "partial"),
        (["failed"], "failed"),
        (["success", "failed"], "failed"),
        (["partial", "failed", "success"], "failed"),
        (["success", "running"], "failed"),
    ],
    ids=[
        "nothing-due",
        "one-success",
        "all-success",
        "only-partial",
        "partial-among-successes",
        "only-failed",
        "failed-among-successes",
        "failed-beats-partial",
        "left-running-counts-as-failed",
    ],
)
def test_overall_status(statuses: list[str], expected: str) -> None:
    assert overall_status(statuses) == expected
    assert overall_status(iter(statuses)) == expected  # any iterable, consumed once


@pytest.mark.parametrize(
    ("counts", "extra", "expected"),
    [
        ({}, None, "no windows due"),
        ({}, {"skipped_stores": 1}, "no windows due; skipped_stores=1"),
        (
            {("td_orders_sync", "success"): 3, ("td_orders_sync", "failed"): 1},
            None,
            "td_orders_sync: success=3 partial=0 failed=1",
        ),
        (
            {("uc_orders_sync", "success"): 2, ("td_orders_sync", "partial"): 1},
            {"skipped_stores": 1, "windows": 3},
            "td_orders_sync: success=0 partial=1 failed=0; "
            "uc_orders_sync: success=2 partial=0 failed=0; skipped_stores=1; windows=3",
        ),
        (
            {("td_orders_sync", "success"): 1, ("td_orders_sync", "running"): 2},
            None,
            "td_orders_sync: success=1 partial=0 failed=0 running=2",
        ),
    ],
    ids=["empty", "empty-with-extra", "one-pipeline", "two-pipelines-sorted-extras", "odd-status"],
)
def test_summary_text(
    counts: dict[tuple[str, str], int], extra: dict[str, int] | None, expected: str
) -> None:
    assert summary_text(counts, extra) == expected
