"""The sources in use: every layer iterates these instead of naming a CRM.

Every source is a :class:`~orders_sync.sources.spec.Source` named in the
``orders_sync.sources`` entry-point group under its ``store_master.sync_group`` — the way
Airflow finds its providers. This package registers its two built-in ones
(:mod:`orders_sync.sources.td`, :mod:`orders_sync.sources.uc`) in its own ``pyproject.toml``;
a deployment adds another without editing this package, from a distribution of its own::

    [project.entry-points."orders_sync.sources"]
    XX = "my_crm.orders_sync_source:SOURCE"

plus its data table and its ``pipelines`` row in the database (its own migration).
:func:`orders_sync.config.declared_sync_groups` reads the names alone, importing no
source (the DAG file's ``sync_group`` param, at parse time); :func:`registered` adds a
source in-process for a block (tests).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points

from orders_sync.config import ALL_GROUPS, SOURCE_ENTRY_POINTS
from orders_sync.exceptions import ConfigurationError, UsageError
from orders_sync.sources.spec import DataTable, Source

_lock = threading.Lock()
_sources: dict[str, Source] | None = None


def _check_new(known: dict[str, Source], source: Source) -> None:
    if not isinstance(source, Source):
        raise ConfigurationError(f"{source!r} is not an orders_sync Source declaration.")
    if source.sync_group == ALL_GROUPS:
        raise ConfigurationError(f"a source cannot use the sync group {ALL_GROUPS!r}.")
    for other in known.values():
        clash = {
            "sync group": (source.sync_group, other.sync_group),
            "pipeline code": (source.pipeline_code, other.pipeline_code),
            "connection id": (source.connection_id, other.connection_id),
            "variable prefix": (source.env_prefix, other.env_prefix),
        }
        for what, (mine, theirs) in clash.items():
            if mine == theirs:
                raise ConfigurationError(
                    f"sources {source.sync_group} and {other.sync_group} share the {what} "
                    f"{mine!r}; each source needs its own."
                )
        shared = {t.name for t in source.tables} & {t.name for t in other.tables}
        if shared:
            raise ConfigurationError(
                f"sources {source.sync_group} and {other.sync_group} both write "
                f"{', '.join(sorted(shared))}; each source needs its own tables."
            )


def _load() -> dict[str, Source]:
    known: dict[str, Source] = {}
    for entry in sorted(entry_points(group=SOURCE_ENTRY_POINTS), key=lambda e: e.name):
        try:
            source = entry.load()
        except Exception as exc:  # a broken plugin: one line, naming it
            raise ConfigurationError(
                f"the orders_sync source {entry.name!r} ({entry.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        _check_new(known, source)
        if source.sync_group != entry.name:
            raise ConfigurationError(
                f"the orders_sync source entry point {entry.name!r} ({entry.value}) declares "
                f"the sync group {source.sync_group!r}: name the entry point after it."
            )
        known[source.sync_group] = source
    if not known:
        raise ConfigurationError(
            "no orders_sync source is registered: the package is not installed "
            "(in a checkout: pip install -e .)."
        )
    return known


def _registry() -> dict[str, Source]:
    global _sources
    with _lock:
        if _sources is None:
            _sources = _load()
        return _sources


def sources() -> tuple[Source, ...]:
    """Every source in use, built-in first, then those of entry points by name."""
    return tuple(_registry().values())


def sync_groups() -> tuple[str, ...]:
    """Every ``store_master.sync_group`` a source syncs."""
    return tuple(_registry())


def sync_group_choices() -> tuple[str, ...]:
    """``--sync-group`` / conf ``sync_group``: every sync group, then ``ALL``."""
    return (*sync_groups(), ALL_GROUPS)


def pipeline_codes() -> tuple[str, ...]:
    """Every source's ``pipelines.code``."""
    return tuple(source.pipeline_code for source in _registry().values())


def data_tables() -> tuple[DataTable, ...]:
    """Every source's data tables."""
    return tuple(table for source in _registry().values() for table in source.tables)


def for_sync_group(sync_group: str) -> Source:
    """The source of ``sync_group``.

    Raises:
        UsageError: no source syncs that group.
    """
    found = _registry().get(sync_group)
    if found is None:
        raise UsageError(
            f"unknown sync group {sync_group!r}; expected one of {', '.join(sync_groups())}."
        )
    return found


def for_pipeline(pipeline_code: str) -> Source:
    """The source whose pipeline is ``pipeline_code``.

    Raises:
        UsageError: no source has that pipeline.
    """
    for source in _registry().values():
        if source.pipeline_code == pipeline_code:
            return source
    raise UsageError(
        f"unknown pipeline {pipeline_code!r}; expected one of {', '.join(pipeline_codes())}."
    )


def groups_of(sync_group: str) -> tuple[str, ...]:
    """The sync groups ``--sync-group`` selects: one, or every one for ``ALL``.

    Raises:
        UsageError: neither a known group nor ``ALL``.
    """
    if sync_group == ALL_GROUPS:
        return sync_groups()
    return (for_sync_group(sync_group).sync_group,)


@contextmanager
def registered(source: Source) -> Iterator[Source]:
    """``source`` is in use for the block (in this process), then removed again.

    Raises:
        ConfigurationError: it clashes with a source already in use.
    """
    registry = _registry()
    with _lock:
        _check_new(registry, source)
        registry[source.sync_group] = source
    try:
        yield source
    finally:
        with _lock:
            registry.pop(source.sync_group, None)
