"""Debian's PostgreSQL 15 for the test suite's second major (``make test``):

    python -m orders_sync_devtools.pg15 -- COMMAND [ARGS ...]

starts a throwaway cluster (``initdb`` + ``pg_ctl`` of ``/usr/lib/postgresql/15``, run as the
``postgres`` user when started as root, trust auth on a free loopback port), runs COMMAND with
``ORDERS_SYNC_TEST_DATABASE_URL`` pointing at it (the tests' admin connection: they create their
own databases and, for the end-to-end tests of a provisioned database, a non-superuser role),
then stops it and deletes its data. Exits with COMMAND's status.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("ORDERS_SYNC_PG15_BIN", "/usr/lib/postgresql/15/bin"))


def _as_owner(args: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *args] if owner else args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    """Run ``argv`` (after ``--``) against a fresh PostgreSQL 15; its exit status."""
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: python -m orders_sync_devtools.pg15 -- COMMAND [ARGS ...]", file=sys.stderr)
        return 2
    if not (BIN / "initdb").exists():
        print(f"error: no PostgreSQL 15 in {BIN} (apt-get install postgresql-15)", file=sys.stderr)
        return 2
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="orders_sync_pg15_"))
    data = root / "data"
    port = _free_port()
    if owner:
        shutil.chown(root, owner)
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(  # noqa: S603 - our own binaries
        _as_owner([str(BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                   "--encoding=UTF8", "--no-instructions"], owner),
        **run,  # type: ignore[call-overload]
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' " \
              "-c max_connections=200 -c fsync=off -c synchronous_commit=off"  # fmt: skip
    subprocess.run(
        _as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "server.log"),
                   "-o", options, "start"], owner),
        **run,  # type: ignore[call-overload]
    )  # fmt: skip
    try:
        env = dict(os.environ)
        env["ORDERS_SYNC_TEST_DATABASE_URL"] = (
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        )
        print(f"== PostgreSQL 15 at 127.0.0.1:{port}: {' '.join(argv)}", flush=True)
        return subprocess.run(argv, env=env, check=False).returncode
    finally:
        subprocess.run(
            _as_owner([str(BIN / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"], owner),
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
