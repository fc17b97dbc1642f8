"""interfaces.md "Preflight": ``scripts/orders_sync_check.sh`` against real databases — ready,
unmigrated, unreachable, no stores, a source unset or refusing its token, a role missing
privileges — each a line per check, nothing written, no secret shown."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT
from orders_sync_devtools import embedded_postgres as embedded
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli, observe
from tests.support.seeding import Store, seed_stores

SCRIPT = str(REPOSITORY_ROOT / "scripts" / "orders_sync_check.sh")
NAMES = ["database", "schema", "privileges", "stores", "source_td", "source_uc"]
TD_TOKEN = "td-preflight-token-0123456789"
UC_TOKEN = "uc-preflight-token-0123456789"
TODAY = dt.date(2026, 1, 20)


@pytest.fixture
def crm() -> Iterator[SimulatorServer]:
    with SimulatorServer(td_token=TD_TOKEN, uc_token=UC_TOKEN) as server:
        yield server


def _env(url: str, crm: SimulatorServer | None, **extra: str) -> dict[str, str]:
    env = {"ORDERS_SYNC_DATABASE_URL": url}
    if crm is not None:
        env |= {
            "TD_API_BASE_URL": crm.base_url,
            "TD_API_TOKEN": TD_TOKEN,
            "UC_API_BASE_URL": crm.base_url,
            "UC_API_TOKEN": UC_TOKEN,
        }
    return env | extra


def _check(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [SCRIPT, "--format", "json", *args],
        env=cli.child_env(env, wrapper=True),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def _by_name(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {check["name"]: check for check in document["checks"]}


def _stores(engine: sa.Engine) -> None:
    seed_stores(engine, [Store("A001", "TD", TODAY), Store("U001", "UC", TODAY)])


def test_a_ready_deployment(engine: sa.Engine, db_url: str, crm: SimulatorServer) -> None:
    _stores(engine)
    before = observe.table_counts(engine)
    code, document, stderr = _check(_env(db_url, crm))
    assert code == 0, stderr
    assert document["ready"] is True
    assert [c["name"] for c in document["checks"]] == NAMES
    assert {c["status"] for c in document["checks"]} == {"ok"}, document
    checks = _by_name(document)
    assert checks["database"]["detail"].startswith("PostgreSQL ")
    assert "TD 1, UC 1" in checks["stores"]["detail"]
    assert crm.requests_total == 2  # one authenticated request per source
    assert observe.table_counts(engine) == before
    text = json.dumps(document)
    assert TD_TOKEN not in text and UC_TOKEN not in text


def test_the_table_format_is_one_line_per_check(
    engine: sa.Engine, db_url: str, crm: SimulatorServer
) -> None:
    _stores(engine)
    done = subprocess.run(
        [SCRIPT, "--offline"],
        env=cli.child_env(_env(db_url, crm), wrapper=True),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["ok", name] for name in NAMES]
    assert crm.requests_total == 0  # --offline sends nothing


def test_an_unmigrated_database_fails_schema_and_writes_nothing(
    empty_db_url: str, crm: SimulatorServer
) -> None:
    code, document, stderr = _check(_env(empty_db_url, crm))
    assert code == 1, stderr
    checks = _by_name(document)
    assert list(checks) == NAMES and document["ready"] is False
    assert checks["database"]["status"] == "ok"
    assert checks["schema"] == {
        "name": "schema",
        "status": "fail",
        "detail": "no orders_sync schema: run the migrations (alembic upgrade head, or "
        "orders-sync db upgrade)",
    }
    assert checks["stores"]["status"] == "fail"
    assert checks["source_td"]["status"] in ("fail", "warn")
    engine = sa.create_engine(empty_db_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_an_unreachable_database_still_reports_every_check() -> None:
    url = "postgresql+psycopg://orders:S3cret%40x@127.0.0.1:1/orders"
    code, document, stderr = _check(_env(url, None))
    assert code == 1, stderr
    checks = _by_name(document)
    assert list(checks) == NAMES
    assert checks["database"]["status"] == "fail"
    assert "127.0.0.1:1/orders" in checks["database"]["detail"]
    assert all(c["status"] in ("fail", "warn") for c in document["checks"][1:4])
    assert "S3cret" not in json.dumps(document)


def test_no_store_fails_and_sources_are_not_needed(db_url: str, crm: SimulatorServer) -> None:
    code, document, _ = _check(_env(db_url, crm))
    checks = _by_name(document)
    assert code == 1 and checks["stores"]["status"] == "fail"
    assert "public.store_master" in checks["stores"]["detail"]
    assert checks["source_td"]["status"] == "ok" and "not needed" in checks["source_td"]["detail"]


def test_a_source_unset_or_refusing_its_token(
    engine: sa.Engine, db_url: str, crm: SimulatorServer
) -> None:
    _stores(engine)
    env = _env(db_url, crm, UC_API_TOKEN="wrong-token-9876543210")
    env.pop("TD_API_BASE_URL")
    code, document, _ = _check(env)
    checks = _by_name(document)
    assert code == 1
    assert checks["source_td"]["status"] == "fail"
    assert checks["source_td"]["detail"].startswith("TD_API_BASE_URL is not set")
    assert checks["source_uc"]["status"] == "fail"
    assert "authentication" in checks["source_uc"]["detail"]
    assert "wrong-token" not in json.dumps(document)


def test_bad_usage_exits_2() -> None:
    done = subprocess.run(
        [SCRIPT, "--format", "xml"],
        env=cli.child_env({}, wrapper=True),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1


def test_a_role_missing_privileges_is_told_which(
    engine: sa.Engine,
    db_url: str,
    pg_server: embedded.EmbeddedServer,
    crm: SimulatorServer,
) -> None:
    _stores(engine)
    database = sa.make_url(db_url).database
    with psycopg.connect(pg_server.conninfo(str(database)), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS preflight_app")
        conn.execute("CREATE ROLE preflight_app LOGIN PASSWORD 'pw-preflight'")
        conn.execute(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO preflight_app")
        conn.execute("GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO preflight_app")
        conn.execute("REVOKE INSERT ON orders_sync_log FROM preflight_app")
    try:
        url = sa.make_url(db_url).set(username="preflight_app", password="pw-preflight")
        code, document, _ = _check(
            _env(url.render_as_string(hide_password=False), crm), "--offline"
        )
        privileges = _by_name(document)["privileges"]
        assert code == 1 and privileges["status"] == "fail"
        detail = privileges["detail"]
        assert "INSERT on orders_sync_log" in detail
        assert f"TEMPORARY on database {database}" in detail
        assert "USAGE on sequence orders_sync_log_id_seq" in detail
        assert "pw-preflight" not in json.dumps(document)
    finally:
        with psycopg.connect(pg_server.conninfo(str(database)), autocommit=True) as conn:
            conn.execute(f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
            conn.execute("DROP OWNED BY preflight_app")
            conn.execute("DROP ROLE preflight_app")
