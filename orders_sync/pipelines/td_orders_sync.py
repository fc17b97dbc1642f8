"""``td_orders_sync``: TD orders and sales of one store over one date window, logged.

Library use::

    pipeline = TdOrdersSync(engine, client)            # client: a TdClient
    result = pipeline.run_window(WindowRequest(...))

Command line (``scripts/td_orders_sync.sh``, :mod:`orders_sync.pipelines.standalone`)::

    python -m orders_sync.pipelines td_orders_sync [--env E] [--store-code C]
        [--from-date YYYY-MM-DD] [--to-date YYYY-MM-DD] [--orders-only | --sales-only]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa

from orders_sync.pipelines.logged_window import SourcePipeline
from orders_sync.pipelines.page_writer import DEFAULT_BATCH_ROWS
from orders_sync.sources.models import TdOrder, TdSale
from orders_sync.sources.td import SOURCE


class TdSource(Protocol):
    """What the pipeline needs of :class:`orders_sync.sources.td_client.TdClient`."""

    def iter_order_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdOrder]]: ...

    def iter_sale_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdSale]]: ...


class TdOrdersSync(SourcePipeline):
    """The TD pipeline: orders, then sales, for one store + window per call.

    Final status (requirement §C): ``success`` when every part that ran succeeded;
    ``partial`` when orders were stored but sales failed; ``failed`` when the first part
    (orders, or sales with ``sales_only``) failed.

    Args:
        engine: the orders database.
        client: the TD API client; the caller owns (and closes) it.
        orders_only: pull orders only (``--orders-only``).
        sales_only: pull sales only (``--sales-only``).
        pipeline_id: ``pipelines.id`` of ``td_orders_sync`` if already known; else it is
            resolved once, here.
        batch_rows: rows of whole source pages written per transaction.

    Raises:
        ValueError: both ``orders_only`` and ``sales_only``.
        ConfigurationError: ``pipelines`` has no ``td_orders_sync`` row.
    """

    def __init__(
        self,
        engine: sa.Engine,
        client: TdSource,
        *,
        orders_only: bool = False,
        sales_only: bool = False,
        pipeline_id: int | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        if orders_only and sales_only:
            raise ValueError("orders_only and sales_only are mutually exclusive")
        only = "orders" if orders_only else "sales" if sales_only else None
        super().__init__(
            engine, SOURCE, client, only=only, pipeline_id=pipeline_id, batch_rows=batch_rows
        )
