"""Command-line plumbing shared by the standalone pipeline commands and the profiler.

- :class:`CommandParser`: an ``argparse`` parser whose errors are one line
  ``error: ...`` on stderr and exit status 2 (no usage dump);
- :func:`parse_date`: the ``type=`` of every date flag (``YYYY-MM-DD``);
- :func:`add_common_arguments`: ``--env`` and ``--log-format``;
- :func:`configure_logging`: human lines on a terminal, JSON lines otherwise;
- :func:`command_settings`: the process settings, with the command line's default database
  (the embedded PostgreSQL under ``.orders_sync/``) when ``ORDERS_SYNC_DATABASE_URL`` is unset;
- :func:`run_main`: exit statuses — 2 for usage/configuration/unreachable database, 130 for
  Ctrl-C, 1 for anything unexpected (traceback only with ``ORDERS_SYNC_DEBUG=1``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any, NoReturn

import sqlalchemy as sa

from orders_sync.config import Settings, get_settings, override_settings
from orders_sync.domain import MAX_ENV_CHARS
from orders_sync.exceptions import ConfigurationError, DatabaseLost, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

LOG_FORMATS = ("auto", "json", "text")
DEBUG_VARIABLE = "ORDERS_SYNC_DEBUG"

# Fields a log record may carry (``extra=``) that the JSON lines always show by name.
LOG_FIELDS = (
    "run_id",
    "pipeline",
    "store_code",
    "from_date",
    "to_date",
    "status",
    "duration_ms",
    "rows_fetched",
    "rows_inserted",
    "rows_updated",
    "error_message",
    "overall_status",
    "summary_text",
    "windows_done",
    "windows_planned",
    "elapsed_s",
    "eta_s",
)


def error_line(message: object) -> str:
    """``error: <message>`` on one line (newlines in the message become spaces)."""
    return "error: " + " ".join(str(message).split())


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: <message>`` (no usage) and exit 2."""
        print(error_line(message), file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def parse_date(text: str) -> dt.date:
    """``YYYY-MM-DD`` → ``date``, for ``argparse`` ``type=``.

    Raises:
        argparse.ArgumentTypeError: not a real calendar date in that form.
    """
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {text!r}: expected a calendar date as YYYY-MM-DD"
        ) from None


def add_common_arguments(
    parser: argparse.ArgumentParser, *, default_env: str | None = None
) -> None:
    """Add ``--env`` and ``--log-format`` to ``parser``.

    Args:
        parser: the command's parser.
        default_env: the default of ``--env``; ``None`` leaves ``args.env`` as ``None`` so
            the command falls back on ``Settings.env`` (``ORDERS_SYNC_ENV``) once settings
            are loaded — see :func:`resolve_env`.
    """
    parser.add_argument(
        "--env",
        default=default_env,
        help="run_env recorded with the run (default: ORDERS_SYNC_ENV, else 'dev')",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="auto",
        help="text on a terminal, JSON lines otherwise (default: auto)",
    )


def resolve_env(env_flag: str | None, settings_env: str) -> str:
    """``--env`` if given, else ``Settings.env``.

    Raises:
        UsageError: ``--env`` is empty or longer than ``run_env``'s 32 characters.
    """
    env = settings_env if env_flag is None else env_flag.strip()
    if not env:
        raise UsageError("--env must not be empty.")
    if len(env) > MAX_ENV_CHARS:
        raise UsageError(f"--env must be at most {MAX_ENV_CHARS} characters, got {env!r}.")
    return env


