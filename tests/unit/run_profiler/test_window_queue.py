"""How the profiler deals windows to its workers: one store at a time, in order, within the
open limit, the most work left first — and what that buys when stores are unequal."""

from __future__ import annotations

import datetime as dt
import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason
from orders_sync.run_profiler.window_queue import WindowQueue, open_limit

TD = PipelineRef("td_orders_sync", 1)
DAY = dt.date(2026, 1, 1)


def job(code: str, *days: int) -> Job:
    windows, start = [], DAY
    for n in days:
        end = start + dt.timedelta(days=n - 1)
        windows.append(PlannedWindow(start, end, (WindowReason.MISSING,)))
        start = end + dt.timedelta(days=1)
    return Job(code, None, TD, tuple(windows))


def simulate(
    jobs: list[Job], seconds: dict[str, list[float]], workers: int, limit: int
) -> tuple[float, list[tuple[float, float, str, int]]]:
    """Run the queue's schedule with each window taking ``seconds[store][i]``: the makespan
    and every window's (start, end, store, index), checking the queue's promises as it goes."""
    queue = WindowQueue(jobs, limit=limit)
    clock, running, runs, spans = 0.0, [], [0] * len(queue.jobs), []
    while True:
        while len(running) < workers and (index := queue.take()) is not None:
            assert index not in {i for _, i in running}, "a store handed out twice at once"
            assert queue.open <= limit
            code = queue.jobs[index].store_code
            took = seconds[code][runs[index]]
            spans.append((clock, clock + took, code, runs[index]))
            heapq.heappush(running, (clock + took, index))
        if not running:
            assert queue.open == 0 and queue.waiting == 0 and not queue.ready()
            return clock, spans
        clock, index = heapq.heappop(running)
        took = seconds[queue.jobs[index].store_code][runs[index]]
        runs[index] += 1
        if runs[index] < len(queue.jobs[index].windows):
            queue.window_done(index, took)
        else:
            queue.job_done(index)


def whole_jobs_makespan(jobs: list[Job], seconds: dict[str, list[float]], workers: int) -> float:
    """Dealing whole stores, longest planned first, to the first free worker."""
    free = [0.0] * workers
    for j in sorted(jobs, key=lambda j: -j.work):
        heapq.heapreplace(free, free[0] + sum(seconds[j.store_code]))
    return max(free)


def test_jobs_open_longest_first_and_the_most_time_left_goes_next() -> None:
    jobs = [job("A", 30, 30), job("B", 30, 30, 30), job("C", 30, 30), job("D", 30)]
    queue = WindowQueue(jobs, limit=3)
    assert [j.store_code for j in queue.jobs] == ["B", "A", "C", "D"]
    first = [queue.take(), queue.take(), queue.take()]
    assert [queue.jobs[i].store_code for i in first if i is not None] == ["B", "A", "C"]
    assert queue.take() is None, "D may not open: 3 jobs are open"
    b, a, c = (i for i in first if i is not None)
    queue.window_done(b, 3.0)  # 0.1 s a day, 60 days left: 6 s
    queue.window_done(a, 1.5)  # 0.05 s a day, 30 days left: 1.5 s
    queue.window_done(c, 6.0)  # 0.2 s a day, 30 days left: 6 s — C turned out slow
    assert (queue.time_left(b), queue.time_left(a), queue.time_left(c)) == (6.0, 1.5, 6.0)
    assert queue.open == 3 and queue.waiting == 1 and sorted(queue.ready()) == sorted(first)
    assert queue.take() == b, "B and C tie at 6 s left: B has waited longer"
    assert queue.take() == c, "then C, ahead of A although both have 30 days left"
    assert queue.take() == a
    assert queue.take() is None
    queue.job_done(c)  # C's last window ended: D opens, planned 33 days at the run's average
    d = next(i for i, j in enumerate(queue.jobs) if j.store_code == "D")
    assert queue.time_left(d) == pytest.approx(33 * (3.0 + 1.5 + 6.0) / 90)
    assert queue.take() == d


