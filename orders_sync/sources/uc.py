"""The UC CRM: GST invoice lines of the UC GST API, stored as UC's orders (source-api.md, "UC").

Its pipeline ``uc_orders_sync`` runs one part per window: GST lines into ``uc_orders``, logged
as orders (``orders_pulled_at``; ``sales_pulled_at`` stays NULL).
"""

from __future__ import annotations

from orders_sync.sources.models import UcGstLine
from orders_sync.sources.spec import Source, SourcePart, data_table
from orders_sync.sources.uc_client import UcClient

UC_ORDERS = data_table("uc_orders", "invoice_no", UcGstLine, date_column="invoice_date")


SOURCE = Source(
    sync_group="UC",
    pipeline_code="uc_orders_sync",
    title="UC GST API",
    env_prefix="UC_API",
    connection_id="uc_crm",
    client=UcClient,
    parts=(SourcePart("gst", "orders", "iter_gst_pages", UC_ORDERS),),
)
