"""Clients built from :class:`~orders_sync.config.Settings`, and the bundled simulator.

When a base URL is not configured the clients talk to the bundled CRM simulator, started
lazily, once per process, on a free loopback port (:func:`ensure_simulator`). The
simulator then accepts any non-empty token, so the configured token, or a fixed demo
token when none is configured, is used.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from typing import TypeVar

from orders_sync.config import Settings
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources.simulator.server import DEFAULT_SEED, SimulatorServer
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient

logger = logging.getLogger(__name__)

DEMO_TD_TOKEN = "td-simulator-demo-token"
DEMO_UC_TOKEN = "uc-simulator-demo-token"


@dataclasses.dataclass(frozen=True)
class RunningSimulator:
    """The process's bundled simulator.

    Attributes:
        server: the running server (clock, faults, truth).
        base_url: where both APIs are served.
        pid: the process that started it (a forked child starts its own).
    """

    server: SimulatorServer
    base_url: str
    pid: int


_lock = threading.Lock()
_running: RunningSimulator | None = None


def ensure_simulator() -> RunningSimulator:
    """Start the bundled simulator unless this process already runs it; thread-safe.

    Returns:
        The running simulator (seed :data:`DEFAULT_SEED`, real clock, every store).
    """
    global _running
    with _lock:
        if _running is None or _running.pid != os.getpid():
            server = SimulatorServer(seed=DEFAULT_SEED)
            base_url = server.start("127.0.0.1", 0)
            _running = RunningSimulator(server=server, base_url=base_url, pid=os.getpid())
            logger.info("no CRM base URL configured; using the bundled simulator at %s", base_url)
        return _running


def _endpoint(
    base_url: str | None, token: str | None, demo_token: str, api: str
) -> tuple[str, str]:
    if base_url is None:
        return ensure_simulator().base_url, token or demo_token
    if not token:
        raise ConfigurationError(f"{api}_API_TOKEN must be set when {api}_API_BASE_URL is.")
    return base_url, token


_Client = TypeVar("_Client", TdClient, UcClient)


def _client_from_settings(
    client_class: type[_Client], base_url: str | None, token: str | None, demo_token: str,
    api: str, settings: Settings,
) -> _Client:  # fmt: skip
    base_url, token = _endpoint(base_url, token, demo_token, api)
    return client_class(
        base_url,
        token,
        timeout_s=settings.http_timeout_s,
        max_attempts=settings.http_max_attempts,
        backoff_base_s=settings.http_backoff_base_s,
        retry_after_cap_s=settings.http_retry_after_cap_s,
    )


def td_client_from_settings(settings: Settings) -> TdClient:
    """A :class:`TdClient` for ``settings`` (the bundled simulator when no URL is set).

    Raises:
        ConfigurationError: a base URL is set without a token, or is not http(s).
    """
    return _client_from_settings(
        TdClient, settings.td_api_base_url, settings.td_api_token, DEMO_TD_TOKEN, "TD", settings
    )


def uc_client_from_settings(settings: Settings) -> UcClient:
    """A :class:`UcClient` for ``settings`` (the bundled simulator when no URL is set).

    Raises:
        ConfigurationError: a base URL is set without a token, or is not http(s).
    """
    return _client_from_settings(
        UcClient, settings.uc_api_base_url, settings.uc_api_token, DEMO_UC_TOKEN, "UC", settings
    )
