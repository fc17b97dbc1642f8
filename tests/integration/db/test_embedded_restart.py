"""The embedded PostgreSQL keeps its port across a stop and a crash: the URLs Airflow and its
connections hold stay valid when the local stack restarts it (issue 22)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

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


def test_the_local_stack_restarts_a_dead_component_and_its_database(tmp_path: Path) -> None:
    """``make airflow``'s supervision without Airflow: a component that exits is restarted,
    a crash loop stops the stack with its log, and the stack's own database, stopped under
    it, comes back on its port."""
    from orders_sync_devtools.airflow_stack import (
        MAX_RESTARTS,
        LocalAirflow,
        StackError,
        StackOptions,
    )

    stack = LocalAirflow(StackOptions(airflow_home=tmp_path / "home", state_dir=tmp_path))
    stack.logs_dir.mkdir(parents=True)
    server = embedded.ensure_running(tmp_path, durable=False)
    stack._started_database = True  # as start() does when it started the server
    said: list[str] = []
    try:
        stack._spawn("flaky", ["sh", "-c", "echo started; exit 3"], dict(os.environ))
        first = stack.processes[0].popen.pid
        stack.processes[0].popen.wait()
        stack.supervise(lambda text, **_: said.append(text))
        assert said == [said[0]] and said[0].startswith("flaky exited with status 3; restarted")
        assert stack.processes[0].popen.pid != first
        assert (stack.logs_dir / "flaky.log").read_text().count("started") >= 1

        embedded.stop(tmp_path)  # the database dies under the stack
        for _ in range(MAX_RESTARTS - 1):
            stack.processes[0].popen.wait()
            stack.supervise(lambda text, **_: said.append(text))
        assert any(f"restarted it on port {server.port}" in line for line in said)
        assert embedded.running_server(tmp_path) is not None
        stack.processes[0].popen.wait()
        with pytest.raises(StackError, match=f"exited with status 3 {MAX_RESTARTS} times"):
            stack.supervise(lambda text, **_: said.append(text))  # a crash loop: no more
    finally:
        stack.stop()
        embedded.stop(tmp_path)
