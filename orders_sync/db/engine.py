"""Engines and connections to the orders database.

The URL comes from ``Settings.database_url``; nothing here starts a database. (The command
line's default, the embedded PostgreSQL, is chosen at its edge:
:func:`orders_sync.cli.command_settings`.) Engines are cached per URL for the life of the
process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from orders_sync.config import Settings, get_settings
from orders_sync.exceptions import ConfigurationError, DatabaseLost, DatabaseUnavailableError

T = TypeVar("T")

UNBOUNDED_POOL = 1000
_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _shown(raw: str) -> str:
    """What of a URL may be shown: its scheme and user name, never anything after them (a
    password that is not URL-encoded could be anywhere in the rest)."""
    scheme, _, rest = raw.partition("://")
    user = rest.split("@", 1)[0].split(":", 1)[0] if "@" in rest else ""
    return f"{scheme}://{user + '@' if user else ''}..."


def normalize_url(raw: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` URLs and use the psycopg 3 driver.

    Raises:
        ConfigurationError: the URL does not parse (its password, host and options are never
            echoed: a password with ``@`` or ``:`` must be URL-encoded).
    """
    try:
        url = make_url(raw)
        url.port  # noqa: B018 - a port that is not a number fails here, not at connect time
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise ConfigurationError(
            f"ORDERS_SYNC_DATABASE_URL ({_shown(raw)}) is not a valid database URL: check its "
            "form, postgresql://user:password@host:port/database, and URL-encode a password "
            "holding @, : or /."
        ) from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise ConfigurationError(
            f"ORDERS_SYNC_DATABASE_URL must be a PostgreSQL URL, not {url.drivername!r}."
        )
    return url.render_as_string(hide_password=False)


def database_url(settings: Settings | None = None) -> str:
    """The SQLAlchemy URL of the orders database.

    Raises:
        ConfigurationError: no database is configured.
    """
    settings = settings or get_settings()
    if not settings.database_url:
        raise ConfigurationError(
            "no orders database is configured: set ORDERS_SYNC_DATABASE_URL "
            "(in Airflow the connection orders_sync_db)."
        )
    return normalize_url(settings.database_url)


def describe_url(url: str | URL) -> str:
    """``host:port/database`` of a URL — safe to print (no password)."""
    parsed = make_url(url) if isinstance(url, str) else url
    host = parsed.host or parsed.query.get("host") or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database}"


def get_engine(settings: Settings | None = None) -> Engine:
    """The process-wide engine of the orders database (created on first use)."""
    url = database_url(settings)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            # Our defaults for what the URL leaves unset: its own options (application_name,
            # connect_timeout, sslmode, options, ...) are honoured as given.
            given = make_url(url).query
            defaults = {"connect_timeout": 10, "application_name": "orders_sync"}
            engine = sa.create_engine(
                url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=20,
                connect_args={k: v for k, v in defaults.items() if k not in given},
            )
            _engines[url] = engine
    return engine


def pool_connections(engine: Engine) -> int:
    """The most connections ``engine`` hands out at once: its pool's size plus overflow
    (unbounded pools and pools without a limit count as 1,000)."""
    pool = engine.pool
    if not isinstance(pool, sa.pool.QueuePool):
        return UNBOUNDED_POOL
    overflow = int(getattr(pool, "_max_overflow", 0))  # QueuePool has no public reader
    return UNBOUNDED_POOL if overflow < 0 else pool.size() + overflow


def dispose_engines() -> None:
    """Close every cached engine's pool (tests, forked workers)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")
"""SQLSTATEs of a lost or refused connection: class 08, and the server shutting down or
starting up (``admin_shutdown``, ``crash_shutdown``, ``cannot_connect_now``)."""


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) is the database connection going away, rather than a
    statement failing on a live connection."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated:
            return True
        if isinstance(error, sa.exc.PendingRollbackError):
            return True  # a transaction on a connection that died under it
        if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
            state = error.sqlstate
            if state is None or state.startswith(_CONNECTION_SQLSTATES):
                return True
        orig = error.orig if isinstance(error, sa.exc.DBAPIError) else None
        error = orig if isinstance(orig, BaseException) else error.__cause__
    return False


def wait_for_database(
    engine: Engine,
    ceiling_s: float,
    *,
    stop: threading.Event | None = None,
    first_delay_s: float = 0.5,
) -> bool:
    """Wait until the database answers again, at most ``ceiling_s`` seconds.

    Retries a fresh connection with a doubling delay (at most 5 s); a ``stop`` set meanwhile
    ends the wait. Dead pooled connections are discarded first.

    Returns:
        Whether the database answers.
    """
    engine.pool.dispose()  # connections of the lost server are dead: never hand them out
    deadline = time.monotonic() + ceiling_s
    delay = first_delay_s
    while True:
        try:
            check_connection(engine)
            return True
        except DatabaseUnavailableError:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            pause = min(delay, left)
            if stop is None:
                time.sleep(pause)
            elif stop.wait(pause):
                return False
            delay = min(delay * 2, 5.0)


def retry_when_disconnected(
    engine: Engine,
    attempt: Callable[[], T],
    *,
    wait_s: float,
    what: str,
    attempts: int = 2,
    on_wait: Callable[[BaseException], None] | None = None,
) -> T:
    """``attempt()``; when the database connection goes away under it, wait for the database
    (at most ``wait_s``, :func:`wait_for_database`) and call it again, ``attempts`` times in
    all. ``on_wait`` hears of each wait first.

    Raises:
        DatabaseLost: the database did not answer again in time (``what`` could not be done).
        the attempt's own error: not a lost connection, or the last attempt's.
    """
    for number in range(attempts):
        try:
            return attempt()
        except (sa.exc.SQLAlchemyError, psycopg.Error) as exc:
            if not is_disconnect(exc) or number == attempts - 1:
                raise
            if on_wait is not None:
                on_wait(exc)
            if not wait_for_database(engine, wait_s):
                raise database_lost(engine, f"{what} within {wait_s:.0f} s") from exc
    raise AssertionError("unreachable")


def database_lost(engine: Engine, what: str) -> DatabaseLost:
    """The :class:`DatabaseLost` to raise when the database did not come back: ``what`` could
    not be done, and why the last connection attempt failed."""
    try:
        check_connection(engine)
        reason = "it answers again, too late"
    except DatabaseUnavailableError as exc:
        reason = str(exc)
    return DatabaseLost(f"{what}: {reason}")


def check_connection(engine: Engine) -> None:
    """Open one connection, or raise a one-sentence :class:`DatabaseUnavailableError`."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailableError(
            f"cannot connect to the orders database {describe_url(engine.url)}: {reason}"
        ) from exc
