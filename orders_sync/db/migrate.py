"""Run the Alembic migrations shipped inside the package (``orders_sync/db/migrations``).

The same revisions serve ``alembic upgrade head`` at the repository root (``alembic.ini``),
``orders-sync db upgrade`` of an installed package, the tests and the Airflow images. Errors a
user can cause — an unreachable database, a role that may not create the tables, a revision
that does not exist — become one :class:`~orders_sync.exceptions.ConfigurationError` sentence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from orders_sync.exceptions import ConfigurationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "orders_sync_alembic_version"


def alembic_config(url: str) -> Config:
    """An Alembic config of the package's migrations pointed at ``url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The schema revision this version of orders_sync needs (its migrations' head)."""
    head = ScriptDirectory.from_config(alembic_config("postgresql://")).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its revisions
        raise ConfigurationError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(conn: sa.Connection) -> str | None:
    """The database's orders_sync revision (``None``: never migrated)."""
    if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": VERSION_TABLE}).scalar() is None:
        return None
    found = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return str(found) if found is not None else None


MIGRATE_COMMAND = "run the migrations (orders-sync db upgrade, or alembic upgrade head)"


def require_current(conn: sa.Connection) -> None:
    """Refuse a database whose schema is not this version's (before anything is written).

    Raises:
        ConfigurationError: not migrated, or at another revision — naming the command.
    """
    current = current_revision(conn)
    head = head_revision()
    if current is None:
        raise ConfigurationError(
            f"the orders database has no orders_sync schema: {MIGRATE_COMMAND}."
        )
    if current != head:
        raise ConfigurationError(
            f"the orders database is at schema revision {current}, this version of orders_sync "
            f"needs {head}: {MIGRATE_COMMAND}."
        )


@contextlib.contextmanager
def _one_line_errors(what: str) -> Iterator[None]:
    try:
        yield
    except CommandError as exc:
        raise ConfigurationError(f"{what} failed: {' '.join(str(exc).split())}") from exc
    except sa.exc.DBAPIError as exc:
        orig = exc.orig
        reason = " ".join(str(orig or exc).split())
        diag = getattr(orig, "diag", None)
        if diag is not None and getattr(diag, "message_primary", None):
            reason = diag.message_primary  # no statement, no parameters
        raise ConfigurationError(f"{what} failed: {reason}") from exc
    except sa.exc.ArgumentError as exc:
        raise ConfigurationError(f"{what} failed: the database URL does not parse") from exc


def upgrade(url: str, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``url``; harmless when already there.

    Raises:
        ConfigurationError: one sentence (the database, a privilege, an unknown revision).
    """
    with _one_line_errors("the migration"):
        command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """``alembic downgrade <revision>`` on ``url``.

    Raises:
        ConfigurationError: one sentence (see :func:`upgrade`).
    """
    with _one_line_errors("the downgrade"):
        command.downgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    """The revision ``url`` is at (``None``: not migrated).

    Raises:
        ConfigurationError: the database cannot be read.
    """
    engine = sa.create_engine(url)
    try:
        with _one_line_errors("reading the schema revision"), engine.connect() as conn:
            return current_revision(conn)
    finally:
        engine.dispose()
