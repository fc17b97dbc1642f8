"""A 1,000-store chain (issue 23): the overview counts, the worst-first order of the status
table and the page's data, a daily failure told as one streak, the compact page payload."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re

import pendulum
import pytest

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.status.main import load_statuses
from orders_sync.status.overview import failing_streak, overview_counts, worst_first
from orders_sync.status.page_payload import page_payload
from orders_sync_devtools.chain import chain_stores, seed_chain
from tests.support.cli import run_status

TIMEZONE = "Asia/Kolkata"
STORES = 1000


@pytest.fixture
def chain(db_url: str) -> tuple[Settings, dt.date]:
    settings = Settings(database_url=db_url, pipeline_timezone=TIMEZONE)
    today = pendulum.today(TIMEZONE).date()
    seed_chain(get_engine(settings), STORES, today)
    return settings, today


def test_the_overview_counts_and_the_worst_first_order(chain: tuple[Settings, dt.date]) -> None:
    settings, today = chain
    statuses = load_statuses(get_engine(settings), settings)
    assert overview_counts(statuses, max_days_behind=1) == {
        "stores": 1000,
        "up_to_date": 905,  # 900 healthy + 5 running (one day behind: within the threshold)
        "behind": 90,  # 38 failing daily + 39 silently behind + 13 with a partial day
        "never_synced": 5,
        "failing": 51,  # 38 failing daily + 13 partial
        "stuck": 38,  # a daily failure's days fail again in every later run
        "running": 5,
    }
    ranked = worst_first(statuses)
    kinds = {s.store_code: s for s in chain_stores(STORES, today)}
    # never synced first (longest first), then by days behind — failing or silent alike
    assert [kinds[s.store.store_code].kind for s in ranked[:5]] == ["never"] * 5
    assert [s.days_behind for s in ranked[:5]] == [1001, 851, 701, 551, 401]
    behind = [s.days_behind for s in ranked[5:95]]
    assert behind == sorted(behind, reverse=True) and behind[0] == 59
    # at equal days behind the failing store ranks above the silent one
    assert [kinds[s.store.store_code].kind for s in ranked[5:7]] == ["failing", "behind"]
    silent = [s for s in ranked[:95] if kinds[s.store.store_code].kind == "behind"]
    assert len(silent) == 39 and ranked.index(silent[-1]) < 95

    # a store failing every day for 59 days: one streak, 59 attempts, since its first failure
    daily = max((s for s in statuses if kinds[s.store.store_code].kind == "failing"),
                key=lambda s: s.days_behind)  # fmt: skip
    streak = failing_streak(daily)
    assert streak is not None and daily.days_behind == 59 and len(daily.failing) == 59
    assert (streak.days, streak.attempts) == (59, 59)
    first_failure = today - dt.timedelta(days=58)
    assert streak.since.date() == first_failure
    assert streak.describe() == f"failing 59 days since {first_failure} (59 attempts)"


def test_the_status_table_lists_the_same_order_with_streaks(
    chain: tuple[Settings, dt.date],
) -> None:
    settings, _ = chain
    statuses = load_statuses(get_engine(settings), settings)
    done = run_status(settings.database_url, timezone=TIMEZONE)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    rows = [line.split()[0] for line in lines[3 : 3 + STORES]]
    assert rows == [s.store.store_code for s in worst_first(statuses)]
    assert "(x1)" not in done.stdout
    assert "failing 59 days since" in done.stdout and "(59 attempts)" in done.stdout
    assert lines[-1].startswith(
        "1000 store(s): 905 up to date, 90 behind, 5 never synced, 51 failing, 38 stuck, 5 running;"
    )


def test_the_page_payload_is_worst_first_compact_and_complete(
    chain: tuple[Settings, dt.date],
) -> None:
    settings, today = chain
    statuses = load_statuses(get_engine(settings), settings)
    payload = page_payload(statuses, today=today, timezone=TIMEZONE, days=60,
                           max_days_behind=1, batches={})  # fmt: skip
    columns = payload["columns"]
    rows = [dict(zip(columns, row, strict=True)) for row in payload["rows"]]
    assert [r["store_code"] for r in rows] == [s.store.store_code for s in worst_first(statuses)]
    assert payload["counts"]["stores"] == len(rows) == 1000
    # every row's grid spans exactly the 60 days
    for row in rows:
        runs = [int(n) for n in re.findall(r"\d+", row["cells"])]
        assert sum(runs) == 60
    healthy = next(r for r in rows if r["days_behind"] == 0 and r["flags"] == 1)
    assert healthy["cells"] == "c60"
    assert len(payload["errors"]) == 2  # 51 failing stores, two distinct messages, sent once
    raw = json.dumps(payload, separators=(",", ":")).encode()
    full = json.dumps({"stores": [s.to_json() for s in statuses]}).encode()
    assert len(raw) * 4 < len(full)  # the page carries what it shows, not the contract's JSON
    assert len(gzip.compress(raw)) * 4 < len(raw)
