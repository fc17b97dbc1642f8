"""A real Airflow 3 on this machine, in one command (``make airflow``), for people and tests.

``python -m orders_sync_devtools.airflow_stack`` (``scripts/airflow_local.sh``):

1. the embedded PostgreSQL, with Airflow's metadata in a database of its own (``airflow``)
   beside the orders database, which is migrated (``alembic upgrade head``) and, when
   ``store_master`` is empty, seeded with the demo stores;
2. one CRM simulator process shared by every task (when ``TD_API_BASE_URL`` /
   ``UC_API_BASE_URL`` are not set);
3. ``airflow db migrate``, then api-server, scheduler (LocalExecutor), dag-processor and
   triggerer, with ``AIRFLOW_HOME`` under ``.orders_sync/airflow`` and this repository's
   ``dags/`` and ``plugins/``;
4. through the REST API: the pool ``orders_sync`` (``ORDERS_SYNC_MAX_WORKERS`` slots), the
   connections ``orders_sync_db``, ``td_crm``, ``uc_crm``, and the DAG unpaused.

It prints the URL and the login, and ``Ctrl-C`` stops every process it started. The
scheduler tests and ``benchmarks/airflow_vs_cli.py`` use :class:`LocalAirflow` directly.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy.engine import make_url

from orders_sync.airflow_support.connections import (
    ORDERS_DB_CONN_ID,
)
from orders_sync.airflow_support.pools import POOL_DESCRIPTION, POOL_NAME
from orders_sync.config import REPOSITORY_ROOT, settings_from_env
from orders_sync.sources import registry
from orders_sync_devtools.airflow_api import AirflowApi

DAG_ID = "orders_sync_run_profiler"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN_USER = "admin"
VIEWER_USER = "viewer"
"""A read-only user (SimpleAuthManager's ``viewer`` role): it may open the coverage page but not
trigger the DAG."""
LOCAL_TD_TOKEN = "local-td-token"
LOCAL_UC_TOKEN = "local-uc-token"
_STARTUP_TIMEOUT_S = 180.0
_STOP_TIMEOUT_S = 20.0
MAX_RESTARTS = 5
RESTART_WINDOW_S = 600.0
"""A component restarted this many times within this window is in a crash loop: the stack
stops with its log instead of restarting it again."""
# Inherited variables that the stack sets itself (connections win over them anyway).
_NOT_INHERITED = (
    "AIRFLOW_HOME",
    "ORDERS_SYNC_DATABASE_URL",
    "TD_API_BASE_URL",
    "TD_API_TOKEN",
    "UC_API_BASE_URL",
    "UC_API_TOKEN",
)


class StackError(RuntimeError):
    """The local Airflow could not be started; the message names the log to read."""


SCHEDULER_IDLE_SLEEP_S = "0.2"
"""``[scheduler] scheduler_idle_sleep_time`` of the stack (Airflow's default: 1 s)."""


@dataclasses.dataclass(frozen=True)
class StackOptions:
    """How to run the local Airflow.

    Attributes:
        airflow_home: ``AIRFLOW_HOME`` (config, logs, generated secrets).
        state_dir: the embedded PostgreSQL's state dir (metadata database lives there).
        metadata_database: the database of Airflow's metadata on that server.
        orders_database_url: the orders database; ``None``: the embedded ``orders_sync``.
        api_port: the api-server's port; 0 picks a free one.
        max_workers: slots of the pool ``orders_sync``.
        components: the Airflow processes to run.
        simulator: start one CRM simulator when no CRM URL is configured.
        seed_demo_stores: seed the demo stores into an empty ``store_master``.
        unpause: unpause the DAG once parsed (its schedule then starts a run).
        durable: ``False`` turns fsync off on a server this stack starts (tests).
        example_dags: also load ``orders_sync_devtools/example_dags/`` (a downstream DAG on
            the Assets).
        celery_workers: 0 for the LocalExecutor; N for the CeleryExecutor with a
            ``redis-server`` broker (Debian's) and N ``airflow celery worker`` processes.
        worker_concurrency: task slots of each Celery worker.
        extra_env: more variables for every Airflow process (overrides).
    """

    airflow_home: Path
    state_dir: Path
    metadata_database: str = "airflow"
    orders_database_url: str | None = None
    api_port: int = 8080
    max_workers: int = 3
    components: tuple[str, ...] = COMPONENTS
    simulator: bool = True
    seed_demo_stores: bool = True
    unpause: bool = True
    durable: bool = True
    example_dags: bool = False
    celery_workers: int = 0
    worker_concurrency: int = 2
    extra_env: Mapping[str, str] = dataclasses.field(default_factory=dict)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def _wait_until(check: Any, timeout_s: float, what: str, poll_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise StackError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)


@dataclasses.dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]
    command: list[str]
    env: dict[str, str]
    restarts: list[float] = dataclasses.field(default_factory=list)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class LocalAirflow:
    """The local Airflow stack; a context manager that stops what it started.

    Attributes (after :meth:`start`):
        api_url: ``http://127.0.0.1:<port>``.
        api: an authenticated :class:`AirflowApi`.
        password: the ``admin`` password.
        metadata_url: SQLAlchemy URL of Airflow's metadata database.
        orders_url: SQLAlchemy URL of the orders database.
        simulator_url: the CRM simulator's base URL, or ``None``.
        env: the environment of every Airflow process.
    """

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.processes: list[_Process] = []
        self.api_url = ""
        self.password = ""
        self.viewer_password = ""
        self.metadata_url = ""
        self.orders_url = ""
        self.simulator_url: str | None = None
        self.broker_url = ""
        self.env: dict[str, str] = {}
        self._api: AirflowApi | None = None
        self._started_database = False

    @property
    def api(self) -> AirflowApi:
        """The authenticated REST client."""
        if self._api is None:
            raise StackError("the stack is not started")
        return self._api

    @property
    def logs_dir(self) -> Path:
        """Where each process writes ``<name>.log``."""
        return self.options.airflow_home / "logs"

    def __enter__(self) -> LocalAirflow:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- start ---------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the databases, start every process, create pool and connections."""
        from orders_sync_devtools import embedded_postgres as embedded

        options = self.options
        options.airflow_home.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        # A server already running (make run, the tests' server) is shared: leave it running.
        self._started_database = embedded.running_server(options.state_dir) is None
        server = embedded.ensure_running(options.state_dir, durable=options.durable)
        if not self._secrets_path.exists():
            # Connections in an older metadata database are encrypted with a Fernet key that
            # went with the old AIRFLOW_HOME: start both afresh, together.
            self._drop_metadata_database(server)
        embedded.create_database(server, options.metadata_database)
        self.metadata_url = server.url(options.metadata_database, driver="postgresql+psycopg2")
        self.orders_url = options.orders_database_url or server.url(embedded.APP_DATABASE)
        self._prepare_orders_database()

        port = options.api_port or free_port()
        if _port_taken(port):
            port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self.password = self._local_secrets()["admin_password"]
        self.viewer_password = self._local_secrets()["viewer_password"]
        if options.celery_workers:
            self._start_broker()
        self.env = self._airflow_env()
        if options.simulator and not self._crm_configured():
            self._start_simulator()

        self._run_airflow(["db", "migrate"], "db-migrate")
        for component in options.components:
            args = [component]
            if component == "api-server":
                args += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
            self._spawn(component, [self._airflow_bin(), *args], self.env)
        for index in range(1, options.celery_workers + 1):
            worker_env = dict(self.env, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()))
            self._spawn(
                f"celery-worker-{index}",
                [self._airflow_bin(), "celery", "worker",
                 "--concurrency", str(options.worker_concurrency),
                 "--celery-hostname", f"worker{index}@%h", "--without-mingle",
                 "--without-gossip"],
                worker_env,
            )  # fmt: skip
        self._api = AirflowApi(self.api_url, ADMIN_USER, self.password)
        _wait_until(self._healthy_or_raise, _STARTUP_TIMEOUT_S, "the api-server")
        self.api.upsert_pool(POOL_NAME, options.max_workers, POOL_DESCRIPTION)
        self.api.upsert_connections(self.connections())
        if "dag-processor" in options.components:
            self.wait_for_dag()
            if options.unpause:
                self.api.set_paused(DAG_ID, False)

    def _prepare_orders_database(self) -> None:
        from orders_sync.config import Settings
        from orders_sync.db.engine import dispose_engines
        from orders_sync.db.migrate import upgrade

        upgrade(self.orders_url)
        if self.options.seed_demo_stores:
            from orders_sync_devtools.demo import seed_demo_stores

            seed_demo_stores(Settings(database_url=self.orders_url))
        dispose_engines()

    @property
    def _secrets_path(self) -> Path:
        return self.options.airflow_home / "local_secrets.json"

    def _drop_metadata_database(self, server: Any) -> None:
        import psycopg

        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.options.metadata_database}" WITH (FORCE)')

    def _local_secrets(self) -> dict[str, str]:
        """Secrets generated once per ``AIRFLOW_HOME`` (stable across restarts)."""
        path = self._secrets_path
        if path.exists():
            stored: dict[str, str] = json.loads(path.read_text())
            if "viewer_password" not in stored:  # a home from before the viewer user
                stored["viewer_password"] = secrets.token_urlsafe(12)
                path.write_text(json.dumps(stored, indent=2) + "\n")
            return stored
        from cryptography.fernet import Fernet

        values = {
            "viewer_password": secrets.token_urlsafe(12),
            "admin_password": secrets.token_urlsafe(12),
            "jwt_secret": secrets.token_urlsafe(32),
            "api_secret_key": secrets.token_urlsafe(32),
            "fernet_key": Fernet.generate_key().decode(),
        }
        path.write_text(json.dumps(values, indent=2) + "\n")
        path.chmod(0o600)
        return values

    def _airflow_env(self) -> dict[str, str]:
        options = self.options
        local = self._local_secrets()
        passwords = options.airflow_home / "simple_auth_manager_passwords.json"
        passwords.write_text(
            json.dumps({ADMIN_USER: local["admin_password"], VIEWER_USER: local["viewer_password"]})
            + "\n"
        )
        passwords.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        pythonpath = [str(REPOSITORY_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        env.update(
            {
                "AIRFLOW_HOME": str(options.airflow_home),
                "PYTHONPATH": os.pathsep.join(pythonpath),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self._dags_folder()),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPOSITORY_ROOT / "plugins"),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": str(max(8, options.max_workers + 4)),
                "AIRFLOW__CORE__FERNET_KEY": local["fernet_key"],
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": (
                    f"{ADMIN_USER}:admin,{VIEWER_USER}:viewer"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
                "AIRFLOW__API__BASE_URL": self.api_url,
                "AIRFLOW__API__SECRET_KEY": local["api_secret_key"],
                "AIRFLOW__API_AUTH__JWT_SECRET": local["jwt_secret"],
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.logs_dir),
                # The log servers of workers and triggerer listen on fixed ports by default;
                # free ones let two stacks (tests, a benchmark, make airflow) coexist.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                # Its health server would take the fixed port 8974 (the REST API says enough).
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                # as airflow.cfg.sample and docker-compose.yaml: the next task of a run is
                # queued within 0.2 s of its upstream ending, not up to 1 s later
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": SCHEDULER_IDLE_SLEEP_S,
                # After a scheduler restart its predecessor's running tasks are reset (and
                # retried) once found orphaned: check every 30 s, not Airflow's 300 s; a task
                # whose supervisor died is failed (and retried) after 60 s without a heartbeat,
                # not 300 s. README "Crash recovery" says what a deployment sees with defaults.
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "30",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
                "ORDERS_SYNC_MAX_WORKERS": str(options.max_workers),
                "ORDERS_SYNC_STATE_DIR": str(options.state_dir),
            }
        )
        if options.celery_workers:
            result_backend = "db+" + self.metadata_url.replace("postgresql+psycopg2", "postgresql")
            env.update(
                {
                    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                    "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(options.worker_concurrency),
                }
            )
        env.update(options.extra_env)
        env.setdefault("AIRFLOW__CORE__DEFAULT_TIMEZONE", settings_from_env(env).pipeline_timezone)
        return env

    def _dags_folder(self) -> Path:
        """The repository's ``dags/``, or with ``example_dags`` a folder linking it and the
        examples (Airflow reads one DAGs folder)."""
        if not self.options.example_dags:
            return REPOSITORY_ROOT / "dags"
        folder = self.options.airflow_home / "dags"
        folder.mkdir(parents=True, exist_ok=True)
        sources = [*(REPOSITORY_ROOT / "dags").glob("*.py")]
        sources += [*(REPOSITORY_ROOT / "orders_sync_devtools" / "example_dags").glob("*.py")]
        for source in sources:
            link = folder / source.name
            if not link.exists():
                link.symlink_to(source)
        return folder

    def _start_broker(self) -> None:
        """Debian's ``redis-server`` on a free loopback port, nothing persisted."""
        redis = shutil.which("redis-server")
        if redis is None:
            raise StackError("the CeleryExecutor needs redis-server (apt-get install redis-server)")
        port = free_port()
        self._spawn(
            "redis",
            [redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--dir", str(self.options.airflow_home)],
            os.environ,
        )  # fmt: skip
        self.broker_url = f"redis://127.0.0.1:{port}/0"

        def up() -> bool:
            self._raise_if_dead()
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            return False

        _wait_until(up, 30, "redis-server")

    def _crm_configured(self) -> bool:
        return bool(os.environ.get("TD_API_BASE_URL") and os.environ.get("UC_API_BASE_URL"))

    def _start_simulator(self) -> None:
        port = free_port()
        env = dict(self.env, TD_API_TOKEN=LOCAL_TD_TOKEN, UC_API_TOKEN=LOCAL_UC_TOKEN)
        command = [sys.executable, "-m", "orders_sync_devtools.simulator", "--port", str(port)]
        self._spawn("simulator", command, env)
        self.simulator_url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            self._raise_if_dead()
            with contextlib.suppress(httpx.HTTPError):
                return httpx.get(f"{self.simulator_url}/_sim/health", timeout=2).status_code == 200
            return False

        _wait_until(up, 60, "the CRM simulator")

    def connections(self) -> list[dict[str, Any]]:
        """The connections this stack creates (the orders DB, and the CRMs when known)."""
        connections = [orders_db_connection(self.orders_url)]
        local_tokens = {"TD": LOCAL_TD_TOKEN, "UC": LOCAL_UC_TOKEN}  # what the simulator serves
        for source in registry.sources():
            simulated = self.simulator_url and source.sync_group in local_tokens
            base_url = self.simulator_url if simulated else os.environ.get(source.base_url_variable)
            token = (
                local_tokens[source.sync_group]
                if simulated
                else os.environ.get(source.token_variable)
            )
            if base_url:
                connections.append(
                    {
                        "connection_id": source.connection_id,
                        "conn_type": "http",
                        "description": f"orders_sync: {source.title}",
                        "host": base_url,
                        "password": token,
                    }
                )
        return connections

    def use_orders_database(self, url: str) -> None:
        """Point the ``orders_sync_db`` connection at ``url`` (tasks read it when they start)."""
        self.orders_url = url
        self.api.upsert_connections([orders_db_connection(url)])

    def _airflow_bin(self) -> str:
        return str(Path(sys.executable).with_name("airflow"))

    def _run_airflow(self, args: list[str], name: str) -> None:
        log_path = self.logs_dir / f"{name}.log"
        with open(log_path, "wb") as log_file:
            done = subprocess.run(
                [self._airflow_bin(), *args],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=_STARTUP_TIMEOUT_S,
                check=False,
            )
        if done.returncode != 0:
            raise StackError(f"`airflow {' '.join(args)}` failed; see {log_path}")

    def _spawn(self, name: str, command: list[str], env: Mapping[str, str]) -> None:
        log_path = self.logs_dir / f"{name}.log"
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        popen = self._popen(command, env, log_file)
        self.processes.append(_Process(name, popen, log_path, log_file, command, dict(env)))
        self._write_pids()

    @staticmethod
    def _popen(
        command: list[str], env: Mapping[str, str], log_file: IO[bytes]
    ) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            command,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # its own session: Ctrl-C reaches us only, we stop the children in order, and
            # everything a component started (LocalExecutor workers, task supervisors, task
            # processes in their own process groups) is found by its session id
            start_new_session=True,
        )

    @property
    def pids_path(self) -> Path:
        """``{component: pid}`` of the running components (JSON), rewritten on each (re)start."""
        return self.options.airflow_home / "components.json"

    def _write_pids(self) -> None:
        pids = {p.name: p.popen.pid for p in self.processes}
        self.pids_path.write_text(json.dumps(pids, indent=2) + "\n")

    def supervise(self, say: Any = print) -> None:
        """Restart what died: a component (after killing whatever it left in its session) and
        the embedded database the stack started (on its port). A component that died
        :data:`MAX_RESTARTS` times within :data:`RESTART_WINDOW_S` is a crash loop:

        Raises:
            StackError: a crash loop, or the database could not be restarted.
        """
        self._restart_database_if_down(say)
        for process in self.processes:
            code = process.popen.poll()
            if code is None:
                continue
            now = time.monotonic()
            process.restarts = [t for t in process.restarts if now - t < RESTART_WINDOW_S]
            if len(process.restarts) >= MAX_RESTARTS:
                raise StackError(
                    f"{process.name} exited with status {code} {MAX_RESTARTS} times within "
                    f"{RESTART_WINDOW_S:.0f} s; see {process.log_path}:\n{process.tail()}"
                )
            orphans = kill_session(process.popen.pid)
            process.restarts.append(now)
            process.popen = self._popen(process.command, process.env, process.log_file)
            self._write_pids()
            say(
                f"{process.name} exited with status {code}; restarted it "
                f"(pid {process.popen.pid}; {orphans} leftover process(es) of it killed)",
                flush=True,
            )

    def _restart_database_if_down(self, say: Any) -> None:
        if not self._started_database:
            return
        from orders_sync_devtools import embedded_postgres as embedded

        if embedded.running_server(self.options.state_dir) is not None:
            return
        server = embedded.ensure_running(self.options.state_dir)
        say(f"the embedded PostgreSQL was down; restarted it on port {server.port}", flush=True)

    def _raise_if_dead(self) -> None:
        for process in self.processes:
            code = process.popen.poll()
            if code is not None:
                raise StackError(
                    f"{process.name} exited with status {code}; see {process.log_path}:\n"
                    f"{process.tail()}"
                )

    def _healthy_or_raise(self) -> bool:
        self._raise_if_dead()
        return self.api.healthy()

    def wait_for_dag(self, timeout_s: float = _STARTUP_TIMEOUT_S) -> dict[str, Any]:
        """Wait until the dag-processor has parsed the DAG; raise on its import error."""

        def parsed() -> dict[str, Any] | None:
            self._raise_if_dead()
            for error in self.api.import_errors():
                if "orders_sync" in str(error.get("filename", "")):
                    raise StackError(f"the DAG failed to import:\n{error.get('stack_trace')}")
            return self.api.get_dag(DAG_ID)

        dag: dict[str, Any] = _wait_until(parsed, timeout_s, f"the DAG {DAG_ID} to be parsed")
        return dag

    def check_alive(self) -> None:
        """Raise :class:`StackError` if a process of the stack died."""
        self._raise_if_dead()

    # --- stop ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every process this stack started (scheduler first), and the database if it did."""
        if self._api is not None:
            self._api.close()
            self._api = None
        order = {"scheduler": 0, "triggerer": 1, "dag-processor": 2, "api-server": 3, "redis": 99}
        running = sorted(self.processes, key=lambda p: order.get(p.name, 9))
        for process in running:
            if process.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        for process in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            # stragglers of its session: workers, task supervisors, task processes in their
            # own process groups (a task process ignores SIGTERM while it syncs a window)
            kill_session(process.popen.pid)
            process.popen.wait()
            process.log_file.close()
        self.processes.clear()
        if self._started_database:
            from orders_sync.db.engine import dispose_engines
            from orders_sync_devtools import embedded_postgres as embedded

            dispose_engines()
            embedded.stop(self.options.state_dir)
            self._started_database = False


def kill_session(leader: int) -> int:
    """SIGKILL every live process of the session ``leader`` started (``start_new_session``),
    the leader too, until none is left (a process killed while forking leaves a child the
    first pass did not see); returns how many were killed."""
    import psutil

    def live_members() -> list[psutil.Process]:
        members = []
        for proc in psutil.process_iter():
            try:
                if (
                    proc.pid != os.getpid()
                    and os.getsid(proc.pid) == leader
                    and proc.status() != psutil.STATUS_ZOMBIE
                ):
                    members.append(proc)
            except (psutil.Error, ProcessLookupError, PermissionError):
                continue
        return members

    killed = 0
    for _ in range(50):
        members = live_members()
        if not members:
            break
        for proc in members:
            with contextlib.suppress(psutil.Error):
                proc.kill()
                killed += 1
        time.sleep(0.05)
    return killed


def orders_db_connection(url: str) -> dict[str, Any]:
    """The ``orders_sync_db`` connection (REST API body) of a PostgreSQL URL."""
    parsed = make_url(url)
    return {
        "connection_id": ORDERS_DB_CONN_ID,
        "conn_type": "postgres",
        "description": "orders_sync: the orders database",
        "host": parsed.host,
        "port": parsed.port,
        "login": parsed.username,
        "password": parsed.password,
        "schema": parsed.database,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow_local.sh",
        description="Run a real local Airflow 3 (api-server, scheduler, dag-processor, "
        "triggerer; LocalExecutor; metadata on the embedded PostgreSQL) with the "
        "orders_sync DAG, its pool and connections. Ctrl-C stops everything.",
    )
    parser.add_argument("--port", type=int, default=8080, help="api-server port (default 8080)")
    parser.add_argument(
        "--max-workers",
        type=int,
        default=None,
        help="slots of the pool orders_sync (default ORDERS_SYNC_MAX_WORKERS or 3)",
    )
    parser.add_argument("--paused", action="store_true", help="leave the DAG paused")
    parser.add_argument(
        "--no-seed", action="store_true", help="do not seed demo stores into an empty store_master"
    )
    parser.add_argument(
        "--no-examples",
        action="store_true",
        help="do not load orders_sync_devtools/example_dags (the downstream DAG on the Assets)",
    )
    return parser


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[int]]:
    received: list[int] = []

    def handle(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, print how to reach it, wait for Ctrl-C; returns the exit status."""
    args = _parser().parse_args(argv)
    from orders_sync.exceptions import OrdersSyncError

    try:
        settings = settings_from_env()
        options = StackOptions(
            airflow_home=settings.state_dir / "airflow",
            state_dir=settings.state_dir,
            orders_database_url=settings.database_url,
            api_port=args.port,
            max_workers=args.max_workers or settings.max_workers,
            seed_demo_stores=not args.no_seed,
            unpause=not args.paused,
            example_dags=not args.no_examples,
        )
    except OrdersSyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stack = LocalAirflow(options)
    print("starting Airflow (embedded PostgreSQL, db migrate, 4 processes) ...", flush=True)
    with _stop_signals() as received:
        try:
            stack.start()
        except (StackError, OrdersSyncError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            stack.stop()
            return 1
        except BaseException:
            stack.stop()
            raise
        _print_banner(stack)
        try:
            while not received:
                stack.supervise()
                time.sleep(1.0)
        except StackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        finally:
            print("stopping Airflow ...", flush=True)
            stack.stop()
    return 0


def _print_banner(stack: LocalAirflow) -> None:
    from orders_sync.airflow_support.dag_config import dag_config_from_env
    from orders_sync.db.engine import describe_url

    config = dag_config_from_env(stack.env)
    schedule = f"cron '{config.schedule}' in {config.timezone}" if config.schedule else "manual"
    crm = stack.simulator_url or "TD_API_BASE_URL / UC_API_BASE_URL"
    state = "paused" if not stack.options.unpause else "unpaused"
    print(
        f"""
Airflow is up.
  UI / API     {stack.api_url}      login: {ADMIN_USER} / {stack.password}
               read-only login: {VIEWER_USER} / {stack.viewer_password}
  DAG          {DAG_ID} ({state}; {schedule})
  pool         {POOL_NAME}: {stack.options.max_workers} slots
  connections  {ORDERS_DB_CONN_ID} -> {describe_url(stack.orders_url)}
               {", ".join(s.connection_id for s in registry.sources())} -> {crm}
  metadata     {describe_url(stack.metadata_url)}
  logs         {stack.logs_dir}/<component>.log
Trigger with conf: {stack.api_url}/dags/{DAG_ID}/trigger   (Ctrl-C stops everything)
""",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
