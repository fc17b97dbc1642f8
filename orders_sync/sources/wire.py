"""Fast, strict decoding of whole API pages with msgspec: JSON bytes → typed rows.

Each page is decoded in C into wire structs that carry the contract's constraints (required
keys, strict types, money as a decimal *string*, RFC 3339 dates and timestamps with an
offset, the enumerated statuses; unknown fields ignored), then turned into the row
dataclasses of :mod:`orders_sync.sources.models`. A page msgspec refuses is handed back
(``None``) to the hand-written validator of :mod:`orders_sync.sources.json_fields`, which
then raises the error naming the field, the row and the page — so the fast path never
accepts what the strict one refuses, and errors read the same either way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine

Text = Annotated[str, msgspec.Meta(pattern=r"\S")]
"""A required string that is not blank."""
Money = Annotated[str, msgspec.Meta(pattern=r"\A-?\d+(?:\.\d+)?\Z")]
"""A decimal string such as ``"1234.50"`` (never a JSON number, no exponent)."""
Clock = Annotated[str, msgspec.Meta(pattern=r"\A\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?\Z")]
Timestamp = Annotated[dt.datetime, msgspec.Meta(tz=True)]
OrderStatus = Literal["Booked", "In Process", "Ready", "Delivered", "Cancelled"]
PaymentMode = Literal["Cash", "UPI", "Card", "Wallet"]


class _TdOrder(msgspec.Struct, kw_only=True):
    order_number: Text
    order_date: dt.date
    order_time: Clock
    customer_name: str | None = None
    mobile_number: str | None = None
    service_type: str | None = None
    pieces: int | None = None
    gross_amount: Money
    discount_amount: Money
    net_amount: Money
    order_status: OrderStatus
    last_modified: Timestamp


class _TdSale(msgspec.Struct, kw_only=True):
    transaction_id: Text
    order_number: Text
    payment_date: dt.date
    payment_mode: PaymentMode
    amount: Money
    last_modified: Timestamp


class _UcGstLine(msgspec.Struct, kw_only=True):
    invoice_no: Text
    invoice_date: dt.date
    order_id: str | None = None
    customer_name: str | None = None
    customer_gstin: str | None = None
    hsn_sac: str | None = None
    taxable_value: Money
    cgst: Money
    sgst: Money
    igst: Money
    invoice_total: Money
    last_modified: Timestamp


class _Pagination(msgspec.Struct):
    total_pages: Annotated[int, msgspec.Meta(ge=0)]


class _TdOrderPage(msgspec.Struct):
    data: list[_TdOrder]
    pagination: _Pagination


class _TdSalePage(msgspec.Struct):
    data: list[_TdSale]
    pagination: _Pagination


class _UcPage(msgspec.Struct):
    items: list[_UcGstLine]
    next_cursor: Annotated[str, msgspec.Meta(min_length=1)] | None


_TD_ORDER_PAGE = msgspec.json.Decoder(_TdOrderPage)
_TD_SALE_PAGE = msgspec.json.Decoder(_TdSalePage)
_UC_PAGE = msgspec.json.Decoder(_UcPage)


def _clock(text: str) -> dt.time:
    if len(text) == 8:
        return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]))
    fraction = text[9:15].ljust(6, "0")  # truncated to microseconds, as the strict reader
    return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]), int(fraction))


def td_order_page(content: bytes) -> tuple[list[TdOrder], int] | None:
    """The orders and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    try:
        page = _TD_ORDER_PAGE.decode(content)
        rows = [
            TdOrder(
                order_number=w.order_number,
                order_date=w.order_date,
                order_time=_clock(w.order_time),
                customer_name=w.customer_name,
                mobile_number=w.mobile_number,
                service_type=w.service_type,
                pieces=w.pieces,
                gross_amount=Decimal(w.gross_amount),
                discount_amount=Decimal(w.discount_amount),
                net_amount=Decimal(w.net_amount),
                order_status=w.order_status,
                last_modified=w.last_modified,
            )
            for w in page.data
        ]
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError):
        return None
    return rows, page.pagination.total_pages


def td_sale_page(content: bytes) -> tuple[list[TdSale], int] | None:
    """The sales and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    try:
        page = _TD_SALE_PAGE.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows = [
        TdSale(
            transaction_id=w.transaction_id,
            order_number=w.order_number,
            payment_date=w.payment_date,
            payment_mode=w.payment_mode,
            amount=Decimal(w.amount),
            last_modified=w.last_modified,
        )
        for w in page.data
    ]
    return rows, page.pagination.total_pages


def uc_page(content: bytes) -> tuple[list[UcGstLine], str | None] | None:
    """The GST lines and ``next_cursor`` of one UC page; ``None`` when the page is not valid."""
    try:
        page = _UC_PAGE.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    rows = [
        UcGstLine(
            invoice_no=w.invoice_no,
            invoice_date=w.invoice_date,
            order_id=w.order_id,
            customer_name=w.customer_name,
            customer_gstin=w.customer_gstin,
            hsn_sac=w.hsn_sac,
            taxable_value=Decimal(w.taxable_value),
            cgst=Decimal(w.cgst),
            sgst=Decimal(w.sgst),
            igst=Decimal(w.igst),
            invoice_total=Decimal(w.invoice_total),
            last_modified=w.last_modified,
        )
        for w in page.items
    ]
    return rows, page.next_cursor
