"""The profiler's command line as a real process, with the environment a test gives it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from orders_sync.config import REPOSITORY_ROOT

PYTHON = str(REPOSITORY_ROOT / ".venv" / "bin" / "python")
if not os.path.exists(PYTHON):  # a CI image without the project's venv
    PYTHON = sys.executable
MODULE = ("-m", "orders_sync.run_profiler.main")
WRAPPER = str(REPOSITORY_ROOT / "scripts" / "orders_sync_run_profiler.sh")
TIMEOUT_S = 90.0

# Variables of the developer's shell that would leak into the child and change its behaviour.
_SCRUBBED = (
    "ORDERS_SYNC_DATABASE_URL",
    "ORDERS_SYNC_TIMEZONE",
    "ORDERS_SYNC_ENV",
    "ORDERS_SYNC_SETTLE_DAYS",
    "ORDERS_SYNC_DEBUG",
    "ORDERS_SYNC_SOURCES",
    "ORDERS_SYNC_ALERT_WEBHOOK_URL",
    "TD_API_BASE_URL",
    "TD_API_TOKEN",
    "UC_API_BASE_URL",
    "UC_API_TOKEN",
)


@dataclasses.dataclass(frozen=True)
class Finished:
    """A finished process."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def stderr_lines(self) -> list[str]:
        """The non-empty lines of stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def command(args: Sequence[str], *, wrapper: bool = False) -> list[str]:
    """The argv of one profiler run: the shell wrapper or ``python -m``."""
    if wrapper:
        return [WRAPPER, *args]
    return [PYTHON, *MODULE, *args]


def child_env(env: Mapping[str, str], *, wrapper: bool = False) -> dict[str, str]:
    """The parent's environment without orders_sync settings, plus ``env``.

    ``python -m`` runs get the repository on ``PYTHONPATH`` (what the editable install of
    the set-up command gives); the wrapper must find the package by itself.
    """
    merged = {k: v for k, v in os.environ.items() if k not in _SCRUBBED and k != "PYTHONPATH"}
    if not wrapper:
        merged["PYTHONPATH"] = str(REPOSITORY_ROOT)
    merged.update(env)
    return merged


def start(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    wrapper: bool = False,
    cwd: str | os.PathLike[str] = REPOSITORY_ROOT,
) -> subprocess.Popen[str]:
    """Start a profiler process (stdout and stderr piped, text)."""
    return subprocess.Popen(
        command(args, wrapper=wrapper),
        env=child_env(env, wrapper=wrapper),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait(process: subprocess.Popen[str], timeout_s: float = TIMEOUT_S) -> Finished:
    """Wait for ``process`` and collect its output (killed if it outlives ``timeout_s``)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        raise AssertionError(
            f"the profiler did not finish in {timeout_s}s\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from None
    return Finished(tuple(map(str, process.args)), process.returncode, stdout, stderr)


def run(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    wrapper: bool = False,
    cwd: str | os.PathLike[str] = REPOSITORY_ROOT,
    timeout_s: float = TIMEOUT_S,
) -> Finished:
    """Run one profiler process to its end."""
    return wait(start(args, env, wrapper=wrapper, cwd=cwd), timeout_s)


def run_status(db_url: str, *args: str, timezone: str) -> subprocess.CompletedProcess[str]:
    """``scripts/orders_sync_status.sh ARGS`` on ``db_url``, as a user runs it."""
    env = child_env(
        {"ORDERS_SYNC_DATABASE_URL": db_url, "ORDERS_SYNC_TIMEZONE": timezone}, wrapper=True
    )
    return subprocess.run(
        [str(REPOSITORY_ROOT / "scripts" / "orders_sync_status.sh"), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float = 30.0,
    interval_s: float = 0.02,
    what: str = "the condition",
    process: subprocess.Popen[str] | None = None,
) -> None:
    """Poll ``condition`` until true; fail (with the process's output) after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process is not None and process.poll() is not None:
            stdout, stderr = process.communicate()
            raise AssertionError(
                f"the process ended ({process.returncode}) before {what}\n"
                f"stdout:\n{stdout}\nstderr:\n{stderr}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)
