"""The TD CRM: orders and sales of the TD reporting API (source-api.md, "TD").

Its pipeline ``td_orders_sync`` runs two parts per window — orders, then sales — so a window
whose orders were stored but whose sales failed is ``partial``; ``--orders-only`` and
``--sales-only`` run one of them.
"""

from __future__ import annotations

from orders_sync.sources.models import TdOrder, TdSale
from orders_sync.sources.spec import Source, SourcePart, data_table
from orders_sync.sources.td_client import TdClient

TD_ORDERS = data_table("td_orders", "order_number", TdOrder, date_column="order_date")
TD_SALES = data_table("td_sales", "transaction_id", TdSale, date_column="payment_date")


SOURCE = Source(
    sync_group="TD",
    pipeline_code="td_orders_sync",
    title="TD reporting API",
    env_prefix="TD_API",
    connection_id="td_crm",
    client=TdClient,
    parts=(
        SourcePart("orders", "orders", "iter_order_pages", TD_ORDERS),
        SourcePart("sales", "sales", "iter_sale_pages", TD_SALES),
    ),
    part_flags=True,
)