def command_settings(settings: Settings | None = None) -> Settings:
    """The settings of a command-line process (default: the process's), made process-wide.

    The command line's documented default database is the embedded PostgreSQL kept under
    ``Settings.state_dir`` (``.orders_sync/``): it is started here, at the edge, when
    ``ORDERS_SYNC_DATABASE_URL`` is unset. Nowhere else starts a database.

    Raises:
        ConfigurationError: no URL is set and this installation has no embedded PostgreSQL,
            or it could not start (``DatabaseUnavailableError``).
    """
    settings = settings or get_settings()
    if settings.database_url is None:
        try:
            from orders_sync_devtools import embedded_postgres
        except ImportError as exc:  # an image built without the development tools
            raise ConfigurationError(
                "ORDERS_SYNC_DATABASE_URL is not set, and this installation has no embedded "
                "PostgreSQL to use instead."
            ) from exc
        server = embedded_postgres.ensure_running(settings.state_dir)
        settings = dataclasses.replace(settings, database_url=server.url())
    override_settings(settings)
    return settings


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the known fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in LOG_FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                payload[field] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """``HH:MM:SS level message`` — for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(message)s", datefmt="%H:%M:%S")


def resolve_log_format(log_format: str, stream: IO[str]) -> str:
    """``json`` or ``text``: ``auto`` means text on a TTY, JSON lines otherwise."""
    if log_format != "auto":
        return log_format
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty is not None and isatty() else "json"


def configure_logging(
    log_format: str = "auto", *, stream: IO[str] | None = None, level: int = logging.INFO
) -> str:
    """Send orders_sync's log records to ``stream`` (default stderr) in the chosen format.

    Idempotent: a second call replaces the handler of the first.

    Returns:
        The format used: ``json`` or ``text``.
    """
    stream = stream if stream is not None else sys.stderr
    chosen = resolve_log_format(log_format, stream)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter() if chosen == "json" else TextFormatter())
    handler.set_name("orders_sync.cli")
    root = logging.getLogger("orders_sync")
    for old in [h for h in root.handlers if h.get_name() == "orders_sync.cli"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    return chosen


_PRIVILEGE = "42501"
_UNDEFINED = ("42P01", "42883", "3F000")  # table, function, schema


def describe_database_error(exc: sa.exc.DBAPIError) -> tuple[str, int]:
    """One sentence for a database error a user can cause, and its exit status: a missing
    privilege or table is configuration (2), anything else a failure (1). The statement and
    its parameters are never part of it (``ORDERS_SYNC_DEBUG=1`` prints the traceback)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or " ".join(str(orig or exc).split())
    state = getattr(orig, "sqlstate", None)
    if state == _PRIVILEGE:
        return (
            f"the orders database refused: {primary}; the role needs the grants of the "
            "README, 'Preparing the database' (scripts/orders_sync_check.sh lists what is "
            "missing).",
            EXIT_USAGE,
        )
    if state in _UNDEFINED:
        return (
            f"the orders database lacks part of the orders_sync schema ({primary}): run the "
            "migrations (orders-sync db upgrade, or alembic upgrade head).",
            EXIT_USAGE,
        )
    return f"the orders database failed: {type(orig or exc).__name__}: {primary}", EXIT_FAILED


def run_main(fn: Callable[[], int]) -> int:
    """Call a command's body and turn what escapes it into an exit status.

    - :class:`UsageError`, :class:`ConfigurationError` (including
      ``DatabaseUnavailableError``): ``error: ...`` on stderr, 2;
    - :class:`DatabaseLost` (the database went away mid-run and did not come back in time):
      ``error: ...``, 1;
    - ``SystemExit`` (argparse's ``--help`` and flag errors): its code;
    - ``KeyboardInterrupt``: ``error: interrupted``, 130;
    - anything else: ``error: <Class>: <message>``, 1 (with the traceback when
      ``ORDERS_SYNC_DEBUG=1``).

    Returns:
        ``fn()``'s own status when it returns.
    """
    try:
        return fn()
    except SystemExit as exc:  # argparse: --help (0) or a bad flag (2, already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (UsageError, ConfigurationError) as exc:
        print(error_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except DatabaseLost as exc:  # mid-run: the run started, it could not finish
        print(error_line(exc), file=sys.stderr)
        return EXIT_FAILED
    except sa.exc.DBAPIError as exc:  # one line: the server's sentence, never the SQL
        message, status = describe_database_error(exc)
        if os.environ.get(DEBUG_VARIABLE, "").strip() == "1":
            traceback.print_exc(file=sys.stderr)
        print(error_line(message), file=sys.stderr)
        return status
    except KeyboardInterrupt:
        print(error_line("interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE, "").strip() == "1":
            traceback.print_exc(file=sys.stderr)
        print(
            error_line(f"{type(exc).__name__}: {exc}")
            + f" (set {DEBUG_VARIABLE}=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
