"""A database a DBA provisioned (interfaces.md "Schema"): a non-superuser role, a database it
does not own, its own schema first on its ``search_path``, and the shared tables
(``pipelines``, ``pipeline_run_summaries``, ``store_master``) already in another schema.

The migrations use the shared tables the path finds — never a second, empty copy in front of
them — the profiler syncs the company's stores, and the preflight says where it found them.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from orders_sync.config import REPOSITORY_ROOT
from orders_sync.db.engine import dispose_engines
from orders_sync.db.migrate import downgrade, upgrade
from orders_sync_devtools import embedded_postgres as embedded
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import cli
from tests.support.simulation import TD_TOKEN, UC_TOKEN

ROLE = "orders_app"
PASSWORD = "Secret-77"
DBA_SQL = """
CREATE SCHEMA crm;
CREATE TABLE crm.pipelines (id BIGSERIAL PRIMARY KEY, code VARCHAR(64) NOT NULL UNIQUE);
INSERT INTO crm.pipelines (code) VALUES ('some_other_pipeline');
CREATE TABLE crm.pipeline_run_summaries (
    id BIGSERIAL PRIMARY KEY, run_id VARCHAR(64) NOT NULL UNIQUE,
    pipeline_name VARCHAR NOT NULL, run_env VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NULL, report_date DATE NOT NULL, overall_status VARCHAR NOT NULL,
    summary_text TEXT NULL);
CREATE TABLE crm.store_master (
    id BIGSERIAL PRIMARY KEY, store_code VARCHAR(8) UNIQUE NOT NULL, store_name TEXT NULL,
    sync_group VARCHAR(8) NOT NULL, cost_center VARCHAR(8) NULL, start_date DATE NULL,
    is_active BOOLEAN NOT NULL DEFAULT true, region TEXT NOT NULL DEFAULT 'south');
