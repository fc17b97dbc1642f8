"""Fast, strict decoding of whole API pages with msgspec: JSON bytes → typed rows.

A page is decoded twice, both times in C:

1. into wire structs that carry the contract's shape (required keys, strict types, RFC 3339
   dates and timestamps with an offset, the enumerated statuses; unknown fields ignored),
   whose string formats — money as a decimal *string*, clock times, keys not blank — are
   then checked for the whole page at once (one regex run over a column's values joined,
   not one per value);
2. straight into the row dataclasses of :mod:`orders_sync.sources.models` (``Decimal``,
   ``time`` and all), now that every value is known to be one the contract allows.

A page whose rows pass 1 accepts but pass 2 cannot build (an optional key absent, a clock
with more than microseconds, which the contract truncates) is built from pass 1's structs
instead. A page either pass refuses is handed back (``None``) to the hand-written validator
of :mod:`orders_sync.sources.json_fields`, which then raises the error naming the field, the
row and the page — so the fast path never accepts what the strict one refuses, and errors
read the same either way.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine

Text = str
"""A required string that is not blank (checked per page: :func:`_texts`)."""
Money = str
"""A decimal string such as ``"1234.50"``: never a JSON number, no exponent (:data:`_MONEY`)."""
Clock = str
"""``HH:MM:SS`` with up to 9 fraction digits, no offset (:data:`_CLOCK`)."""
_MONEY = re.compile(r"(?:-?\d+(?:\.\d+)?,)*")
_CLOCK = re.compile(r"(?:\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?,)*")
_MICROSECOND_CLOCK = len("HH:MM:SS.ffffff")
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


class _TdOrderRows(msgspec.Struct):
    data: list[TdOrder]


class _TdSaleRows(msgspec.Struct):
    data: list[TdSale]


class _UcRows(msgspec.Struct):
    items: list[UcGstLine]


_TD_ORDER_PAGE = msgspec.json.Decoder(_TdOrderPage)
_TD_SALE_PAGE = msgspec.json.Decoder(_TdSalePage)
_UC_PAGE = msgspec.json.Decoder(_UcPage)
_TD_ORDER_ROWS = msgspec.json.Decoder(_TdOrderRows)
_TD_SALE_ROWS = msgspec.json.Decoder(_TdSaleRows)
_UC_ROWS = msgspec.json.Decoder(_UcRows)

_Wire = TypeVar("_Wire", bound=msgspec.Struct)
_Row = TypeVar("_Row")


def _column(items: Sequence[Any], field: str) -> list[str]:
    return list(map(operator.attrgetter(field), items))


def _texts(items: Sequence[Any], *fields: str) -> bool:
    """Every value of ``fields`` holds a non-space character (regex ``\\S``, the same test)."""
    return all(all(map(str.strip, _column(items, field))) for field in fields)


def _formatted(pattern: re.Pattern[str], values: list[str]) -> bool:
    """Every value matches ``pattern``'s item: the values joined by ``,`` (which no item
    contains: a ``,`` inside a value would add one) match its run exactly."""
    joined = ",".join(values) + "," if values else ""
    return pattern.fullmatch(joined) is not None and joined.count(",") == len(values)


def _monies(items: Sequence[Any], *fields: str) -> bool:
    return all(_formatted(_MONEY, _column(items, field)) for field in fields)


def _rows(
    items: list[_Wire],
    build: Callable[[], list[_Row]],
    convert: Callable[[_Wire], _Row],
    *,
    exact: bool = True,
) -> list[_Row] | None:
    """The page's rows by pass 2 (``build``), or from pass 1's structs when pass 2 cannot
    build them (or ``exact`` is false); ``None`` when a value does not convert."""
    if exact:
        try:
            return build()
        except msgspec.ValidationError:
            pass
    try:
        return [convert(item) for item in items]
    except ValueError:
        return None


def _clock(text: str) -> dt.time:
    if len(text) == 8:
        return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]))
    fraction = text[9:15].ljust(6, "0")  # truncated to microseconds, as the strict reader
    return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]), int(fraction))


def _td_order(w: _TdOrder) -> TdOrder:
    return TdOrder(
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


def _td_sale(w: _TdSale) -> TdSale:
    return TdSale(
        transaction_id=w.transaction_id,
        order_number=w.order_number,
        payment_date=w.payment_date,
        payment_mode=w.payment_mode,
        amount=Decimal(w.amount),
        last_modified=w.last_modified,
    )


def _uc_line(w: _UcGstLine) -> UcGstLine:
    return UcGstLine(
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


def td_order_page(content: bytes) -> tuple[list[TdOrder], int] | None:
    """The orders and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    try:
        page = _TD_ORDER_PAGE.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    data = page.data
    clocks = _column(data, "order_time")
    if not (
        _texts(data, "order_number")
        and _monies(data, "gross_amount", "discount_amount", "net_amount")
        and _formatted(_CLOCK, clocks)
    ):
        return None
    exact = max(map(len, clocks), default=0) <= _MICROSECOND_CLOCK
    rows = _rows(data, lambda: _TD_ORDER_ROWS.decode(content).data, _td_order, exact=exact)
    return None if rows is None else (rows, page.pagination.total_pages)


def td_sale_page(content: bytes) -> tuple[list[TdSale], int] | None:
    """The sales and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    try:
        page = _TD_SALE_PAGE.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    data = page.data
    if not (_texts(data, "transaction_id", "order_number") and _monies(data, "amount")):
        return None
    rows = _rows(data, lambda: _TD_SALE_ROWS.decode(content).data, _td_sale)
    return None if rows is None else (rows, page.pagination.total_pages)


def uc_page(content: bytes) -> tuple[list[UcGstLine], str | None] | None:
    """The GST lines and ``next_cursor`` of one UC page; ``None`` when the page is not valid."""
    try:
        page = _UC_PAGE.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    items = page.items
    money = ("taxable_value", "cgst", "sgst", "igst", "invoice_total")
    if not (_texts(items, "invoice_no") and _monies(items, *money)):
        return None
    rows = _rows(items, lambda: _UC_ROWS.decode(content).items, _uc_line)
    return None if rows is None else (rows, page.next_cursor)
