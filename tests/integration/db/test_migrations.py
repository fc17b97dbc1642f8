"""Alembic owns the schema: upgrade/downgrade cycles, shared tables, §A exactly, autogenerate."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from orders_sync.config import REPOSITORY_ROOT
from orders_sync.db.migrate import downgrade, upgrade
from orders_sync.db.models import Base

OUR_TABLES = {"orders_sync_log", "td_orders", "td_sales", "uc_orders"}
SHARED_TABLES = {"pipelines", "pipeline_run_summaries", "store_master"}

# The requirement's §A DDL, written out by hand: (column, type, length, nullable, default).
REQUIRED_LOG_COLUMNS = [
    ("id", "bigint", None, "NO", "nextval('orders_sync_log_id_seq'::regclass)"),
    ("pipeline_id", "bigint", None, "NO", None),
    ("run_id", "character varying", 64, "NO", None),
    ("run_env", "character varying", 32, "NO", None),
    ("cost_center", "character varying", 8, "YES", None),
    ("store_code", "character varying", 8, "NO", None),
    ("from_date", "date", None, "NO", None),
    ("to_date", "date", None, "NO", None),
    ("orders_pulled_at", "timestamp with time zone", None, "YES", None),
    ("sales_pulled_at", "timestamp with time zone", None, "YES", None),
    ("status", "character varying", 16, "NO", None),
    ("attempt_no", "integer", None, "NO", "1"),
    ("error_message", "text", None, "YES", None),
    ("created_at", "timestamp with time zone", None, "NO", "now()"),
    ("updated_at", "timestamp with time zone", None, "NO", "now()"),
]
REQUIRED_LOG_INDEXES = {
    "uq_orders_sync_log_window": (
        "CREATE UNIQUE INDEX uq_orders_sync_log_window ON public.orders_sync_log USING btree "
        "(pipeline_id, store_code, from_date, to_date, run_id)"
    ),
    "ix_orders_sync_log_lookup": (
        "CREATE INDEX ix_orders_sync_log_lookup ON public.orders_sync_log USING btree "
        "(pipeline_id, store_code, from_date, to_date, status)"
    ),
    "ix_orders_sync_log_store_recent": (
        "CREATE INDEX ix_orders_sync_log_store_recent ON public.orders_sync_log USING btree "
        "(store_code, created_at DESC)"
    ),
    "ix_orders_sync_log_pipeline_recent": (
        "CREATE INDEX ix_orders_sync_log_pipeline_recent ON public.orders_sync_log USING btree "
        "(pipeline_id, created_at DESC)"
    ),
}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_an_empty_database(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    assert _tables(empty_db_url) >= OUR_TABLES | SHARED_TABLES
    downgrade(empty_db_url)
    remaining = _tables(empty_db_url)
    assert not remaining & OUR_TABLES
    assert remaining >= SHARED_TABLES  # never dropped: other systems share them
    upgrade(empty_db_url)
    upgrade(empty_db_url)  # twice is harmless
    assert _tables(empty_db_url) >= OUR_TABLES | SHARED_TABLES


def test_alembic_command_line_upgrade_head_twice(empty_db_url: str) -> None:
    env = {**os.environ, "ORDERS_SYNC_DATABASE_URL": empty_db_url}
    alembic = [sys.executable, "-m", "alembic"]
    for _ in range(2):
        subprocess.run([*alembic, "upgrade", "head"], cwd=REPOSITORY_ROOT, env=env, check=True)
    assert _tables(empty_db_url) >= OUR_TABLES


def test_upgrade_keeps_existing_shared_tables_columns_and_rows(empty_db_url: str) -> None:
    engine = sa.create_engine(empty_db_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                CREATE TABLE pipelines (id BIGSERIAL PRIMARY KEY, code VARCHAR UNIQUE NOT NULL,
                                        owner TEXT DEFAULT 'ops');
                INSERT INTO pipelines (id, code, owner) VALUES (40, 'billing_export', 'fin'),
                                                                (41, 'td_orders_sync', 'ops');
                SELECT setval('pipelines_id_seq', 41);
                CREATE TABLE store_master (store_code VARCHAR(8) UNIQUE NOT NULL,
                    store_name TEXT, sync_group VARCHAR(8) NOT NULL, cost_center VARCHAR(8),
                    start_date DATE, is_active BOOLEAN NOT NULL DEFAULT true,
                    region TEXT DEFAULT 'south');
                INSERT INTO store_master (store_code, sync_group, start_date, region)
                VALUES ('A001', 'TD', '2025-01-01', 'north');
                CREATE TABLE pipeline_run_summaries (run_id VARCHAR(64) UNIQUE NOT NULL,
                    pipeline_name VARCHAR NOT NULL, run_env VARCHAR NOT NULL,
                    started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ,
                    report_date DATE NOT NULL, overall_status VARCHAR NOT NULL,
                    summary_text TEXT, triggered_by TEXT);
                INSERT INTO pipeline_run_summaries (run_id, pipeline_name, run_env, started_at,
                    report_date, overall_status, triggered_by)
                VALUES ('old-run', 'billing_export', 'prod', now(), '2025-01-01', 'success', 'x');
                """
            )
        )
    upgrade(empty_db_url)
    with engine.connect() as conn:
        pipelines = dict(conn.execute(sa.text("SELECT code, id FROM pipelines")).all())
        assert pipelines["billing_export"] == 40
        assert pipelines["td_orders_sync"] == 41  # already there: not inserted again
        assert {"uc_orders_sync", "orders_sync_run_profiler"} <= set(pipelines)
        assert conn.execute(sa.text("SELECT region FROM store_master")).scalar_one() == "north"
        assert (
            conn.execute(sa.text("SELECT triggered_by FROM pipeline_run_summaries")).scalar_one()
            == "x"
        )
    downgrade(empty_db_url)
    with engine.connect() as conn:
        codes = set(conn.execute(sa.text("SELECT code FROM pipelines")).scalars())
    # Only the rows this migration inserted are removed; the deployment's own rows stay.
    assert codes == {"billing_export", "td_orders_sync"}
    engine.dispose()


