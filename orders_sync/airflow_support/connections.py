"""Airflow connections → :class:`~orders_sync.config.Settings`.

Inside Airflow the orders database and each source's CRM may be configured as connections;
each one that exists replaces the matching environment variables of interfaces.md, and
each one that does not leaves the environment in charge:

============== ============= ===============================================================
connection     conn type     becomes
============== ============= ===============================================================
orders_sync_db ``postgres``  ``ORDERS_SYNC_DATABASE_URL``: the provider's
                             ``PostgresHook.sqlalchemy_url`` (login, password, host, port,
                             schema, ``sqlalchemy_scheme``/``sqlalchemy_query`` extras), plus
                             the libpq extras (``sslmode``, ...) the hook passes to psycopg
a source's     ``http``      its ``<PREFIX>_BASE_URL`` and ``<PREFIX>_TOKEN`` (the password)
``connection_id``            (:class:`~orders_sync.sources.spec.Source`, listed by
                             :mod:`orders_sync.sources.registry`). The base URL: see
                             :func:`base_url_from_connection` — every form of the Airflow
                             docs (whole URL in host, ``--conn-uri`` with a path, host + schema)
orders_sync_   ``http``      ``ORDERS_SYNC_ALERT_WEBHOOK_URL``, the same way
alerts
============== ============= ===============================================================

So ``airflow connections add orders_sync_alerts --conn-uri https://hooks.slack.com/services/T0/B0/XYZ``
posts to exactly that URL, and ``https://:TOKEN@crm.example.com`` (``TD_CRM_URI`` of
docker-compose.yaml) gives ``https://crm.example.com`` with that token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from orders_sync.config import Settings, settings_from_env
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import registry

ORDERS_DB_CONN_ID = "orders_sync_db"
ALERTS_CONN_ID = "orders_sync_alerts"
"""An http connection whose host (a whole URL, or host + schema + port) is the alert webhook."""

# Connection extras that are libpq parameters; anything else in the extra (Airflow's own
# hook options such as ``cursor``) is not for the database and is left out of the URL.
LIBPQ_EXTRAS = frozenset(
    {
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "keepalives",
        "keepalives_idle",
    }
)


class ConnectionLike(Protocol):
    """The fields of an Airflow ``Connection`` read here."""

    conn_type: str | None
    host: str | None
    schema: str | None
    login: str | None
    password: str | None
    port: int | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


ConnectionLookup = Callable[[str], "ConnectionLike | None"]


def airflow_connection(conn_id: str) -> ConnectionLike | None:
    """The Airflow connection ``conn_id`` (secrets backends, env, metadata DB), or ``None``.

    Only callable inside a running Airflow task (it goes through the Task SDK).
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection: ConnectionLike = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return connection


def database_url_from_connection(conn: ConnectionLike, conn_id: str = ORDERS_DB_CONN_ID) -> str:
    """A ``postgresql+psycopg`` URL from a postgres connection, through ``PostgresHook``.

    Raises:
        ConfigurationError: the connection has no host or no database (schema), or its
            ``sqlalchemy_scheme`` extra is not a PostgreSQL one.
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from orders_sync.db.engine import normalize_url

    if not conn.host:
        raise ConfigurationError(f"Airflow connection {conn_id!r} has no host.")
    if not conn.schema:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} has no schema; set it to the database name."
        )
    extras: Mapping[str, Any] = conn.extra_dejson or {}
    try:
        url = PostgresHook(postgres_conn_id=conn_id, connection=conn).sqlalchemy_url
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"Airflow connection {conn_id!r}: {exc}") from exc
    libpq = {key: str(value) for key, value in extras.items() if key in LIBPQ_EXTRAS}
    url = url.set(
        username=url.username or None,
        password=url.password or None,
        query={**url.query, **libpq},
    )
    return normalize_url(url.render_as_string(hide_password=False))


def base_url_from_connection(conn: ConnectionLike, conn_id: str) -> str:
    """The base URL of an http connection, in every form the Airflow docs show.

    - a whole URL in ``host`` (``https://hooks.slack.com/services/T0/B0/XYZ``): as given;
    - ``--conn-uri https://hooks.slack.com/services/T0/B0/XYZ``: Airflow keeps the scheme as
      the conn type, the host as host and the path as ``schema``: all three, put back;
    - ``host`` + ``schema`` ``http``/``https`` (``HttpHook``'s rule): the schema is the scheme;
    - a port, when given, after the host; ``https`` for conn type ``https``, else ``http``.

    Raises:
        ConfigurationError: no usable URL (no host, or a scheme other than http/https).
    """
    if not conn.host or not conn.host.strip():
        raise ConfigurationError(f"Airflow connection {conn_id!r} has no host.")
    host = conn.host.strip().rstrip("/")
    if "://" in host:
        scheme, _, rest = host.partition("://")
        netloc, slash, path = rest.partition("/")
        if conn.port and ":" not in netloc:
            netloc = f"{netloc}:{conn.port}"
        url = f"{scheme}://{netloc}{slash}{path}"
    else:
        schema = (conn.schema or "").strip().strip("/")
        if schema.lower() in ("http", "https"):
            scheme, path = schema.lower(), ""
        else:
            scheme, path = ("https" if conn.conn_type == "https" else "http"), schema
        netloc, _, host_path = host.partition("/")
        if conn.port:
            netloc = f"{netloc}:{conn.port}"
        parts = [p for p in (host_path.strip("/"), path) if p]
        url = f"{scheme}://{netloc}" + "".join(f"/{p}" for p in parts)
    scheme = url.partition("://")[0].lower()
    if scheme not in ("http", "https") or not url.partition("://")[2].split("/")[0]:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r} gives no usable http(s) URL: set its host to the "
            "whole URL (https://host/path)."
        )
    return url


def _max_rps(conn: ConnectionLike, conn_id: str) -> dict[str, float]:
    """The connection's ``max_rps`` extra (the run's request budget), when it has one."""
    raw = (conn.extra_dejson or {}).get("max_rps")
    if raw in (None, ""):
        return {}
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = 0.0
    if not value > 0:
        raise ConfigurationError(
            f"Airflow connection {conn_id!r}: the extra max_rps={raw!r} must be a positive "
            "number of requests a second."
        )
    return {"max_rps": value}


def settings_from_airflow(
    lookup: ConnectionLookup = airflow_connection,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """The environment's settings, with every configured connection applied over them.

    Args:
        lookup: conn id → connection or ``None`` (default: Airflow's, in a running task).
        env: the environment (default ``os.environ``).

    Raises:
        ConfigurationError: a variable or a connection holds an unusable value.
    """
    settings = settings_from_env(env)
    database = lookup(ORDERS_DB_CONN_ID)
    if database is not None:
        settings = dataclasses.replace(
            settings, database_url=database_url_from_connection(database)
        )
    for source in registry.sources():
        crm = lookup(source.connection_id)
        if crm is not None:
            settings = settings.with_endpoint(
                source.sync_group,
                dataclasses.replace(
                    settings.endpoint(source.sync_group),
                    base_url=base_url_from_connection(crm, source.connection_id),
                    token=crm.password or None,
                    **_max_rps(crm, source.connection_id),
                ),
            )
    alerts = lookup(ALERTS_CONN_ID)
    if alerts is not None:
        settings = dataclasses.replace(
            settings, alert_webhook_url=base_url_from_connection(alerts, ALERTS_CONN_ID)
        )
    return settings
