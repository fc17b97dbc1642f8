"""Pytest fixtures of the run-profiler suites; import them into a ``conftest.py``."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from orders_sync.config import Settings, override_settings
from orders_sync.db.engine import dispose_engines
from orders_sync_devtools import embedded_postgres as embedded
from orders_sync_devtools.simulator.clock import IST
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.simulation import running_simulator, settings_for

TODAY = dt.date(2026, 1, 20)
"""The ``today`` of the in-process runs (passed as ``today=``)."""
SOURCE_NOW = dt.datetime(2026, 1, 20, 12, 0, tzinfo=IST)
"""The simulator's frozen clock for those runs: noon of ``TODAY`` in the pipeline timezone."""


KEPT_TABLES = ("pipelines", "orders_sync_alembic_version")
"""Tables the migrations fill; every other table is emptied before each test."""
_module_counter = itertools.count()


@pytest.fixture(scope="module")
def module_db_url(pg_server: embedded.EmbeddedServer, template_db: str) -> Iterator[str]:
    """One migrated database per test module (copied from the session's template)."""
    name = f"rp_{os.getpid()}_{next(_module_counter)}"
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
    yield pg_server.url(name)
    dispose_engines()
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_tables(url: str) -> None:
    """``TRUNCATE`` every table but those the migrations fill (``KEPT_TABLES``)."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> ALL(%s)",
                (list(KEPT_TABLES),),
            )
        ]
        if tables:
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


@pytest.fixture
def db_url(module_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Like the suite's ``db_url`` (a migrated database holding no rows of a previous test,
    made the process-wide default), but emptied with ``TRUNCATE`` instead of created and
    dropped per test: the run-profiler suites hold many database tests."""
    empty_tables(module_db_url)
    monkeypatch.setenv("ORDERS_SYNC_DATABASE_URL", module_db_url)
    monkeypatch.setenv("ORDERS_SYNC_STATE_DIR", str(tmp_path / "state"))
    override_settings(Settings(database_url=module_db_url, state_dir=tmp_path / "state"))
    yield module_db_url
    override_settings(None)


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """The CRM simulator over loopback HTTP, clock frozen at ``SOURCE_NOW``."""
    with running_simulator(SOURCE_NOW) as server:
        yield server


@pytest.fixture
def settings(db_url: str, sim: SimulatorServer) -> Iterator[Settings]:
    """Settings of the test's database and simulator, also made the process-wide ones."""
    value = settings_for(db_url, sim)
    override_settings(value)
    yield value
    override_settings(None)


@pytest.fixture
def live_sim() -> Iterator[SimulatorServer]:
    """A simulator for profiler *processes*, which plan with the real "today": its clock is
    frozen at the real current instant, so the truth does not move during the test."""
    with running_simulator(dt.datetime.now(IST).replace(microsecond=0)) as server:
        yield server


@pytest.fixture
def real_today(live_sim: SimulatorServer) -> dt.date:
    """Today in the pipeline timezone (Asia/Kolkata = the simulator's IST)."""
    return live_sim.now().date()


__all__ = [
    "SOURCE_NOW",
    "TODAY",
    "db_url",
    "empty_tables",
    "live_sim",
    "module_db_url",
    "real_today",
    "settings",
    "sim",
]
