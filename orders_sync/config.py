"""One frozen settings object, read once from the environment (or Airflow connections).

The environment variables are the contract of ``shared/contracts/interfaces.md``; the
extra ``ORDERS_SYNC_*`` knobs below are documented in the README. Nothing here touches
the network or the database. Fakes are never a fallback: an unset database URL is the
embedded PostgreSQL only on the command line (:func:`orders_sync.cli.command_settings`),
and the bundled CRM simulator only with ``ORDERS_SYNC_SOURCES=simulator``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

import pendulum

from orders_sync.exceptions import ConfigurationError

DEFAULT_TIMEZONE = "Asia/Kolkata"
DEFAULT_ENV = "dev"
SOURCES_HTTP = "http"
SOURCES_SIMULATOR = "simulator"
SOURCE_KINDS = (SOURCES_HTTP, SOURCES_SIMULATOR)
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
SOURCE_ENTRY_POINTS = "orders_sync.sources"
"""The entry-point group every source is registered in, named by its sync group
(:mod:`orders_sync.sources.registry`)."""
DATA_TABLE_ENTRY_POINTS = "orders_sync.data_tables"
"""The entry-point group naming every source's data tables (each entry: the table's
:class:`~orders_sync.sources.spec.DataTable`)."""
ALL_GROUPS = "ALL"
"""``--sync-group ALL`` / conf ``sync_group: ALL``: every source."""


@dataclasses.dataclass(frozen=True, slots=True)
class HttpOptions:
    """How a client talks to its API (from :class:`~orders_sync.config.Settings`).

    Attributes:
        timeout_s: timeout of every request.
        max_attempts: attempts per request before a transient failure is final.
        backoff_base_s: first back-off delay; doubles each attempt, with jitter.
        retry_after_cap_s: longest ``Retry-After`` wait honoured on a 429.
        rate_limit_wait_s: the longest one request waits in all on 429s before it fails.
    """

    timeout_s: float = 30.0
    max_attempts: int = 5
    backoff_base_s: float = 0.5
    retry_after_cap_s: float = 60.0
    rate_limit_wait_s: float = 900.0


@dataclasses.dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one source is reached, as configured.

    Attributes:
        base_url: ``None``: not configured.
        token: ``None``: not configured.
        max_rps: requests a second this deployment may send (``None``: found from 429s).
    """

    base_url: str | None = None
    token: str | None = dataclasses.field(default=None, repr=False)
    max_rps: float | None = None


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything orders_sync reads from its environment, validated.

    Attributes:
        database_url: SQLAlchemy URL of the orders database; ``None``: not configured (the
            command line then starts the embedded PostgreSQL kept under ``state_dir``).
        pipeline_timezone: IANA name; every "today" and every date window uses it.
        env: default ``run_env`` (``--env``).
        sources: ``http`` (the URLs below) or ``simulator`` (the bundled CRM simulator).
        endpoints: per sync group, where its source is reached, as set explicitly (Airflow
            connections, tests); a group not in it is read from ``environ``.
        environ: the environment the settings were read from: each source's own variables
            (``<PREFIX>_BASE_URL``, ``<PREFIX>_TOKEN``, ``<PREFIX>_MAX_RPS`` of its
            declaration) are read from it when the source is first asked for, so that loading
            the settings imports no source (the DAG file loads them at parse time).
        settle_days: default ``--settle-days`` (0 keeps the requirement's plan exactly).
        max_workers: default ``--max-workers``; in Airflow also the ``orders_sync`` pool size.
        http_timeout_s: per-request timeout of the CRM clients.
        http_max_attempts: attempts per request before a transient error is final.
        http_backoff_base_s: first back-off delay; doubles each attempt, with jitter.
        http_retry_after_cap_s: longest ``Retry-After`` wait honoured on a 429.
        http_rate_limit_wait_s: the longest one request waits in all on 429s
            (``ORDERS_SYNC_RATE_LIMIT_WAIT``; a DAG batch's deadline may end it sooner).
        state_dir: where the embedded database and simulator state live.
        alert_webhook_url: where failure alerts are POSTed (``None``: no webhook alert).
        alert_email_to: who gets failure alerts by e-mail (empty: no e-mail alert).
        smtp_host / smtp_port / smtp_user / smtp_password / smtp_from / smtp_starttls: the
            SMTP server of the e-mail alerts.
        progress_interval_s: seconds between progress lines of a long run.
        task_timeout_s: the longest a DAG ``sync_store`` task may run (its deadline's ceiling).
        timeout_per_day_s: a batch's deadline grows by this per planned day.
        max_mapped_tasks: the most mapped ``sync_store`` instances of a DAG run.
        dagrun_timeout_s: the longest a DAG run may take.
        database_wait_s: how long work in flight waits for a lost orders database to answer
            again before its store fails with ``database unavailable``.
    """

    database_url: str | None = None
    pipeline_timezone: str = DEFAULT_TIMEZONE
    env: str = DEFAULT_ENV
    sources: str = SOURCES_HTTP
    endpoints: Mapping[str, Endpoint] = dataclasses.field(default_factory=dict)
    environ: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)
    settle_days: int = 0
    max_workers: int = 3
    http_timeout_s: float = 30.0
    http_max_attempts: int = 5
    http_backoff_base_s: float = 0.5
    http_retry_after_cap_s: float = 60.0
    http_rate_limit_wait_s: float = 900.0
    state_dir: Path = REPOSITORY_ROOT / ".orders_sync"
    alert_webhook_url: str | None = None
    alert_email_to: tuple[str, ...] = ()
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "orders_sync@localhost"
    smtp_starttls: bool = False
    progress_interval_s: float = 5.0
    task_timeout_s: float = 4 * 3600.0
    timeout_per_day_s: float = 2.0
    max_mapped_tasks: int = 256
    dagrun_timeout_s: float = 12 * 3600.0
    database_wait_s: float = 120.0

    def __post_init__(self) -> None:
        try:
            pendulum.timezone(self.pipeline_timezone)
        except Exception as exc:  # pendulum raises several types for unknown zones
            raise ConfigurationError(
                f"ORDERS_SYNC_TIMEZONE={self.pipeline_timezone!r} is not a known IANA "
                "timezone name (for example 'Asia/Kolkata')."
            ) from exc
        if not self.env:
            raise ConfigurationError("ORDERS_SYNC_ENV must not be empty.")
        if self.sources not in SOURCE_KINDS:
            raise ConfigurationError(
                f"ORDERS_SYNC_SOURCES={self.sources!r} is not one of: {', '.join(SOURCE_KINDS)}."
            )
        if self.settle_days < 0:
            raise ConfigurationError("ORDERS_SYNC_SETTLE_DAYS must be 0 or more.")
        if self.max_workers < 1:
            raise ConfigurationError("ORDERS_SYNC_MAX_WORKERS must be 1 or more.")
        if self.http_max_attempts < 1:
            raise ConfigurationError("ORDERS_SYNC_HTTP_MAX_ATTEMPTS must be 1 or more.")
        if not 0 < self.smtp_port < 65536:
            raise ConfigurationError(f"ORDERS_SYNC_SMTP_PORT={self.smtp_port} is not a port.")
        if self.task_timeout_s <= 0 or self.dagrun_timeout_s <= 0 or self.timeout_per_day_s < 0:
            raise ConfigurationError(
                "ORDERS_SYNC_TASK_TIMEOUT and ORDERS_SYNC_DAGRUN_TIMEOUT must be positive, "
                "ORDERS_SYNC_TIMEOUT_PER_DAY 0 or more."
            )
        if self.max_mapped_tasks < 1:
            raise ConfigurationError("ORDERS_SYNC_MAX_MAPPED_TASKS must be 1 or more.")
        if self.progress_interval_s <= 0:
            raise ConfigurationError("ORDERS_SYNC_PROGRESS_INTERVAL must be positive.")
        if self.database_wait_s < 0:
            raise ConfigurationError("ORDERS_SYNC_DATABASE_WAIT must be 0 or more.")
        if self.http_timeout_s <= 0:
            raise ConfigurationError("ORDERS_SYNC_HTTP_TIMEOUT must be positive.")

    def endpoint(self, sync_group: str) -> Endpoint:
        """Where the source of ``sync_group`` is reached (all ``None``: not configured).

        Raises:
            ConfigurationError: its request budget variable is not a positive number.
        """
        if sync_group in self.endpoints:
            return self.endpoints[sync_group]
        from orders_sync.sources import registry  # the registry imports the source clients

        source = registry.for_sync_group(sync_group)
        return Endpoint(
            base_url=_opt(self.environ, source.base_url_variable),
            token=_opt(self.environ, source.token_variable),
            max_rps=_positive_float(self.environ, source.max_rps_variable),
        )

    def with_endpoint(self, sync_group: str, endpoint: Endpoint) -> Settings:
        """These settings with ``sync_group``'s source reached at ``endpoint``."""
        return dataclasses.replace(self, endpoints={**self.endpoints, sync_group: endpoint})

    def http_options(self) -> HttpOptions:
        """How the source clients talk to their APIs."""
        return HttpOptions(
            timeout_s=self.http_timeout_s,
            max_attempts=self.http_max_attempts,
            backoff_base_s=self.http_backoff_base_s,
            retry_after_cap_s=self.http_retry_after_cap_s,
            rate_limit_wait_s=self.http_rate_limit_wait_s,
        )

    @property
    def alerts_configured(self) -> bool:
        """Whether any alert channel (webhook, e-mail) is configured."""
        return bool(self.alert_webhook_url or self.alert_email_to)

    def today(self) -> dt.date:
        """Today's date in ``pipeline_timezone`` — never the database's or UTC's date."""
        return today_in(self.pipeline_timezone)

    def now(self) -> dt.datetime:
        """The current instant, aware, in ``pipeline_timezone``."""
        return pendulum.now(self.pipeline_timezone)


def declared_sync_groups() -> tuple[str, ...]:
    """The sync groups of the registered sources, then ``ALL``, from the entry points' names
    alone: no source is imported (the DAG file's ``sync_group`` param, at parse time)."""
    names = sorted({entry.name for entry in entry_points(group=SOURCE_ENTRY_POINTS)})
    return (*names, ALL_GROUPS)


def declared_data_tables() -> tuple[str, ...]:
    """The sources' data tables by name, from the ``orders_sync.data_tables`` entry points'
    names alone: no source is imported (the DAG file's Assets, at parse time)."""
    return tuple(sorted({entry.name for entry in entry_points(group=DATA_TABLE_ENTRY_POINTS)}))


def today_in(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """Today's date in ``timezone`` (``pendulum.today(tz).date()``).

    Args:
        timezone: ``config.pipeline_timezone``.
        now: the instant to read the date at (aware); tests inject one.
    """
    if now is None:
        return pendulum.today(timezone).date()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return pendulum.instance(now).in_timezone(timezone).date()


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not an integer.") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}={raw!r} is not a number.") from exc


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_float(env: Mapping[str, str], name: str) -> float | None:
    raw = _opt(env, name)
    if raw is None:
        return None
    value = _float(env, name, 0.0)
    if not value > 0:
        raise ConfigurationError(f"{name}={raw!r} must be a positive number of requests a second.")
    return value


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build and validate :class:`Settings` from ``env`` (default ``os.environ``).

    Raises:
        ConfigurationError: a variable holds a value that cannot be used.
    """
    env = os.environ if env is None else env
    state_dir = _opt(env, "ORDERS_SYNC_STATE_DIR")
    return Settings(
        database_url=_opt(env, "ORDERS_SYNC_DATABASE_URL"),
        pipeline_timezone=_opt(env, "ORDERS_SYNC_TIMEZONE") or DEFAULT_TIMEZONE,
        env=_opt(env, "ORDERS_SYNC_ENV") or DEFAULT_ENV,
        sources=_opt(env, "ORDERS_SYNC_SOURCES") or SOURCES_HTTP,
        environ=dict(env),
        settle_days=_int(env, "ORDERS_SYNC_SETTLE_DAYS", 0),
        max_workers=_int(env, "ORDERS_SYNC_MAX_WORKERS", 3),
        http_timeout_s=_float(env, "ORDERS_SYNC_HTTP_TIMEOUT", 30.0),
        http_max_attempts=_int(env, "ORDERS_SYNC_HTTP_MAX_ATTEMPTS", 5),
        http_backoff_base_s=_float(env, "ORDERS_SYNC_HTTP_BACKOFF_BASE", 0.5),
        http_retry_after_cap_s=_float(env, "ORDERS_SYNC_HTTP_RETRY_AFTER_CAP", 60.0),
        http_rate_limit_wait_s=_float(env, "ORDERS_SYNC_RATE_LIMIT_WAIT", 900.0),
        state_dir=Path(state_dir) if state_dir else REPOSITORY_ROOT / ".orders_sync",
        alert_webhook_url=_opt(env, "ORDERS_SYNC_ALERT_WEBHOOK_URL"),
        alert_email_to=tuple(
            a.strip()
            for a in (_opt(env, "ORDERS_SYNC_ALERT_EMAIL_TO") or "").split(",")
            if a.strip()
        ),
        smtp_host=_opt(env, "ORDERS_SYNC_SMTP_HOST") or "localhost",
        smtp_port=_int(env, "ORDERS_SYNC_SMTP_PORT", 25),
        smtp_user=_opt(env, "ORDERS_SYNC_SMTP_USER"),
        smtp_password=_opt(env, "ORDERS_SYNC_SMTP_PASSWORD"),
        smtp_from=_opt(env, "ORDERS_SYNC_SMTP_FROM") or "orders_sync@localhost",
        smtp_starttls=(_opt(env, "ORDERS_SYNC_SMTP_STARTTLS") or "").lower()
        in ("1", "true", "yes"),
        progress_interval_s=_float(env, "ORDERS_SYNC_PROGRESS_INTERVAL", 5.0),
        task_timeout_s=_float(env, "ORDERS_SYNC_TASK_TIMEOUT", 4 * 3600.0),
        timeout_per_day_s=_float(env, "ORDERS_SYNC_TIMEOUT_PER_DAY", 2.0),
        max_mapped_tasks=_int(env, "ORDERS_SYNC_MAX_MAPPED_TASKS", 256),
        dagrun_timeout_s=_float(env, "ORDERS_SYNC_DAGRUN_TIMEOUT", 12 * 3600.0),
        database_wait_s=_float(env, "ORDERS_SYNC_DATABASE_WAIT", 120.0),
    )


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, loaded from the environment on first use."""
    global _settings
    if _settings is None:
        _settings = settings_from_env()
    return _settings


def override_settings(settings: Settings | None) -> None:
    """Replace (or with ``None`` forget) the process-wide settings; for front ends and tests."""
    global _settings
    _settings = settings
