"""``uc_orders_sync``: UC GST invoice lines (treated as orders) of one store + window, logged.

Library use::

    pipeline = UcOrdersSync(engine, client)            # client: a UcClient
    result = pipeline.run_window(WindowRequest(...))

Command line (``scripts/uc_orders_sync.sh``, :mod:`orders_sync.pipelines.standalone`)::

    python -m orders_sync.pipelines uc_orders_sync [--env E] [--store-code C]
        [--from-date YYYY-MM-DD] [--to-date YYYY-MM-DD]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa

from orders_sync.pipelines.logged_window import SourcePipeline
from orders_sync.pipelines.page_writer import DEFAULT_BATCH_ROWS
from orders_sync.sources.models import UcGstLine
from orders_sync.sources.uc import SOURCE


class UcSource(Protocol):
    """What the pipeline needs of :class:`orders_sync.sources.uc_client.UcClient`."""

    def iter_gst_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[UcGstLine]]: ...


class UcOrdersSync(SourcePipeline):
    """The UC pipeline: GST lines into ``uc_orders``, for one store + window per call.

    Final status ``success`` or ``failed``; ``orders_pulled_at`` is set when the GST lines
    are pulled and stored, ``sales_pulled_at`` stays NULL (requirement §C).

    Args:
        engine: the orders database.
        client: the UC API client; the caller owns (and closes) it.
        pipeline_id: ``pipelines.id`` of ``uc_orders_sync`` if already known; else it is
            resolved once, here.
        batch_rows: rows of whole source pages written per transaction.

    Raises:
        ConfigurationError: ``pipelines`` has no ``uc_orders_sync`` row.
    """

    def __init__(
        self,
        engine: sa.Engine,
        client: UcSource,
        *,
        pipeline_id: int | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        super().__init__(engine, SOURCE, client, pipeline_id=pipeline_id, batch_rows=batch_rows)