CREATE SCHEMA orders_sync AUTHORIZATION {role};
GRANT USAGE ON SCHEMA crm TO {role};
GRANT SELECT, INSERT, DELETE, REFERENCES ON crm.pipelines TO {role};
GRANT USAGE ON SEQUENCE crm.pipelines_id_seq TO {role};
GRANT SELECT ON crm.store_master TO {role};
GRANT SELECT, INSERT, UPDATE, REFERENCES ON crm.pipeline_run_summaries TO {role};
GRANT USAGE ON SEQUENCE crm.pipeline_run_summaries_id_seq TO {role};
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON DATABASE "{database}" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {role};
ALTER ROLE {role} IN DATABASE "{database}" SET search_path = orders_sync, crm;
"""


@pytest.fixture
def provisioned(pg_server: embedded.EmbeddedServer) -> Iterator[str]:
    """The URL of ``orders_app`` on a database prepared as a DBA would."""
    database = "dba_provisioned"
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}'")
        conn.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(pg_server.conninfo(database), autocommit=True) as conn:
        conn.execute(DBA_SQL.format(role=ROLE, database=database))
    url = sa.make_url(pg_server.url(database)).set(username=ROLE, password=PASSWORD)
    yield url.render_as_string(hide_password=False)
    dispose_engines()
    with psycopg.connect(pg_server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                f"{schema}.{name}"
                for schema, name in conn.execute(
                    sa.text(
                        "SELECT schemaname, tablename FROM pg_tables "
                        "WHERE schemaname IN ('public', 'crm', 'orders_sync')"
                    )
                )
            }
    finally:
        engine.dispose()


def test_the_shared_tables_are_found_through_the_search_path(
    provisioned: str, pg_server: embedded.EmbeddedServer
) -> None:
    upgrade(provisioned)
    upgrade(provisioned)  # twice is harmless
    tables = _tables(provisioned)
    assert {"crm.pipelines", "crm.store_master", "crm.pipeline_run_summaries"} <= tables
    assert not {t for t in tables if t.startswith(("orders_sync.", "public.")) and t.split(".")[1]
                in ("pipelines", "store_master", "pipeline_run_summaries")}  # fmt: skip
    assert "orders_sync.orders_sync_log" in tables and "orders_sync.td_orders" in tables
    with psycopg.connect(pg_server.conninfo("dba_provisioned")) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM crm.pipelines ORDER BY id")]
    assert codes == [
        "some_other_pipeline",
        "td_orders_sync",
        "uc_orders_sync",
        "orders_sync_run_profiler",
    ]
    downgrade(provisioned)  # removes only the rows it inserted, never a shared table
    with psycopg.connect(pg_server.conninfo("dba_provisioned")) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM crm.pipelines ORDER BY id")]
    assert codes == ["some_other_pipeline"]
    assert {"crm.pipelines", "crm.store_master"} <= _tables(provisioned)


def test_a_run_as_the_role_syncs_the_company_stores(
    provisioned: str, pg_server: embedded.EmbeddedServer
) -> None:
    upgrade(provisioned)
    today = dt.date.today()
    with psycopg.connect(pg_server.conninfo("dba_provisioned"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO crm.store_master (store_code, store_name, sync_group, cost_center, "
            "start_date) VALUES ('A001', 'a', 'TD', 'C1', %s), ('U001', 'u', 'UC', 'C2', %s)",
            (today - dt.timedelta(days=3), today - dt.timedelta(days=3)),
        )
    with SimulatorServer(td_token=TD_TOKEN, uc_token=UC_TOKEN) as crm:
        env = {
            "ORDERS_SYNC_DATABASE_URL": provisioned,
            "TD_API_BASE_URL": crm.base_url,
            "TD_API_TOKEN": TD_TOKEN,
            "UC_API_BASE_URL": crm.base_url,
            "UC_API_TOKEN": UC_TOKEN,
        }
        check = subprocess.run(
            [str(REPOSITORY_ROOT / "scripts" / "orders_sync_check.sh"), "--format", "json"],
            env=cli.child_env(env, wrapper=True),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        checks = {c["name"]: c for c in json.loads(check.stdout)["checks"]}
        assert "crm.store_master" in checks["stores"]["detail"]
        assert checks["database"]["detail"].endswith(f"as {ROLE}")
        assert PASSWORD not in check.stdout

        run = cli.run([], env, wrapper=True)
    assert run.returncode == 0, run.stderr
    with psycopg.connect(pg_server.conninfo("dba_provisioned")) as conn:
        statuses = conn.execute(
            "SELECT DISTINCT status FROM orders_sync.orders_sync_log"
        ).fetchall()
        summaries = conn.execute("SELECT overall_status FROM crm.pipeline_run_summaries").fetchall()
    assert statuses == [("success",)] and summaries == [("success",)]


def _one_line(env: dict[str, str]) -> tuple[int, str]:
    done = cli.run(["--dry-run"], env, wrapper=True)
    lines = done.stderr_lines()
    assert len(lines) == 1, done.stderr
    assert "SELECT" not in lines[0] and "Traceback" not in lines[0]
    return done.returncode, lines[0]


def test_database_errors_a_user_can_cause_are_one_line_each(
    provisioned: str, pg_server: embedded.EmbeddedServer, empty_db_url: str
) -> None:
    # not migrated
    code, line = _one_line({"ORDERS_SYNC_DATABASE_URL": provisioned})
    assert code == 2 and "no orders_sync schema" in line and "orders-sync db upgrade" in line
    # a privilege withheld
    upgrade(provisioned)
    with psycopg.connect(pg_server.conninfo("dba_provisioned"), autocommit=True) as conn:
        conn.execute(f"REVOKE SELECT ON crm.store_master FROM {ROLE}")
    code, line = _one_line({"ORDERS_SYNC_DATABASE_URL": provisioned})
    assert code == 2 and "permission denied for table store_master" in line, line
    assert "Preparing the database" in line and PASSWORD not in line
    # a password that is not URL-encoded
    url = f"postgresql://orders:{PASSWORD}@x:y@127.0.0.1:5432/orders"
    code, line = _one_line({"ORDERS_SYNC_DATABASE_URL": url})
    assert code == 2 and "URL-encode" in line and PASSWORD not in line and "127.0.0.1" not in line


def test_url_options_are_honoured_and_ours_only_fill_the_gaps(db_url: str) -> None:
    from orders_sync.config import Settings
    from orders_sync.db.engine import get_engine

    custom = sa.make_url(db_url).update_query_dict({"application_name": "company_sync"})
    engine = get_engine(Settings(database_url=custom.render_as_string(hide_password=False)))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_setting('application_name')")).scalar() == (
            "company_sync"
        )
    default = get_engine(Settings(database_url=db_url))
    with default.connect() as conn:
        assert conn.execute(sa.text("SELECT current_setting('application_name')")).scalar() == (
            "orders_sync"
        )
