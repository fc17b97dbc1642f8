"""interfaces.md "Alerts": one JSON POST per failed or partial profiler run to a real local HTTP
receiver; none on success; a receiver that fails changes nothing but a warning."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.simulator.server import SimulatorServer
from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from tests.support.fixtures import TODAY
from tests.support.seeding import Store, seed_stores
from tests.support.simulation import TD_TOKEN, UC_TOKEN

D1 = TODAY.replace(day=1)


class Receiver(http.server.ThreadingHTTPServer):
    """A webhook receiver on loopback that records every POST and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), json.loads(body)))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _run(settings: Settings, url: str) -> Any:
    return run_profiler(
        get_engine(settings),
        ProfilerOptions(env="alerttest", window_days=7, max_workers=2),
        dataclasses.replace(settings, alert_webhook_url=url),
        today=TODAY,
    )


def test_a_failed_run_posts_one_alert_with_its_failures(
    settings: Settings, sim: SimulatorServer, receiver: Receiver
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1), Store("A002", "TD", D1)])
    sim.faults.fail_store("A002", status=500, endpoint="orders")

    result = _run(settings, receiver.url)

    assert result.outcome.overall_status == "failed"
    [(headers, payload)] = receiver.posts
    assert headers["Content-Type"] == "application/json"
    assert payload["overall_status"] == "failed" and payload["run_id"] == result.outcome.run_id
    assert payload["run_env"] == "alerttest" and payload["report_date"] == TODAY.isoformat()
    assert payload["pipeline_name"] == "orders_sync_run_profiler"
    assert payload["summary_text"] == result.outcome.summary_text
    assert [(f["store_code"], f["status"]) for f in payload["failures"]] == [("A002", "failed")]
    assert payload["text"].startswith("orders_sync_run_profiler failed (alerttest, ")
    assert "1 of 2 stores failed" in payload["text"] and "\n" not in payload["text"]
    body = json.dumps(payload)
    assert TD_TOKEN not in body and UC_TOKEN not in body


def test_a_successful_run_posts_nothing(
    settings: Settings, sim: SimulatorServer, receiver: Receiver
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1)])
    assert _run(settings, receiver.url).outcome.overall_status == "success"
    assert receiver.posts == []


@pytest.mark.parametrize("broken", ["answers-500", "unreachable"])
def test_a_failing_receiver_changes_nothing_but_a_warning(
    settings: Settings,
    sim: SimulatorServer,
    receiver: Receiver,
    broken: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1)])
    sim.faults.fail_store("A001", status=500, endpoint="orders")
    receiver.status = 500
    url = receiver.url if broken == "answers-500" else "http://127.0.0.1:9/hook"

    result = _run(settings, url)

    assert result.outcome.overall_status == "failed"
    assert any("alert webhook failed" in r.getMessage() for r in caplog.records)
    if broken == "answers-500":
        assert len(receiver.posts) >= 2  # retried
