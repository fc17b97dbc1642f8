"""Open a pipeline by its code, with its source client built from the settings.

The standalone commands, the run profiler and the Airflow tasks get their pipelines here,
so a client is built (from ``Settings.sources``: the CRMs, or on request the simulator) in
one place only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.domain import PIPELINE_CODES, TD_ORDERS_SYNC, UC_ORDERS_SYNC
from orders_sync.exceptions import UsageError
from orders_sync.pipelines.td_orders_sync import TdOrdersSync
from orders_sync.pipelines.uc_orders_sync import UcOrdersSync
from orders_sync.pipelines.window import WindowPipeline
from orders_sync.sources import factory


@contextmanager
def open_pipeline(
    code: str,
    engine: sa.Engine,
    settings: Settings,
    *,
    orders_only: bool = False,
    sales_only: bool = False,
    pipeline_id: int | None = None,
) -> Iterator[WindowPipeline]:
    """The pipeline ``code`` over a fresh client of its API, closed on exit.

    Args:
        code: ``td_orders_sync`` or ``uc_orders_sync``.
        engine: the orders database.
        settings: where the API URLs, tokens and HTTP knobs come from.
        orders_only: TD only: pull orders only.
        sales_only: TD only: pull sales only.
        pipeline_id: ``pipelines.id`` of ``code`` if already resolved.

    Raises:
        UsageError: unknown code, or TD-only options for UC, or both options.
        ConfigurationError: the API is not configured or ``pipelines`` lacks the row.
    """
    if code == TD_ORDERS_SYNC:
        if orders_only and sales_only:
            raise UsageError("--orders-only and --sales-only are mutually exclusive.")
        td_client = factory.td_client_from_settings(settings)
        try:
            yield TdOrdersSync(
                engine,
                td_client,
                orders_only=orders_only,
                sales_only=sales_only,
                pipeline_id=pipeline_id,
            )
        finally:
            td_client.close()
    elif code == UC_ORDERS_SYNC:
        if orders_only or sales_only:
            raise UsageError("--orders-only and --sales-only apply to td_orders_sync only.")
        uc_client = factory.uc_client_from_settings(settings)
        try:
            yield UcOrdersSync(engine, uc_client, pipeline_id=pipeline_id)
        finally:
            uc_client.close()
    else:
        raise UsageError(f"unknown pipeline {code!r}; expected one of {', '.join(PIPELINE_CODES)}.")