def test_orders_sync_log_matches_the_requirement_column_by_column(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                """
                SELECT column_name, data_type, character_maximum_length, is_nullable,
                       column_default
                FROM information_schema.columns
                WHERE table_name = 'orders_sync_log' ORDER BY ordinal_position
                """
            )
        ).all()
        indexes = dict(
            conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders_sync_log'"
                )
            ).all()
        )
        fks = set(
            conn.execute(
                sa.text(
                    """
                    SELECT kcu.column_name, ccu.table_name, ccu.column_name
                    FROM information_schema.table_constraints tc
                    JOIN information_schema.key_column_usage kcu
                      ON kcu.constraint_name = tc.constraint_name
                    JOIN information_schema.constraint_column_usage ccu
                      ON ccu.constraint_name = tc.constraint_name
                    WHERE tc.table_name = 'orders_sync_log' AND tc.constraint_type = 'FOREIGN KEY'
                    """
                )
            ).all()
        )
    actual = [tuple(row) for row in rows]
    assert actual[: len(REQUIRED_LOG_COLUMNS)] == REQUIRED_LOG_COLUMNS
    assert all(row[3] == "YES" for row in actual[len(REQUIRED_LOG_COLUMNS) :]), "extras nullable"
    for name, definition in REQUIRED_LOG_INDEXES.items():
        assert indexes[name] == definition
    assert fks == {
        ("pipeline_id", "pipelines", "id"),
        ("run_id", "pipeline_run_summaries", "run_id"),
    }


def _insert_summary(conn: sa.Connection, run_id: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO pipeline_run_summaries (run_id, pipeline_name, run_env, started_at, "
            "report_date, overall_status) "
            "VALUES (:r, 'test', 'dev', now(), '2026-01-01', 'running')"
        ),
        {"r": run_id},
    )


def _insert_log(conn: sa.Connection, run_id: str, pipeline_id: int | None = None) -> int:
    return int(
        conn.execute(
            sa.text(
                """
                INSERT INTO orders_sync_log (pipeline_id, run_id, run_env, store_code,
                                             from_date, to_date, status)
                VALUES (COALESCE(:pid, (SELECT id FROM pipelines WHERE code='td_orders_sync')),
                        :r, 'dev', 'A001', '2026-01-01', '2026-01-31', 'running')
                RETURNING id
                """
            ),
            {"r": run_id, "pid": pipeline_id},
        ).scalar_one()
    )


def test_updated_at_is_kept_by_the_database_on_every_update(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _insert_summary(conn, "r1")
        log_id = _insert_log(conn, "r1")
    time.sleep(0.01)
    with engine.begin() as conn:  # the caller "forgets" updated_at, or sets it wrong
        conn.execute(
            sa.text(
                "UPDATE orders_sync_log SET status='success', updated_at='2000-01-01' WHERE id=:i"
            ),
            {"i": log_id},
        )
    with engine.connect() as conn:
        created, updated = conn.execute(
            sa.text("SELECT created_at, updated_at FROM orders_sync_log WHERE id = :i"),
            {"i": log_id},
        ).one()
    assert updated > created


@pytest.mark.parametrize(
    ("run_id", "pipeline_id"),
    [("no-such-run", None), ("r1", 999_999)],
    ids=["unknown-run-id", "unknown-pipeline-id"],
)
def test_foreign_keys_reject_unknown_references(
    engine: sa.Engine, run_id: str, pipeline_id: int | None
) -> None:
    with engine.begin() as conn:
        _insert_summary(conn, "r1")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        _insert_log(conn, run_id, pipeline_id)


def test_autogenerate_finds_no_difference_between_models_and_migrations(
    engine: sa.Engine,
) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "version_table": "orders_sync_alembic_version",
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "table" and reflected and compare_to is None)
                ),
            },
        )
        assert compare_metadata(context, Base.metadata) == []


CLOSED = {
    "abandoned: the process running this window died": "abandoned",
    "interrupted: the run was stopped": "interrupted",
    "orders: SourceServerError: HTTP 500": None,
    "orders: abandoned: not a lifecycle prefix": None,
}


def test_0006_fills_close_reason_of_old_rows_from_their_message(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0005")
    engine = sa.create_engine(empty_db_url)
    try:
        with engine.begin() as conn:
            _insert_summary(conn, "old")
            for message in CLOSED:
                log_id = _insert_log(conn, "old")
                conn.execute(
                    sa.text(
                        "UPDATE orders_sync_log SET status = 'failed', error_message = :m, "
                        "from_date = from_date + :n WHERE id = :id"
                    ),
                    {"m": message, "id": log_id, "n": log_id},
                )
        upgrade(empty_db_url, "0006")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT error_message, close_reason FROM orders_sync_log"))
            found = {message: reason for message, reason in rows}
        assert found == CLOSED
        downgrade(empty_db_url, "0005")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("orders_sync_log")}
        assert "close_reason" not in columns
    finally:
        engine.dispose()