@pytest.mark.parametrize("slow", "ABCD")
def test_equal_stores_take_turns_so_a_slow_one_does_not_end_alone(slow: str) -> None:
    # 4 stores planned alike (4 windows of 30 days), 2 workers; one store's windows take 3x
    # as long (more data), which no plan can know. Ideal: 24 s of work / 2 = 12 s.
    jobs = [job(code, 30, 30, 30, 30) for code in "ABCD"]
    seconds = {code: [3.0 if code == slow else 1.0] * 4 for code in "ABCD"}
    makespan, spans = simulate(jobs, seconds, workers=2, limit=open_limit(2, 30))
    # the ideal when the slow store shows itself early; at worst one slow window past it
    assert makespan == (12.0 if slow in "AB" else 13.0)
    whole = whole_jobs_makespan(jobs, seconds, 2)
    assert whole == (12.0 if slow in "AB" else 16.0), "a slow store dealt late ends alone"
    starts = {(code, i): start for start, _, code, i in spans}
    first_rounds = max(starts[(code, 0)] for code in "ABCD")
    assert first_rounds < min(starts[(code, 1)] for code in "ABCD"), "stores take turns"


@pytest.mark.parametrize(
    ("workers", "connections", "limit"),
    [(1, 30, 3), (4, 30, 12), (7, 30, 16), (8, 30, 14), (10, 30, 10), (16, 30, 16), (8, 1000, 24)],
)
def test_the_open_limit_is_three_per_worker_within_the_connections(
    workers: int, connections: int, limit: int
) -> None:
    assert open_limit(workers, connections) == limit


def test_a_queue_needs_an_open_job() -> None:
    with pytest.raises(ValueError, match="at least one job"):
        WindowQueue([job("A", 1)], limit=0)


stores = st.lists(
    st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=1, max_size=6),
    min_size=1,
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(stores=stores, workers=st.integers(1, 8), extra=st.integers(0, 8))
def test_every_window_runs_once_in_order_one_per_store_at_a_time(
    stores: list[list[float]], workers: int, extra: int
) -> None:
    jobs = [job(f"S{n:03d}", *([30] * len(times))) for n, times in enumerate(stores)]
    seconds = {f"S{n:03d}": times for n, times in enumerate(stores)}
    makespan, spans = simulate(jobs, seconds, workers, limit=workers + extra)
    by_store: dict[str, list[tuple[float, float, int]]] = {}
    for start, end, code, index in spans:
        by_store.setdefault(code, []).append((start, end, index))
    for code, runs in by_store.items():
        assert [index for _, _, index in runs] == list(range(len(seconds[code])))
        assert all(a[1] <= b[0] for a, b in zip(runs, runs[1:], strict=False)), code
    events = sorted([(s, 1) for s, _, _, _ in spans] + [(e, -1) for _, e, _, _ in spans])
    busy = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        busy += step
        peak = max(peak, busy)
    assert peak <= workers
    total = sum(map(sum, stores))
    longest = max(map(sum, stores))
    assert makespan >= max(total / workers, longest) - 1e-9


def test_daily_first_runs_the_daily_only_stores_before_the_backfills() -> None:
    import datetime as dt

    from orders_sync.domain import Job, PipelineRef, PlannedWindow, WindowReason

    day = dt.date(2026, 1, 1)

    def job(code: str, windows: int, reason: WindowReason) -> Job:
        planned = tuple(
            PlannedWindow(day + dt.timedelta(days=i), day + dt.timedelta(days=i), (reason,))
            for i in range(windows)
        )
        return Job(code, None, PipelineRef("td_orders_sync", 1), planned)

    jobs = [job("BIG1", 30, WindowReason.MISSING), job("BIG2", 30, WindowReason.MISSING)]
    jobs += [job(f"D{i}", 1, WindowReason.TODAY) for i in range(4)]
    for daily_first, expected in ((False, {"BIG1", "BIG2"}), (True, {"D0", "D1"})):
        queue = WindowQueue(jobs, limit=2, daily_first=daily_first)
        first = {queue.jobs[i].store_code for i in (queue.take(), queue.take()) if i is not None}
        assert first == expected
