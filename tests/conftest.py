"""Shared fixtures: one real embedded PostgreSQL per test session, a fresh database per test.

The server runs from a temporary directory with fsync off; a migrated template database is
built once, and each test that asks for ``db_url`` gets ``CREATE DATABASE ... TEMPLATE`` of
it (tens of milliseconds), so tests never see each other's rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pendulum
import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.config import Settings, override_settings
from orders_sync.db.engine import dispose_engines, get_engine
from orders_sync.db.migrate import upgrade
from orders_sync_devtools import embedded_postgres as embedded
from tests.support import third_source as xx

TEMPLATE = "orders_sync_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[embedded.EmbeddedServer]:
    """A real PostgreSQL server for the whole session: the embedded one, or the server of
    ``ORDERS_SYNC_TEST_DATABASE_URL`` (a role that may create databases; ``make test`` runs the
    integration tests this way on Debian's PostgreSQL 15 too).

    The embedded one's data lives outside pytest's ``tmp_path`` tree on purpose: pytest prunes
    old base temp directories and resets their permissions, which would pull the data
    directory from under a server still used by a concurrent session.
    """
    given = os.environ.get("ORDERS_SYNC_TEST_DATABASE_URL", "").strip()
    if given:
        yield embedded.ExternalServer(given)  # type: ignore[misc]
        dispose_engines()
        return
    state_dir = Path(tempfile.mkdtemp(prefix="orders_sync_test_pg_"))
    server = embedded.ensure_running(state_dir, durable=False)
    yield server
    dispose_engines()
    embedded.stop(state_dir)
    shutil.rmtree(state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: embedded.EmbeddedServer) -> str:
    """A database migrated to head, used as the template of every test database."""
    embedded.create_database(pg_server, TEMPLATE)
    upgrade(pg_server.url(TEMPLATE))
    dispose_engines()
    return TEMPLATE


def _create_database(server: embedded.EmbeddedServer, template: str | None) -> str:
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    return name


def _drop_database(server: embedded.EmbeddedServer, name: str) -> None:
    dispose_engines()
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    """Settings for one test, with a private state dir (no database yet)."""
    return Settings(state_dir=tmp_path / "state")


@pytest.fixture
def db_url(
    pg_server: embedded.EmbeddedServer,
    template_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """URL of a fresh, migrated database; also made the process-wide default for the test."""
    name = _create_database(pg_server, template_db)
    url = pg_server.url(name)
    monkeypatch.setenv("ORDERS_SYNC_DATABASE_URL", url)
    monkeypatch.setenv("ORDERS_SYNC_STATE_DIR", str(tmp_path / "state"))
    override_settings(Settings(database_url=url, state_dir=tmp_path / "state"))
    yield url
    override_settings(None)
    _drop_database(pg_server, name)


@pytest.fixture
def empty_db_url(pg_server: embedded.EmbeddedServer) -> Iterator[str]:
    """URL of a fresh database with no tables at all (migration tests)."""
    name = _create_database(pg_server, None)
    yield pg_server.url(name)
    _drop_database(pg_server, name)


@pytest.fixture
def engine(db_url: str) -> sa.Engine:
    """The process-wide engine of the test's database."""
    return get_engine()


# --- the third source of tests/support/third_source.py --------------------------------
@pytest.fixture
def xx_crm() -> Iterator[xx.ReceiptCrm]:
    with xx.ReceiptCrm() as server:
        yield server


@pytest.fixture
def xx_site(tmp_path: Path) -> Path:
    return xx.install_entry_point(tmp_path / "site")


@pytest.fixture
def xx_today() -> dt.date:
    return pendulum.today("Asia/Kolkata").date()


@pytest.fixture
def xx_engine(engine: sa.Engine, xx_today: dt.date) -> sa.Engine:
    xx.create_tables(engine, xx.STORES, xx_today - dt.timedelta(days=xx.HISTORY_DAYS))
    return engine
