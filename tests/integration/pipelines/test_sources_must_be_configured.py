"""interfaces.md "Sources must be configured": the profiler and the standalone commands refuse a
run whose stores' CRM has no URL — exit 2, one line naming the variable, nothing written, no
request sent — and only an explicit ``ORDERS_SYNC_SOURCES=simulator`` uses the simulator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from orders_sync_devtools.simulator.server import SimulatorServer
from tests.integration.pipelines.test_standalone_cli import SCRIPTS, WINDOW, _counts, _run

PROFILER = "orders_sync_run_profiler.sh"


def _without(env: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in names}


CASES = {
    "profiler-td-url-missing": (PROFILER, [], ("TD_API_BASE_URL",), "TD_API_BASE_URL"),
    "profiler-uc-url-missing": (PROFILER, [], ("UC_API_BASE_URL",), "UC_API_BASE_URL"),
    "profiler-no-url-at-all": (
        PROFILER, [], ("TD_API_BASE_URL", "UC_API_BASE_URL"), "TD_API_BASE_URL",
    ),
    "td-standalone-url-missing": ("td_orders_sync.sh", [], ("TD_API_BASE_URL",), "TD_API_BASE_URL"),
    "uc-standalone-url-missing": ("uc_orders_sync.sh", [], ("UC_API_BASE_URL",), "UC_API_BASE_URL"),
}  # fmt: skip


@pytest.mark.parametrize(("script", "args", "unset", "named"), CASES.values(), ids=CASES.keys())
def test_a_missing_url_is_refused_with_exit_2_and_nothing_written(
    seeded: sa.Engine,
    cli_env: dict[str, str],
    simulator: SimulatorServer,
    tmp_path: Path,
    script: str,
    args: list[str],
    unset: tuple[str, ...],
    named: str,
) -> None:
    before = _counts(seeded)
    requests_before = simulator.requests_total

    done = _run(script, args, _without(cli_env, *unset), tmp_path)

    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {named} is not set"), done.stderr
    assert "Traceback" not in done.stderr
    assert _counts(seeded) == before
    assert simulator.requests_total == requests_before


def test_a_group_not_synced_needs_no_url(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    done = _run("uc_orders_sync.sh", WINDOW, _without(cli_env, "TD_API_BASE_URL"), tmp_path)
    assert done.returncode == 0, done.stderr
    with seeded.connect() as conn:
        pipelines = conn.execute(
            sa.text(
                "SELECT DISTINCT p.code FROM orders_sync_log l "
                "JOIN pipelines p ON p.id = l.pipeline_id"
            )
        ).scalars()
        assert set(pipelines) == {"uc_orders_sync"}


def test_only_an_explicit_simulator_setting_syncs_simulated_data(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = _without(cli_env, "TD_API_BASE_URL", "TD_API_TOKEN", "UC_API_BASE_URL", "UC_API_TOKEN")
    done = _run("uc_orders_sync.sh", WINDOW, {**env, "ORDERS_SYNC_SOURCES": "simulator"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SIMULATED" in done.stderr  # said loudly, not as a quiet INFO line
    assert _counts(seeded)["uc_orders"] > 0


def test_an_unknown_sources_value_is_bad_configuration(
    seeded: sa.Engine, cli_env: dict[str, str], tmp_path: Path
) -> None:
    done = _run(PROFILER, [], {**cli_env, "ORDERS_SYNC_SOURCES": "fake"}, tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: ORDERS_SYNC_SOURCES='fake'")
    assert SCRIPTS.is_dir()


def test_the_wrapper_scripts_exist_and_run_from_anywhere(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SCRIPTS / "td_orders_sync.sh"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and "--from-date" in done.stdout
