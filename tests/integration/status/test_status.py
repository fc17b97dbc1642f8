"""interfaces.md "Status": every JSON field against a brute-force day-by-day model of random
logs (real PostgreSQL), and the command as a process (exit codes, one-line errors, read-only)."""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.status.coverage import day_state
from orders_sync.status.main import load_statuses
from orders_sync.status.page_payload import STATE_CODES, grid_cells, run_length
from tests.support import observe
from tests.support.cli import run_status
from tests.support.seeding import LogRow, Store, seed_log, seed_stores

TIMEZONE = "Asia/Kolkata"
STATUSES = ("success", "success", "success", "failed", "partial", "running")


def _today() -> dt.date:
    return pendulum.today(TIMEZONE).date()


def _random_log(rng: random.Random, today: dt.date) -> tuple[list[Store], list[tuple[str, LogRow]]]:
    stores = [
        Store(f"S{i:03d}", rng.choice(["TD", "UC"]), today - dt.timedelta(days=rng.randint(0, 60)))
        for i in range(8)
    ]
    rows: list[tuple[str, LogRow]] = []
    clock = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for store in stores:
        assert store.start_date is not None
        for _ in range(rng.randint(0, 9)):
            first = store.start_date + dt.timedelta(
                days=rng.randint(0, (today - store.start_date).days)
            )
            last = min(today, first + dt.timedelta(days=rng.randint(0, 12)))
            clock += dt.timedelta(minutes=rng.randint(1, 90))
            status = rng.choice(STATUSES)
            error = (
                None if status in ("success", "running") else f"orders: boom {rng.randint(1, 9)}"
            )
            run = f"run-{len(rows)}"
            rows.append(
                (run, LogRow(store.store_code, first, last, status, store.pipeline, clock, error))
            )
    return stores, rows


def _model(
    stores: list[Store], rows: list[tuple[str, LogRow]], today: dt.date
) -> list[dict[str, Any]]:
    """interfaces.md "Status", day by day."""
    entries = []
    for store in sorted(stores, key=lambda s: s.store_code):
        assert store.start_date is not None
        mine = [r for _, r in rows if r.store_code == store.store_code]
        covered = {
            r.from_date + dt.timedelta(days=i)
            for r in mine
            if r.status == "success"
            for i in range((r.to_date - r.from_date).days + 1)
        }
        through = None
        day = store.start_date
        while day in covered:
            through = day
            day += dt.timedelta(days=1)
        all_days = [
            store.start_date + dt.timedelta(days=i)
            for i in range((today - store.start_date).days + 1)
        ]
        missing = [d for d in all_days if d not in covered]
        ranges: list[list[str]] = []
        for d in missing:
            if ranges and dt.date.fromisoformat(ranges[-1][1]) + dt.timedelta(days=1) == d:
                ranges[-1][1] = d.isoformat()
            else:
                ranges.append([d.isoformat(), d.isoformat()])
        failing = []
        for window in sorted({(r.from_date, r.to_date) for r in mine}):
            attempts = [r for r in mine if (r.from_date, r.to_date) == window]
            latest = max(attempts, key=lambda r: r.created_at or dt.datetime.min)
            days = {
                window[0] + dt.timedelta(days=i) for i in range((window[1] - window[0]).days + 1)
            }
            if latest.status in ("failed", "partial") and days - covered:
                failing.append(
                    {
                        "from_date": window[0].isoformat(),
                        "to_date": window[1].isoformat(),
                        "status": latest.status,
                        "error_message": latest.error,
                        "attempts": sum(1 for r in attempts if r.status in ("failed", "partial")),
                    }
                )
        entries.append(
            {
                "store_code": store.store_code,
                "pipeline": store.pipeline,
                "sync_group": store.sync_group,
                "start_date": store.start_date.isoformat(),
                "covered_through": through.isoformat() if through else None,
                "days_behind": (today - through).days
                if through
                else (today - store.start_date).days + 1,
                "missing_days": len(missing),
                "missing_ranges": ranges,
                "failing": failing,
                "running": any(r.status == "running" for r in mine),
                "has_success": any(r.status == "success" for r in mine),
            }
        )
    return entries


