"""How the DAG deals its plan into mapped batches: counts, the cap, balance, labels."""

from __future__ import annotations

import datetime as dt

import pytest

from orders_sync.airflow_support.batching import (
    batch_count,
    batch_label,
    mapped_task_cap,
    plan_batches,
)
from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason

TD = PipelineRef("td_orders_sync", 1)
DAY = dt.date(2026, 1, 1)


def job(code: str, days: int = 1) -> Job:
    window = PlannedWindow(DAY, DAY + dt.timedelta(days=days - 1), (WindowReason.MISSING,))
    return Job(code, None, TD, (window,))


COUNTS = {
    "empty": (0, 4, 256, 0),
    "one-wave-one-per-task": (4, 4, 256, 4),
    "fewer-than-the-workers": (3, 8, 256, 3),
    "one-wave-of-batches": (12, 4, 256, 4),
    "a-thousand-daily": (1000, 4, 256, 4),
    "a-second-wave-past-250-per-batch": (1001, 4, 256, 8),
    "ten-thousand": (10_000, 4, 256, 40),
    "capped": (10_000, 4, 30, 30),
    "cap-below-the-workers": (12, 4, 3, 3),
    "cap-below-one-per-task": (3, 4, 2, 2),
}


@pytest.mark.parametrize(("jobs", "workers", "cap", "count"), COUNTS.values(), ids=COUNTS.keys())
def test_batch_count(jobs: int, workers: int, cap: int, count: int) -> None:
    assert batch_count(jobs, max_workers=workers, cap=cap) == count


@pytest.mark.parametrize(
    ("configured", "max_map_length", "cap"),
    [(256, 1024, 256), (256, 2, 1), (5000, 1024, 1023), (3, 3, 2)],
)
def test_the_cap_is_always_below_max_map_length(
    configured: int, max_map_length: int, cap: int
) -> None:
    assert mapped_task_cap(configured, max_map_length) == cap


def test_every_job_once_and_batches_balanced_by_planned_work() -> None:
    jobs = [job(f"S{i:03d}", days=1 + i % 3) for i in range(300)] + [job("BIG", days=730)]
    batches = plan_batches(jobs, max_workers=4, cap=256)
    assert len(batches) == 4
    flat = [j for batch in batches for j in batch]
    assert sorted(j.store_code for j in flat) == sorted(j.store_code for j in jobs)
    [big] = [batch for batch in batches if any(j.store_code == "BIG" for j in batch)]
    assert len(big) == 1  # a long backfill is no straggler inside a batch of small ones
    small = [sum(j.work for j in batch) for batch in batches if batch is not big]
    assert max(small) - min(small) <= max(j.work for j in jobs if j.store_code != "BIG")


def test_batches_stay_under_the_cap() -> None:
    batches = plan_batches([job(f"S{i}") for i in range(50)], max_workers=8, cap=3)
    assert len(batches) == 3 and sum(len(b) for b in batches) == 50


def test_labels_say_what_a_task_holds() -> None:
    assert batch_label([job("A001")]) == "A001 / td_orders_sync"
    assert batch_label([job("A083"), job("A001"), job("A040")]) == "A001 … A083 (3 plans)"
