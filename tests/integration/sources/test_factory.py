"""Clients from settings: the configured CRMs, or — only on request — the bundled simulator."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from orders_sync.config import Settings, settings_from_env
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import registry
from orders_sync.sources.factory import client_for, require_sources
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import SETTLE_DAYS, SimulatorServer, bundled
from orders_sync_devtools.simulator.bundled import DEMO_TD_TOKEN, DEMO_UC_TOKEN, ensure_simulator


def td_client_from_settings(settings: Settings) -> TdClient:
    client = client_for(registry.for_sync_group("TD"), settings)
    assert isinstance(client, TdClient)
    return client


def uc_client_from_settings(settings: Settings) -> UcClient:
    client = client_for(registry.for_sync_group("UC"), settings)
    assert isinstance(client, UcClient)
    return client


def test_ensure_simulator_starts_once_even_from_many_threads() -> None:
    found: list[bundled.RunningSimulator] = []
    barrier = threading.Barrier(8)

    def grab() -> None:
        barrier.wait(timeout=10)
        found.append(ensure_simulator())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(found) == 8 and all(item is found[0] for item in found)
    assert found[0].server.running and found[0].base_url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    "tokens",
    [{}, {"TD_API_TOKEN": "my-td", "UC_API_TOKEN": "my-uc"}],
    ids=["demo-tokens", "configured-tokens"],
)
def test_sources_simulator_uses_the_bundled_simulator(tokens: dict[str, str]) -> None:
    settings = settings_from_env({"ORDERS_SYNC_SOURCES": "simulator", **tokens})
    running = ensure_simulator()
    today = running.server.now().date()
    settled = (
        today - dt.timedelta(days=SETTLE_DAYS + 40),
        today - dt.timedelta(days=SETTLE_DAYS + 1),
    )
    with td_client_from_settings(settings) as td, uc_client_from_settings(settings) as uc:
        assert td.base_url == uc.base_url == running.base_url
        assert td.fetch_orders("A001", *settled) == running.server.truth_td_orders("A001", *settled)
        assert uc.fetch_gst("UC104", *settled) == running.server.truth_uc_gst("UC104", *settled)


def test_configured_urls_and_http_settings_are_used() -> None:
    with SimulatorServer(td_token="real-td", uc_token="real-uc") as sim:
        settings = settings_from_env(
            {
                "TD_API_BASE_URL": sim.base_url,
                "TD_API_TOKEN": "real-td",
                "UC_API_BASE_URL": sim.base_url + "/",
                "UC_API_TOKEN": "real-uc",
                "ORDERS_SYNC_HTTP_TIMEOUT": "7.0",
                "ORDERS_SYNC_HTTP_MAX_ATTEMPTS": "2",
                "ORDERS_SYNC_HTTP_BACKOFF_BASE": "0.001",
                "ORDERS_SYNC_HTTP_RETRY_AFTER_CAP": "0.0",
            }
        )
        sim.faults.rate_limit(1, retry_after_s=30)
        with td_client_from_settings(settings) as td, uc_client_from_settings(settings) as uc:
            today = sim.now().date()
            assert td.fetch_orders("A001", today, today) is not None  # 429 then OK, no wait
            assert td.requests_made == 2
            uc.fetch_gst("UC104", today, today)
        assert sim.requests_total == 3


@pytest.mark.parametrize(
    ("api", "kwargs"),
    [
        ("TD", {"TD_API_BASE_URL": "http://crm.test"}),
        ("UC", {"UC_API_BASE_URL": "http://crm.test"}),
    ],
    ids=["td-url-without-token", "uc-url-without-token"],
)
def test_a_configured_url_needs_a_token(api: str, kwargs: dict[str, str]) -> None:
    build = td_client_from_settings if api == "TD" else uc_client_from_settings
    with pytest.raises(ConfigurationError, match=f"{api}_API_TOKEN must be set"):
        build(settings_from_env(kwargs))


def test_demo_token_is_not_empty() -> None:
    assert DEMO_TD_TOKEN and DEMO_UC_TOKEN


@pytest.mark.parametrize(
    ("api", "build"),
    [("TD", td_client_from_settings), ("UC", uc_client_from_settings)],
    ids=["td", "uc"],
)
def test_an_unset_base_url_is_refused_not_simulated(api: str, build: object) -> None:
    with pytest.raises(ConfigurationError, match=f"^{api}_API_BASE_URL is not set"):
        build(settings_from_env({"TD_API_TOKEN": "t" * 12, "UC_API_TOKEN": "u" * 12}))  # type: ignore[operator]


REQUIRED = {
    "td-only-needs-td": (["td_orders_sync"], {"UC_API_BASE_URL": "http://uc"}, "TD_API_BASE_URL"),
    "uc-only-needs-uc": (["uc_orders_sync"], {"TD_API_BASE_URL": "http://td"}, "UC_API_BASE_URL"),
    "both-first-missing": (["uc_orders_sync", "td_orders_sync"], {}, "TD_API_BASE_URL"),
    "td-only-ok": (["td_orders_sync"], {"TD_API_BASE_URL": "http://td"}, None),
    "uc-only-ok": (["uc_orders_sync"], {"UC_API_BASE_URL": "http://uc"}, None),
    "nothing-to-sync": ([], {}, None),
}


@pytest.mark.parametrize(("pipelines", "urls", "missing"), REQUIRED.values(), ids=REQUIRED.keys())
def test_require_sources_names_the_missing_variable(
    pipelines: list[str], urls: dict[str, str], missing: str | None
) -> None:
    settings = settings_from_env({"TD_API_TOKEN": "t" * 12, "UC_API_TOKEN": "u" * 12, **urls})
    if missing is None:
        require_sources(settings, pipelines)
        return
    with pytest.raises(ConfigurationError) as caught:
        require_sources(settings, pipelines)
    message = str(caught.value)
    assert message.startswith(f"{missing} is not set") and "\n" not in message


def test_the_simulator_needs_no_url() -> None:
    require_sources(Settings(sources="simulator"), ["td_orders_sync", "uc_orders_sync"])
