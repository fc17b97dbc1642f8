"""A task process whose supervisor is gone starts no new window."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from orders_sync.config import REPOSITORY_ROOT

# The "task": watches its parent, says when it would stop, exits.
TASK = textwrap.dedent(
    """
    import sys, threading
    from orders_sync.airflow_support import batch_runner
    batch_runner.SUPERVISOR_CHECK_S = 0.05
    stop = threading.Event()
    with batch_runner.stop_without_supervisor(stop):
        print("watching", flush=True)
        stopped = stop.wait(20)
    print("stopped" if stopped else "never stopped", flush=True)
    """
)
# The "supervisor": starts the task, then waits forever (until killed).
SUPERVISOR = textwrap.dedent(
    """
    import subprocess, sys, time
    with open(sys.argv[2], "w") as out:
        task = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=out)
    print(task.pid, flush=True)
    time.sleep(60)
    """
)


def _wait_for(path: Path, text: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        content = path.read_text()
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared: {path.read_text()!r}")


def test_a_task_whose_supervisor_died_stops(tmp_path: Path) -> None:
    out = tmp_path / "task.out"
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)}
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, TASK, str(out)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert supervisor.stdout is not None
    task_pid = int(supervisor.stdout.readline())
    try:
        _wait_for(out, "watching")
        assert "stopped" not in out.read_text()
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(10)
        assert _wait_for(out, "stopped").splitlines()[-1] == "stopped"
    finally:
        supervisor.kill()
        supervisor.stdout.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(task_pid, signal.SIGKILL)
