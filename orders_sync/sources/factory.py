"""Clients built from :class:`~orders_sync.config.Settings`: the real CRMs, or on request the
bundled simulator.

``Settings.sources`` (``ORDERS_SYNC_SOURCES``) is chosen once, at the edge:

- ``http`` (the default): each source's configured endpoint (``<PREFIX>_BASE_URL`` /
  ``<PREFIX>_TOKEN``). A run that would sync a store of a source whose URL is unset is
  refused before anything is written (:func:`require_sources`) — a production run never
  falls back on simulated orders.
- ``simulator``: the bundled CRM simulator (:mod:`orders_sync_devtools.simulator.bundled`), for
  the demo, the local Airflow and tests. It is imported only then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from orders_sync.config import SOURCES_SIMULATOR, Settings
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources import registry
from orders_sync.sources.spec import Source, SourceClient


def require_source(settings: Settings, source: Source) -> tuple[str, str]:
    """The configured base URL and token of ``source``; sends nothing.

    Raises:
        ConfigurationError: one sentence naming the missing variable.
    """
    endpoint = settings.endpoint(source.sync_group)
    if endpoint.base_url is None:
        raise ConfigurationError(
            f"{source.base_url_variable} is not set: a {source.sync_group} store would be "
            f"synced, so set {source.base_url_variable} and {source.token_variable} (in "
            f"Airflow the connection {source.connection_id}), or ORDERS_SYNC_SOURCES=simulator "
            "for simulated data."
        )
    if not endpoint.token:
        raise ConfigurationError(
            f"{source.token_variable} must be set when {source.base_url_variable} is."
        )
    return endpoint.base_url, endpoint.token


def require_sources(settings: Settings, pipelines: Iterable[str]) -> None:
    """Refuse a run whose pipelines' CRM is not configured; sends nothing.

    Args:
        settings: the process settings.
        pipelines: the pipeline codes the run would sync.

    Raises:
        ConfigurationError: one sentence naming the first missing variable.
    """
    if settings.sources == SOURCES_SIMULATOR:
        return
    chosen = {registry.for_pipeline(code) for code in pipelines}
    for source in sorted(chosen, key=lambda s: s.sync_group):
        require_source(settings, source)


def _endpoint(settings: Settings, source: Source) -> tuple[str, str]:
    if settings.sources != SOURCES_SIMULATOR:
        return require_source(settings, source)
    try:
        from orders_sync_devtools.simulator import bundled
    except ImportError as exc:  # an image built without the development tools
        raise ConfigurationError(
            "ORDERS_SYNC_SOURCES=simulator needs the orders_sync_devtools package of a development "
            "checkout; this installation has none."
        ) from exc
    token = settings.endpoint(source.sync_group).token
    return bundled.ensure_simulator().base_url, token or bundled.demo_token(source.sync_group)


def client_for(source: Source, settings: Settings) -> SourceClient:
    """A client of ``source`` for ``settings``; the caller closes it.

    Raises:
        ConfigurationError: the source is not configured (see :func:`require_sources`).
    """
    base_url, token = _endpoint(settings, source)
    options = dataclasses.asdict(settings.http_options())
    return source.client(
        base_url, token, max_rps=settings.endpoint(source.sync_group).max_rps, **options
    )
