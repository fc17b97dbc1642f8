"""Typed rows of the TD and UC APIs, named exactly as the contract names their fields.

Each row is declared once, here: a frozen, slotted dataclass whose annotations are the
contract's field types. Its strict reader (``from_json``, raising
:class:`~orders_sync.sources.errors.SourceDataError` naming the field, the row and the page;
extra keys are ignored), its JSON form (``to_json``, used by the simulator), its wire struct
for the fast page decoder and its data table's columns are all derived from the declaration
(:mod:`orders_sync.sources.rows`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated

from orders_sync.sources.rows import OneOf, SourceRow

ORDER_STATUSES: frozenset[str] = frozenset(
    {"Booked", "In Process", "Ready", "Delivered", "Cancelled"}
)
PAYMENT_MODES: frozenset[str] = frozenset({"Cash", "UPI", "Card", "Wallet"})
OrderStatus = Annotated[str, OneOf(ORDER_STATUSES)]
PaymentMode = Annotated[str, OneOf(PAYMENT_MODES)]


@dataclasses.dataclass(frozen=True, slots=True)
class TdOrder(SourceRow):
    """One row of TD ``GET /reports/order-report``; key (store_code, order_number)."""

    order_number: str
    order_date: dt.date
    order_time: dt.time
    customer_name: str | None
    mobile_number: str | None
    service_type: str | None
    pieces: int | None
    gross_amount: Decimal
    discount_amount: Decimal
    net_amount: Decimal
    order_status: OrderStatus
    last_modified: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class TdSale(SourceRow):
    """One row of TD ``GET /sales-and-deliveries/sales``; key (store_code, transaction_id)."""

    transaction_id: str
    order_number: str
    payment_date: dt.date
    payment_mode: PaymentMode
    amount: Decimal
    last_modified: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class UcGstLine(SourceRow):
    """One item of UC ``GET /api/gst-report``; key (store_code, invoice_no)."""

    invoice_no: str
    invoice_date: dt.date
    order_id: str | None
    customer_name: str | None
    customer_gstin: str | None
    hsn_sac: str | None
    taxable_value: Decimal
    cgst: Decimal
    sgst: Decimal
    igst: Decimal
    invoice_total: Decimal
    last_modified: dt.datetime
