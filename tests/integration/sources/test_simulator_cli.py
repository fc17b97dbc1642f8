"""``scripts/crm_simulator.sh`` as a separate process, driven over HTTP."""

from __future__ import annotations

import datetime as dt
import os
import re
import selectors
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orders_sync.sources.errors import SourceNotFoundError
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import SimulatorServer

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "crm_simulator.sh"
JAN = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


class RunningScript:
    """A simulator process and the URL it printed."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)


Launch = Callable[..., RunningScript]


def _first_line(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            pytest.fail("the simulator printed nothing")
    return process.stdout.readline()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TD_API_TOKEN", "UC_API_TOKEN")}
    env.update(extra)
    return env


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start the script from an unrelated directory; stopped after the test."""
    started: list[RunningScript] = []

    def start(*args: str, **env: str) -> RunningScript:
        process = subprocess.Popen(
            [str(SCRIPT), "--host", "127.0.0.1", "--port", "0", *args],
            cwd=tmp_path,
            env=_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = _first_line(process)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match is None:
            process.kill()
            errors = process.stderr.read() if process.stderr else ""
            pytest.fail(f"unexpected first line {line!r}; stderr: {errors}")
        running = RunningScript(process, match.group(1))
        started.append(running)
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait(timeout=15)


def test_script_serves_the_contract_with_tokens_from_the_environment(launch: Launch) -> None:
    sim = launch("--stores", "A001,UC104", "--seed", "5", TD_API_TOKEN="env-td-token")
    with TdClient(sim.url, "env-td-token") as td, UcClient(sim.url, "any-uc-token") as uc:
        assert td.fetch_orders("A001", *JAN)
        assert uc.fetch_gst("UC104", *JAN)
    params = {"store_code": "A001", "from_date": "2026-01-01", "to_date": "2026-01-02"}
    wrong = httpx.get(f"{sim.url}/reports/order-report", params=params,
                      headers={"Authorization": "Bearer other"})  # fmt: skip
    assert wrong.status_code == 401
    unknown = httpx.get(f"{sim.url}/reports/order-report", params={**params, "store_code": "B002"},
                        headers={"Authorization": "Bearer env-td-token"})  # fmt: skip
    assert unknown.status_code == 404
    assert sim.stop() == 0


def test_script_is_driven_over_admin_endpoints_and_matches_in_process_data(launch: Launch) -> None:
    sim = launch("--seed", "5", "--clock", "2026-02-01T12:00:00+05:30")
    truth = httpx.get(f"{sim.url}/_sim/truth/td-orders",
                      params={"store_code": "Q1", "from_date": "2026-01-01",
                              "to_date": "2026-01-31"}).json()["data"]  # fmt: skip
    with TdClient(sim.url, "td-token-1", max_attempts=3, backoff_base_s=0.001) as td:
        orders = td.fetch_orders("Q1", *JAN)
        assert [o.to_json() for o in orders] == truth
        httpx.post(f"{sim.url}/_sim/faults", json={"transient": {"count": 2}}).raise_for_status()
        assert td.fetch_orders("Q1", *JAN) == orders
    same_seed = SimulatorServer(
        seed=5, clock=dt.datetime.fromisoformat("2026-02-01T12:00:00+05:30")
    )
    assert orders == same_seed.truth_td_orders("Q1", *JAN)
    stats = httpx.get(f"{sim.url}/_sim/stats").json()
    assert stats["by_status"]["503"] == 2 and stats["seed"] == 5
    assert sim.stop() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "not a port"),
        (["--latency-ms", "-5"], "latency"),
        (["--stores", ","], "--stores"),
        (["--clock", "yesterday"], "--clock"),
        (["--clock", "2026-01-01T00:00:00"], "offset"),
    ],
    ids=["bad-port", "negative-latency", "empty-stores", "bad-clock", "naive-clock"],
)
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = subprocess.run(
        [str(SCRIPT), *args], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_address_in_use_exits_2(launch: Launch, tmp_path: Path) -> None:
    sim = launch()
    port = sim.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [str(SCRIPT), "--port", port], cwd=tmp_path, env=_env(), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "cannot listen" in done.stderr


def test_stores_from_db_serves_the_active_store_master_codes(
    launch: Launch, engine: sa.Engine, db_url: str
) -> None:
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO store_master (store_code, sync_group, is_active) VALUES "
                "('A001', 'TD', true), ('A002', 'TD', false), ('UC104', 'UC', true)"
            )
        )
    sim = launch("--stores-from-db", ORDERS_SYNC_DATABASE_URL=db_url)
    with TdClient(sim.url, "td-token-1") as td, UcClient(sim.url, "uc-token-1") as uc:
        assert td.fetch_orders("A001", *JAN)
        assert uc.fetch_gst("UC104", *JAN)
        with pytest.raises(SourceNotFoundError, match="does not know store 'A002'"):
            td.fetch_orders("A002", *JAN)
    assert sim.stop() == 0
