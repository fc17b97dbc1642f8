"""Issue 7, part 1: a replayed month converges to the source with the settle pass.

Thirty simulated days, one profiler run a day at 21:00 Asia/Kolkata, against the simulator's
late changes (orders keyed in the next morning, statuses moving for days, payment modes and
GST invoices corrected). The simulator changes a day's rows only before ``day + 10``
(:data:`SETTLE_DAYS`), so a day re-fetched 11 days later holds its final rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from orders_sync.domain import WindowReason
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator import SETTLE_DAYS
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.replay import Replay, make_stores, replay_settings

SEED = 11
FIRST_DAY = dt.date(2026, 3, 2)
DAYS = 30
START_DATE = FIRST_DAY - dt.timedelta(days=45)
FINAL_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)
STORES = make_stores(3, 2, start_date=START_DATE)
K, S = 1, 11


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED, clock=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as sim:
        yield sim


def _replay(
    engine: sa.Engine, simulator: SimulatorServer, db_url: str, tmp_path: Path, settle: int
) -> Replay:
    options = ProfilerOptions(
        env="replay", window_days=30, overlap_days=K, settle_days=settle, max_workers=3
    )
    replay = Replay(
        engine, simulator, replay_settings(simulator, db_url, tmp_path / "state"), STORES, options
    )
    replay.seed()
    replay.run_days(FIRST_DAY, DAYS)
    return replay


def test_settle_pass_makes_every_day_older_than_s_equal_the_source(
    engine: sa.Engine, db_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    assert S > SETTLE_DAYS  # the simulator's days are final by then
    replay = _replay(engine, simulator, db_url, tmp_path, settle=S)

    assert [r.status for r in replay.records] == ["success"] * DAYS
    # Every day at least S days old, i.e. up to the day the last run settled.
    report = replay.compare(FINAL_DAY - dt.timedelta(days=S - 1))
    assert report.source_rows > 1000, report.describe()  # not a vacuous comparison
    assert report.stale == 0, f"{report.describe()}\n" + "\n".join(report.examples)
    for table in report.tables:
        assert table.stored_rows == table.source_rows, report.describe()

    # Steady state: once caught up, the settle pass adds one 1-day window per store per run,
    # the day exactly S days old, and summary_text counts it.
    for record in replay.records[1:]:
        settle = record.windows_with(WindowReason.SETTLE)
        assert sorted(w.store_code for w in settle) == sorted(s.store_code for s in STORES), (
            record.day
        )
        assert {(w.from_date, w.to_date) for w in settle} == {
            (record.day - dt.timedelta(days=S),) * 2
        }, record.day
        assert f"settle_windows={len(STORES)}" in record.run.outcome.summary_text
        assert record.days_fetched == len(STORES) * (2 + 1)  # overlap+today, settle
    assert not replay.records[0].windows_with(WindowReason.SETTLE)  # nothing covered before


def test_without_settle_pass_rows_older_than_k_stay_stale(
    engine: sa.Engine, db_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    replay = _replay(engine, simulator, db_url, tmp_path, settle=0)

    assert [r.status for r in replay.records] == ["success"] * DAYS
    older_than_k = replay.compare(FINAL_DAY - dt.timedelta(days=K))
    assert older_than_k.stale > 0, older_than_k.describe()
    # Also days the source has long stopped changing: stale for good, no run will fix them.
    older_than_s = replay.compare(FINAL_DAY - dt.timedelta(days=S))
    assert older_than_s.stale > 0, older_than_s.describe()
    assert all(not r.windows_with(WindowReason.SETTLE) for r in replay.records)


def test_after_an_outage_the_settle_pass_catches_up_in_chunks(
    engine: sa.Engine, db_url: str, simulator: SimulatorServer, tmp_path: Path
) -> None:
    options = ProfilerOptions(
        env="replay", window_days=4, overlap_days=K, settle_days=S, max_workers=3
    )
    stores = STORES[:1] + STORES[-1:]
    replay = Replay(
        engine, simulator, replay_settings(simulator, db_url, tmp_path / "state"), stores, options
    )
    replay.seed()
    outage = 9  # no run for 9 days in the middle of the month
    replay.run_days(FIRST_DAY, 10)
    back = FIRST_DAY + dt.timedelta(days=10 + outage)
    replay.run_days(back, DAYS - 10 - outage)

    assert all(r.status == "success" for r in replay.records)
    first_back = replay.records[10]
    assert first_back.day == back
    for store in stores:
        settle = [
            w
            for w in first_back.windows_with(WindowReason.SETTLE)
            if w.store_code == store.store_code
        ]
        # every unsettled covered day up to back - S, in date order, chunks of at most N
        days = [w.from_date + dt.timedelta(n) for w in settle for n in range(w.days)]
        assert days == sorted(days) and len(days) == len(set(days))
        assert days[-1] == back - dt.timedelta(days=S)
        assert len(days) == outage + 1
        assert max(w.days for w in settle) == 4 and len(settle) == 3
    report = replay.compare(FINAL_DAY - dt.timedelta(days=S - 1))
    assert report.stale == 0, f"{report.describe()}\n" + "\n".join(report.examples)
