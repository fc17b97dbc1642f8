"""Clients built from :class:`~orders_sync.config.Settings`: the real CRMs, or on request the
bundled simulator.

``Settings.sources`` (``ORDERS_SYNC_SOURCES``) is chosen once, at the edge:

- ``http`` (the default): the URLs and tokens of ``TD_API_*`` / ``UC_API_*``. A run that
  would sync a store of a group whose URL is unset is refused before anything is written
  (:func:`require_sources`) — a production run never falls back on simulated orders.
- ``simulator``: the bundled CRM simulator (:mod:`devtools.simulator.bundled`), for the demo,
  the local Airflow and tests. It is imported only then.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from orders_sync.config import SOURCES_SIMULATOR, Settings
from orders_sync.domain import PIPELINE_SYNC_GROUP
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient


def _configured(settings: Settings, api: str) -> tuple[str | None, str | None]:
    if api == "TD":
        return settings.td_api_base_url, settings.td_api_token
    return settings.uc_api_base_url, settings.uc_api_token


def require_sources(settings: Settings, pipelines: Iterable[str]) -> None:
    """Refuse a run whose pipelines' CRM is not configured; sends nothing.

    Args:
        settings: the process settings.
        pipelines: the pipeline codes the run would sync (``td_orders_sync``, ...).

    Raises:
        ConfigurationError: one sentence naming the first missing variable.
    """
    if settings.sources == SOURCES_SIMULATOR:
        return
    for api in sorted({PIPELINE_SYNC_GROUP[code] for code in pipelines}):
        base_url, token = _configured(settings, api)
        if base_url is None:
            raise ConfigurationError(
                f"{api}_API_BASE_URL is not set: a {api} store would be synced, so set "
                f"{api}_API_BASE_URL and {api}_API_TOKEN (in Airflow the connection "
                f"{api.lower()}_crm), or ORDERS_SYNC_SOURCES=simulator for simulated data."
            )
        if not token:
            raise ConfigurationError(f"{api}_API_TOKEN must be set when {api}_API_BASE_URL is.")


def _endpoint(settings: Settings, api: str) -> tuple[str, str]:
    base_url, token = _configured(settings, api)
    if settings.sources == SOURCES_SIMULATOR:
        try:
            from devtools.simulator import bundled
        except ImportError as exc:  # an image built without the development tools
            raise ConfigurationError(
                "ORDERS_SYNC_SOURCES=simulator needs the devtools package of a development "
                "checkout; this installation has none."
            ) from exc
        demo_token = bundled.DEMO_TD_TOKEN if api == "TD" else bundled.DEMO_UC_TOKEN
        return bundled.ensure_simulator().base_url, token or demo_token
    require_sources(settings, [code for code, g in PIPELINE_SYNC_GROUP.items() if g == api])
    assert base_url is not None and token  # require_sources refused anything else
    return base_url, token


_Client = TypeVar("_Client", TdClient, UcClient)


def _client_from_settings(client_class: type[_Client], api: str, settings: Settings) -> _Client:
    base_url, token = _endpoint(settings, api)
    return client_class(
        base_url,
        token,
        timeout_s=settings.http_timeout_s,
        max_attempts=settings.http_max_attempts,
        backoff_base_s=settings.http_backoff_base_s,
        retry_after_cap_s=settings.http_retry_after_cap_s,
    )


def td_client_from_settings(settings: Settings) -> TdClient:
    """A :class:`TdClient` for ``settings``.

    Raises:
        ConfigurationError: the TD API is not configured (see :func:`require_sources`).
    """
    return _client_from_settings(TdClient, "TD", settings)


def uc_client_from_settings(settings: Settings) -> UcClient:
    """A :class:`UcClient` for ``settings``.

    Raises:
        ConfigurationError: the UC API is not configured (see :func:`require_sources`).
    """
    return _client_from_settings(UcClient, "UC", settings)
