"""The embedded PostgreSQL keeps its port across a stop and a crash: the URLs Airflow and its
connections hold stay valid when the local stack restarts it (issue 22)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from orders_sync_devtools import embedded_postgres as embedded


def test_a_stopped_or_crashed_server_comes_back_on_its_port(tmp_path: Path) -> None:
    first = embedded.ensure_running(tmp_path, durable=False)
    try:
        assert embedded.stop(tmp_path)
        again = embedded.ensure_running(tmp_path, durable=False)
        assert again.port == first.port
        pid = int((again.pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)  # a crash: no clean shutdown, a stale postmaster.pid
        assert embedded.running_server(tmp_path) is None
        after_crash = embedded.ensure_running(tmp_path, durable=False)
        assert after_crash.port == first.port
    finally:
        embedded.stop(tmp_path)
