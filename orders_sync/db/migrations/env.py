"""Alembic environment of orders_sync.

The URL is, in order: ``-x url=...``, the ``sqlalchemy.url`` main option (set by tests and
by :func:`orders_sync.db.migrate.upgrade`), else :func:`orders_sync.db.engine.database_url`
(``ORDERS_SYNC_DATABASE_URL`` or the embedded server). The version table is
``orders_sync_alembic_version`` so that orders_sync can share a database with other
Alembic-managed systems.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from orders_sync.db.models import Base

VERSION_TABLE = "orders_sync_alembic_version"
SHARED_TABLES = {"pipelines", "pipeline_run_summaries", "store_master"}

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    from orders_sync.db.engine import database_url

    return database_url()


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # Tables of other systems sharing the database are not ours to autogenerate.
    if type_ == "table" and reflected and compare_to is None:
        return name in Base.metadata.tables
    return True


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        version_table=VERSION_TABLE,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=_include_object,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        # One migrator at a time: two processes upgrading at once must not race.
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('orders_sync:alembic'))"))
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
