"""``make test``: the whole suite, as two lanes side by side.

- lane 1: the DAG tests (real Airflow: ``dag.test()``, a scheduler stack, a browser) on the
  embedded PostgreSQL 18 — they mostly wait on Airflow's processes;
- lane 2: the unit and integration tests on the embedded PostgreSQL 18, then the integration
  tests again on Debian's PostgreSQL 15 (:mod:`orders_sync_devtools.pg15`).

On a 2-core machine the two lanes take little more wall time than the DAG tests alone. The
PostgreSQL 15 run leaves out what does not touch the database server (the HTTP clients, the
CRM simulator, request pacing): it is there for the SQL. Lane 1 prints as it goes; lane 2's
output is printed when both have ended. Every pytest run has its own base directory, so none
prunes another's. The exit status is 0 only when every run passed.

Usage: ``python -m orders_sync_devtools.test_suite [PYTEST ARGS ...]`` (extra arguments go to
every run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PG15_LEAVES_OUT = (
    "tests/integration/sources",  # HTTP clients and the simulator: no database
    "tests/integration/run_profiler/test_rate_limits.py",  # request pacing
)


def _pytest(basetemp: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--basetemp={basetemp}", *args]  # fmt: skip


def _lane_two(tmp: Path, argv: list[str], log: IO[str], statuses: dict[str, int]) -> None:
    first = subprocess.run(
        _pytest(tmp / "pg18", "tests/unit", "tests/integration", *argv),
        cwd=REPOSITORY_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False,
    )  # fmt: skip
    statuses["unit + integration (PostgreSQL 18)"] = first.returncode
    log.write("\n--- the integration tests again on PostgreSQL 15 ---\n")
    log.flush()
    ignores = [f"--ignore={path}" for path in PG15_LEAVES_OUT]
    second = subprocess.run(
        [sys.executable, "-m", "orders_sync_devtools.pg15", "--",
         *_pytest(tmp / "pg15", "tests/integration", *ignores, *argv)],
        cwd=REPOSITORY_ROOT, stdout=log, stderr=subprocess.STDOUT, check=False,
    )  # fmt: skip
    statuses["integration (PostgreSQL 15)"] = second.returncode


def main(argv: list[str]) -> int:
    """Run the suite; 0 when every run passed."""
    began = time.monotonic()
    statuses: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="orders_sync_tests_") as name:
        tmp = Path(name)
        log_path = tmp / "lane2.log"
        with open(log_path, "w") as log:
            lane = threading.Thread(target=_lane_two, args=(tmp, argv, log, statuses))
            lane.start()
            dags = subprocess.run(_pytest(tmp / "dags", "tests/dags", *argv),
                                  cwd=REPOSITORY_ROOT, check=False)  # fmt: skip
            statuses["DAG tests (PostgreSQL 18)"] = dags.returncode
            lane.join()
        print(
            "\n--- unit + integration tests (PostgreSQL 18, then 15), run beside the DAG tests ---"
        )
        print(log_path.read_text(), end="", flush=True)
    minutes, seconds = divmod(round(time.monotonic() - began), 60)
    print(f"\nmake test: {minutes} min {seconds} s")
    for lane_name, status in statuses.items():
        print(f"  {'passed' if status == 0 else f'FAILED ({status})':<12} {lane_name}")
    return 0 if len(statuses) == 3 and not any(statuses.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