def _seed(engine: sa.Engine, stores: list[Store], rows: list[tuple[str, LogRow]]) -> None:
    seed_stores(engine, stores)
    for run in sorted({run for run, _ in rows}):
        seed_log(engine, [row for r, row in rows if r == run], run_id=run)


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    out["has_success"] = out.pop("last_success_at") is not None
    out.pop("stuck")  # checked on its own below
    out["failing"] = [
        {k: v for k, v in f.items() if k != "last_attempt_at"} for f in out["failing"]
    ]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_every_field_matches_a_day_by_day_model(db_url: str, seed: int) -> None:
    engine = get_engine(Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    today = _today()
    stores, rows = _random_log(random.Random(seed), today)
    _seed(engine, stores, rows)

    statuses = load_statuses(engine, Settings(database_url=db_url, pipeline_timezone=TIMEZONE))

    assert [_comparable(s.to_json()) for s in statuses] == _model(stores, rows, today)
    first = today - dt.timedelta(days=69)  # the page's grid reaches before every start date
    grid = [first + dt.timedelta(days=i) for i in range(70)]
    for status in statuses:  # the page's painted, run-length grid is day_state, day by day
        by_day = [
            STATE_CODES[day_state(status, day)] if day >= status.store.start_date else "n"
            for day in grid
        ]
        assert grid_cells(status, first, len(grid)) == run_length(by_day)
    for status in statuses:
        for window in status.to_json()["failing"]:
            assert dt.datetime.fromisoformat(window["last_attempt_at"]).utcoffset() == dt.timedelta(
                0
            )


def _status(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_status(db_url, *args, timezone=TIMEZONE)


def test_the_command_prints_the_contracts_json_and_writes_nothing(db_url: str) -> None:
    engine = get_engine(Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    today = _today()
    stores, rows = _random_log(random.Random(99), today)
    _seed(engine, stores, rows)
    before = observe.table_counts(engine)

    done = _status(db_url, "--format", "json", "--sync-group", "TD")

    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["today"] == today.isoformat() and payload["timezone"] == TIMEZONE
    assert [_comparable(e) for e in payload["stores"]] == [
        e for e in _model(stores, rows, today) if e["sync_group"] == "TD"
    ]
    table = _status(db_url, "--days", "14")
    assert table.returncode == 0 and "store(s):" in table.stdout
    assert observe.table_counts(engine) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--store-code", "NOPE"], "unknown store code 'NOPE'"),
        (["--format", "xml"], "--format must be table or json"),
        (["--sync-group", "XX"], "--sync-group"),
        (["--bogus"], "unrecognized arguments"),
    ],
    ids=["unknown-store", "unknown-format", "bad-group", "unknown-flag"],
)
def test_bad_usage_is_one_line_and_exit_2(db_url: str, args: list[str], message: str) -> None:
    seed_stores(get_engine(Settings(database_url=db_url)), [Store("A001", "TD", _today())])
    done = _status(db_url, *args)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], done.stderr


def test_stuck_days_are_reported_with_their_attempts_and_since(db_url: str) -> None:
    engine = get_engine(Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    today = _today()
    start = today - dt.timedelta(days=10)
    first = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    seed_stores(engine, [Store("A001", "TD", start)])
    bad = (today - dt.timedelta(days=4), today - dt.timedelta(days=3))
    for index in range(3):
        at = first + dt.timedelta(days=index)
        seed_log(engine, [LogRow("A001", *bad, "failed", created_at=at, error="orders: boom")],
                 run_id=f"run-{index}")  # fmt: skip
    seed_log(engine, [LogRow("A001", start, bad[0] - dt.timedelta(days=1))], run_id="ok")

    [status] = load_statuses(engine, Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    assert status.to_json()["stuck"] == [
        {
            "from_date": bad[0].isoformat(),
            "to_date": bad[1].isoformat(),
            "days": 2,
            "attempts": 3,
            "since": first.isoformat(),
        }
    ]
    [strict] = load_statuses(
        engine, Settings(database_url=db_url, pipeline_timezone=TIMEZONE), stuck_after=4
    )
    assert strict.to_json()["stuck"] == []
    table = _status(db_url)
    assert "failing 2 days since 2026-11-20 (3 attempts): orders: boom" in table.stdout
    assert "[stuck 2 days since 2026-11-20 (x3)]" in table.stdout


def test_failing_re_fetches_of_covered_days_show_as_stale_in_the_table(db_url: str) -> None:
    # The days were covered once; their overlap/settle re-fetches keep failing since: nothing
    # is missing, nothing "failing" by the contract's rule — yet the data is going stale.
    engine = get_engine(Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    today = _today()
    start = today - dt.timedelta(days=10)
    seed_stores(engine, [Store("A001", "TD", start)])
    old = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
    seed_log(engine, [LogRow("A001", start, today, created_at=old)], run_id="covered")
    first = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
    recent = (today - dt.timedelta(days=1), today)
    for index in range(3):
        at = first + dt.timedelta(days=index)
        seed_log(engine, [LogRow("A001", *recent, "failed", created_at=at, error="orders: boom")],
                 run_id=f"refetch-{index}")  # fmt: skip

    [status] = load_statuses(engine, Settings(database_url=db_url, pipeline_timezone=TIMEZONE))
    assert status.to_json()["failing"] == [] and status.to_json()["missing_days"] == 0
    table = _status(db_url).stdout
    assert "stale: re-fetches failing, stuck 2 days since 2026-11-20 (x3)" in table
    assert "1 up to date, 0 behind, 0 never synced, 0 failing, 1 stuck, 0 running" in table
