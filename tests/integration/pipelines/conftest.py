"""Fixtures of the pipeline tests: seeded stores, a run row, the simulator over real HTTP."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from orders_sync.db.repositories import run_summaries, stores
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator.server import SimulatorServer

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
SOURCE_NOW = dt.datetime(2026, 1, 8, 12, 0, tzinfo=IST)
"""The simulator's frozen clock: data of early January is visible, still changing."""
SEED = 7
TOKEN = "test-token-not-secret"

STORES: list[dict[str, object]] = [
    {"store_code": "A001", "store_name": "TD one", "sync_group": "TD", "cost_center": "CC1",
     "start_date": dt.date(2025, 1, 1)},
    {"store_code": "A002", "store_name": "TD two", "sync_group": "TD", "cost_center": None,
     "start_date": dt.date(2025, 1, 1)},
    {"store_code": "UC10", "store_name": "UC ten", "sync_group": "UC", "cost_center": "CC9",
     "start_date": dt.date(2025, 1, 1)},
    {"store_code": "A009", "store_name": "TD closed", "sync_group": "TD", "cost_center": None,
     "start_date": dt.date(2025, 1, 1)},
]  # fmt: skip
INACTIVE = "A009"


@pytest.fixture
def seeded(engine: sa.Engine) -> sa.Engine:
    """The test database with four stores (A009 inactive)."""
    with engine.begin() as conn:
        stores.insert_stores(conn, STORES)
        conn.execute(
            sa.text("UPDATE store_master SET is_active = false WHERE store_code = :c"),
            {"c": INACTIVE},
        )
    return engine


@pytest.fixture
def run_id(seeded: sa.Engine) -> str:
    """A ``pipeline_run_summaries`` row the windows of a test belong to."""
    rid = run_summaries.new_run_id("test")
    with seeded.begin() as conn:
        run_summaries.start_run(
            conn, run_id=rid, pipeline_name="test", run_env="test", report_date=SOURCE_NOW.date()
        )
    return rid


@pytest.fixture
def simulator() -> Iterator[SimulatorServer]:
    """The CRM simulator on a loopback port, clock frozen at ``SOURCE_NOW``."""
    with SimulatorServer(seed=SEED, clock=SOURCE_NOW) as sim:
        yield sim


@pytest.fixture
def td_client(simulator: SimulatorServer) -> Iterator[TdClient]:
    """A TD client of the simulator: small pages, fast retries."""
    with TdClient(
        simulator.base_url, TOKEN, page_size=20, max_attempts=2, backoff_base_s=0.0
    ) as client:
        yield client


@pytest.fixture
def uc_client(simulator: SimulatorServer) -> Iterator[UcClient]:
    """A UC client of the simulator: small pages, fast retries."""
    with UcClient(
        simulator.base_url, TOKEN, page_size=20, max_attempts=2, backoff_base_s=0.0
    ) as client:
        yield client


@pytest.fixture
def cli_env(db_url: str, simulator: SimulatorServer, tmp_path: Path) -> dict[str, str]:
    """Environment of a command run against the test database and the simulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_SYNC_", "TD_", "UC_"))}
    env.update(
        ORDERS_SYNC_DATABASE_URL=db_url,
        ORDERS_SYNC_STATE_DIR=str(tmp_path / "state"),
        ORDERS_SYNC_ENV="clitest",
        ORDERS_SYNC_HTTP_MAX_ATTEMPTS="2",
        ORDERS_SYNC_HTTP_BACKOFF_BASE="0",
        TD_API_BASE_URL=simulator.base_url,
        TD_API_TOKEN=TOKEN,
        UC_API_BASE_URL=simulator.base_url,
        UC_API_TOKEN=TOKEN,
    )
    return env
