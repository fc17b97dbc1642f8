"""What a source is: one declaration that every layer reads.

A :class:`Source` says everything the project needs to sync one CRM: its pipeline code and
``store_master.sync_group``, where its settings come from (environment variables, the Airflow
connection), how to build its client, and its parts — each a stream of pages upserted into
one :class:`DataTable`. The sources in use are listed by :mod:`orders_sync.sources.registry`;
``td.py`` and ``uc.py`` beside this module declare the two built-in ones.

Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from orders_sync.sources.rows import PG_TYPES, row_fields


@dataclasses.dataclass(frozen=True, slots=True)
class DataTable:
    """How one data table is keyed and which source fields it stores.

    Attributes:
        name: the table.
        key: the source key besides ``store_code`` (the unique constraint is
            ``(store_code, key)``).
        fields: every source field, in the source row's attribute names, key included.
        types: the PostgreSQL type of each of ``copy_columns`` then ``last_run_id`` (for
            ``COPY``).
        date_column: the business date a row belongs to (asset events report its range).
    """

    name: str
    key: str
    fields: tuple[str, ...]
    types: tuple[str, ...] = ()
    date_column: str = ""

    @property
    def staging(self) -> str:
        """Name of the session's temporary staging table."""
        return f"stage_{self.name}"

    @property
    def copy_columns(self) -> tuple[str, ...]:
        """Columns written by ``COPY``: ``store_code`` then every source field."""
        return ("store_code", *self.fields)

    @property
    def value_columns(self) -> tuple[str, ...]:
        """Columns an update may change (every source field but the key)."""
        return tuple(f for f in self.fields if f != self.key)


def data_table(name: str, key: str, row: type, *, date_column: str) -> DataTable:
    """A table's spec from its source row declaration (:mod:`orders_sync.sources.rows`).

    Raises:
        ValueError: ``key`` or ``date_column`` is not a field of ``row``.
    """
    fields = row_fields(row)
    names = tuple(field.name for field in fields)
    for column in (key, date_column):
        if column not in names:
            raise ValueError(f"{column!r} is not a field of {row.__name__}")
    column_types = tuple(PG_TYPES[field.kind] for field in fields)
    return DataTable(name, key, names, ("text", *column_types, "text"), date_column)


PageSource = Callable[[str, dt.date, dt.date], Iterable[Sequence[Any]]]
"""``(store_code, from_date, to_date) -> pages``: a client's ``iter_*_pages`` method."""


@dataclasses.dataclass(frozen=True, slots=True)
class SourcePart:
    """One stream of pages of a source, written to one data table.

    Attributes:
        name: named in error messages (``orders``, ``sales``, ``gst``) and, for a source
            with :attr:`Source.part_flags`, in the standalone command's ``--<name>-only``.
        pulled: the log column set when the part is done: ``orders`` (``orders_pulled_at``)
            or ``sales`` (``sales_pulled_at``).
        pages: the name of the client's method that yields the part's pages.
        table: where its rows are upserted.
    """

    name: str
    pulled: str
    pages: str
    table: DataTable

    def __post_init__(self) -> None:
        if self.pulled not in PULLED_COLUMNS:
            raise ValueError(f"pulled must be one of {PULLED_COLUMNS}, got {self.pulled!r}")


PULLED_COLUMNS = ("orders", "sales")
"""A part's ``pulled``: the ``orders_sync_log`` columns ``orders_pulled_at`` and
``sales_pulled_at`` (requirement §A)."""


class SourceClient(Protocol):
    """What the project needs of any source's client besides its page methods."""

    def close(self) -> None:
        """Release the client's connections."""
        ...


ClientFactory = Callable[..., SourceClient]
"""``(base_url, token, **HttpOptions fields) -> client``: the client class, typically
(:class:`orders_sync.config.HttpOptions`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """One CRM: everything every layer needs to know of it.

    Attributes:
        sync_group: ``store_master.sync_group`` of the stores it syncs (``TD``).
        pipeline_code: ``pipelines.code`` of its pipeline (``td_orders_sync``).
        title: a short human name (``TD reporting API``).
        env_prefix: its environment variables are ``<prefix>_BASE_URL``,
            ``<prefix>_TOKEN`` and ``<prefix>_MAX_RPS`` (``TD_API``).
        connection_id: its Airflow connection (``td_crm``): host → base URL, password →
            token.
        client: builds its client: ``client(base_url, token, max_rps=..., timeout_s=...,
            max_attempts=..., ...)`` (``max_rps`` the run's request budget, ``None``: found;
            the rest the fields of :class:`orders_sync.config.HttpOptions`).
        parts: its streams, in the order a window runs them; the first failing makes the
            window ``failed``, a later one ``partial``.
        part_flags: whether the standalone command offers ``--<part>-only`` for its parts.
    """

    sync_group: str
    pipeline_code: str
    title: str
    env_prefix: str
    connection_id: str
    client: ClientFactory
    parts: tuple[SourcePart, ...]
    part_flags: bool = False

    def __post_init__(self) -> None:
        if not self.parts:
            raise ValueError(f"source {self.sync_group} declares no part")
        names = [part.name for part in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"source {self.sync_group} declares a part twice: {names}")

    @property
    def base_url_variable(self) -> str:
        """The environment variable of its base URL (``TD_API_BASE_URL``)."""
        return f"{self.env_prefix}_BASE_URL"

    @property
    def token_variable(self) -> str:
        """The environment variable of its token (``TD_API_TOKEN``)."""
        return f"{self.env_prefix}_TOKEN"

    @property
    def max_rps_variable(self) -> str:
        """The environment variable of its request budget (``TD_API_MAX_RPS``)."""
        return f"{self.env_prefix}_MAX_RPS"

    @property
    def tables(self) -> tuple[DataTable, ...]:
        """Its data tables, one per part, in part order (a table written twice: once)."""
        return tuple(dict.fromkeys(part.table for part in self.parts))

    def select_parts(self, only: str | None) -> tuple[SourcePart, ...]:
        """Its parts, or only the one named ``only``.

        Raises:
            ValueError: ``only`` names no part of this source.
        """
        if only is None:
            return self.parts
        chosen = tuple(part for part in self.parts if part.name == only)
        if not chosen:
            raise ValueError(f"{self.pipeline_code} has no part {only!r}")
        return chosen
