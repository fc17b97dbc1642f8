"""``make test``: the whole suite, in two steps, the second two runs side by side.

1. the unit and integration tests on the embedded PostgreSQL 18;
2. the DAG tests (real Airflow: ``dag.test()``, a scheduler stack, a browser) on 18, and at
   the same time the integration tests again on Debian's PostgreSQL 15
   (:mod:`orders_sync_devtools.pg15`) — the DAG tests mostly wait on Airflow's processes, so
   the second major costs little wall time on a 2-core machine.

The PostgreSQL 15 run leaves out what does not touch the database server (the HTTP clients,
the CRM simulator, request pacing): it is there for the SQL. Its output is printed when both
have ended; the exit status is 0 only when every run passed. Each run has its own pytest base
directory, so neither prunes the other's.

Usage: ``python -m orders_sync_devtools.test_suite [PYTEST ARGS ...]`` (extra arguments go to
every run).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
PG15_LEAVES_OUT = (
    "tests/integration/sources",  # HTTP clients and the simulator: no database
    "tests/integration/run_profiler/test_rate_limits.py",  # request pacing
)


def _pytest(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", *args]


def main(argv: list[str]) -> int:
    """Run the suite; 0 when every run passed."""
    began = time.monotonic()
    first = subprocess.run(_pytest("tests/unit", "tests/integration", *argv), cwd=REPOSITORY_ROOT)
    with tempfile.TemporaryDirectory(prefix="orders_sync_pg15_") as tmp:
        log_path = Path(tmp) / "pg15.log"
        ignores = [f"--ignore={path}" for path in PG15_LEAVES_OUT]
        with open(log_path, "w") as log:
            pg15 = subprocess.Popen(
                [sys.executable, "-m", "orders_sync_devtools.pg15", "--",
                 *_pytest("-p", "no:cacheprovider", f"--basetemp={Path(tmp) / 'pytest'}",
                          "tests/integration", *ignores, *argv)],
                cwd=REPOSITORY_ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                dags = subprocess.run(_pytest("tests/dags", *argv), cwd=REPOSITORY_ROOT)
            finally:
                pg15_status = pg15.wait()
        print("\n--- the integration tests on PostgreSQL 15 (run beside the DAG tests) ---")
        print(log_path.read_text(), end="", flush=True)
    statuses = {
        "unit + integration (PostgreSQL 18)": first.returncode,
        "DAG tests (PostgreSQL 18)": dags.returncode,
        "integration (PostgreSQL 15)": pg15_status,
    }
    minutes, seconds = divmod(round(time.monotonic() - began), 60)
    print(f"\nmake test: {minutes} min {seconds} s")
    for name, status in statuses.items():
        print(f"  {'passed' if status == 0 else f'FAILED ({status})':<12} {name}")
    return 0 if not any(statuses.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
