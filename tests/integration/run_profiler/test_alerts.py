"""interfaces.md "Alerts": one JSON POST per failed or partial profiler run to a real local HTTP
receiver; none on success; a receiver that fails changes nothing but a warning."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support.fixtures import TODAY
from tests.support.receivers import WebhookReceiver, smtp_server, webhook_receiver
from tests.support.seeding import Store, seed_stores
from tests.support.simulation import TD_TOKEN, UC_TOKEN

D1 = TODAY.replace(day=1)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as server:
        yield server


def _run(settings: Settings, url: str | None, **changes: Any) -> Any:
    return run_profiler(
        get_engine(settings),
        ProfilerOptions(env="alerttest", window_days=7, max_workers=2),
        dataclasses.replace(settings, alert_webhook_url=url, **changes),
        today=TODAY,
    )


def test_a_failed_run_posts_one_alert_with_its_failures(
    settings: Settings, sim: SimulatorServer, receiver: WebhookReceiver
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
    settings: Settings, sim: SimulatorServer, receiver: WebhookReceiver
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1)])
    assert _run(settings, receiver.url).outcome.overall_status == "success"
    assert receiver.posts == []


@pytest.mark.parametrize("broken", ["answers-500", "unreachable"])
def test_a_failing_receiver_changes_nothing_but_a_warning(
    settings: Settings,
    sim: SimulatorServer,
    receiver: WebhookReceiver,
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


def test_the_alert_names_stale_stores_and_counts_them_in_the_summary(
    settings: Settings, sim: SimulatorServer, receiver: WebhookReceiver
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1), Store("A002", "TD", D1)])
    sim.faults.fail_store("A002", status=500, endpoint="orders")  # A002 covers nothing: stale

    result = _run(settings, receiver.url)

    assert "stale_stores=1" in result.outcome.summary_text
    [(_, payload)] = receiver.posts
    assert [(s["store_code"], s["days_behind"]) for s in payload["stale_stores"]] == [
        ("A002", (TODAY - D1).days + 1)
    ]
    assert "1 stale: A002 td_orders_sync" in payload["text"]


def test_an_e_mail_alert_reaches_a_real_smtp_server(
    settings: Settings, sim: SimulatorServer
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1)])
    sim.faults.fail_store("A001", status=500, endpoint="orders")
    with smtp_server() as (port, received):
        result = _run(
            settings,
            None,
            alert_email_to=("ops@example.test", "data@example.test"),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from="orders_sync@example.test",
        )
    assert result.outcome.overall_status == "failed"
    [message] = received
    assert message["Subject"] == (
        f"[orders_sync] failed: orders_sync_run_profiler (alerttest, {TODAY.isoformat()})"
    )
    assert message["To"] == "ops@example.test, data@example.test"
    body = message.get_content()  # type: ignore[attr-defined]
    assert result.outcome.run_id in body and "A001 td_orders_sync" in body
    assert TD_TOKEN not in body


def test_a_dead_smtp_server_changes_nothing_but_a_warning(
    settings: Settings, sim: SimulatorServer, caplog: pytest.LogCaptureFixture
) -> None:
    seed_stores(get_engine(settings), [Store("A001", "TD", D1)])
    sim.faults.fail_store("A001", status=500, endpoint="orders")
    result = _run(
        settings, None, alert_email_to=("ops@example.test",), smtp_host="127.0.0.1", smtp_port=9
    )
    assert result.outcome.overall_status == "failed"
    assert any("alert e-mail" in r.getMessage() for r in caplog.records)


def test_a_store_that_never_logged_a_failure_is_named_with_its_cause(
    settings: Settings,
    sim: SimulatorServer,
    receiver: WebhookReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A002's job dies of an unexpected error before any window of it is logged: the alert,
    # the summary and the recorded outcomes still account for it — never "0 of 2 failed".
    from orders_sync.runs import steps

    real = steps._run_window

    def crash_a002(engine: Any, claim: Any, pipeline: Any, request: Any, stop: Any) -> Any:
        if request.store_code == "A002":
            raise RuntimeError("boom")
        return real(engine, claim, pipeline, request, stop)

    monkeypatch.setattr(steps, "_run_window", crash_a002)
    seed_stores(get_engine(settings), [Store("A001", "TD", D1), Store("A002", "TD", D1)])

    result = _run(settings, receiver.url)

    assert result.outcome.overall_status == "failed"
    assert "crashed_jobs=1" in result.outcome.summary_text
    [(_, payload)] = receiver.posts
    assert payload["failures"] == []
    assert [(n["store_code"], n["outcome"], n["detail"]) for n in payload["not_synced"]] == [
        ("A002", "crashed", "RuntimeError: boom")
    ]
    assert "1 of 2 stores failed" in payload["text"]
    assert "A002 td_orders_sync: crashed: RuntimeError: boom" in payload["text"]
    assert "0 of" not in payload["text"]
