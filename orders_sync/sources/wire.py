"""Fast, strict decoding of whole API pages with msgspec: JSON bytes → typed rows.

A page is decoded twice, both times in C:

1. into wire structs that carry the contract's shape (required keys, strict types, RFC 3339
   dates and timestamps with an offset, the enumerated statuses; unknown fields ignored),
   whose string formats — money as a decimal *string*, clock times, keys not blank — are
   then checked for the whole page at once (one regex run over a column's values joined,
   not one per value);
2. straight into the row dataclasses of :mod:`orders_sync.sources.models` (``Decimal``,
   ``time`` and all), now that every value is known to be one the contract allows.

Both the wire structs and the page checks are derived from the row declarations
(:mod:`orders_sync.sources.rows`): a field is declared once.

A page whose rows pass 1 accepts but pass 2 cannot build (an optional key absent, a clock
with more than microseconds, which the contract truncates) is built from pass 1's structs
instead. A page either pass refuses is handed back (``None``) to the hand-written validator
of :mod:`orders_sync.sources.json_fields`, which then raises the error naming the field, the
row and the page — so the fast path never accepts what the strict one refuses, and errors
read the same either way.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import msgspec

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync.sources.rows import Kind, fields_of_kind, from_wire, wire_struct

_MONEY = re.compile(r"(?:-?\d+(?:\.\d+)?,)*")
_CLOCK = re.compile(r"(?:\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?,)*")
_MICROSECOND_CLOCK = len("HH:MM:SS.ffffff")


class _Pagination(msgspec.Struct):
    total_pages: Annotated[int, msgspec.Meta(ge=0)]


def _list_of(item: Any) -> Any:
    """``list[item]`` for a type built at run time."""
    return list[item]


def _td_page(row: type) -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    """Pass 1 and pass 2 decoders of a TD page (``data`` + ``pagination``) of ``row``."""
    wire = msgspec.defstruct(
        f"TdPage{row.__name__}", [("data", _list_of(wire_struct(row))), ("pagination", _Pagination)]
    )
    rows = msgspec.defstruct(f"TdRows{row.__name__}", [("data", _list_of(row))])
    return msgspec.json.Decoder(wire), msgspec.json.Decoder(rows)


def _uc_page(row: type) -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    """Pass 1 and pass 2 decoders of a UC page (``items`` + ``next_cursor``) of ``row``."""
    cursor = Annotated[str, msgspec.Meta(min_length=1)] | None
    wire = msgspec.defstruct(
        f"UcPage{row.__name__}", [("items", _list_of(wire_struct(row))), ("next_cursor", cursor)]
    )
    rows = msgspec.defstruct(f"UcRows{row.__name__}", [("items", _list_of(row))])
    return msgspec.json.Decoder(wire), msgspec.json.Decoder(rows)


_TD_ORDER_PAGE, _TD_ORDER_ROWS = _td_page(TdOrder)
_TD_SALE_PAGE, _TD_SALE_ROWS = _td_page(TdSale)
_UC_PAGE, _UC_ROWS = _uc_page(UcGstLine)

_Row = TypeVar("_Row")


def _column(items: Sequence[Any], field: str) -> list[str]:
    return list(map(operator.attrgetter(field), items))


def _formatted(pattern: re.Pattern[str], values: list[str]) -> bool:
    """Every value matches ``pattern``'s item: the values joined by ``,`` (which no item
    contains: a ``,`` inside a value would add one) match its run exactly."""
    joined = ",".join(values) + "," if values else ""
    return pattern.fullmatch(joined) is not None and joined.count(",") == len(values)


def _page_valid(row: type, items: Sequence[Any]) -> bool:
    """The string formats of a page that pass 1 cannot check: required texts not blank
    (the same test as the strict reader's), money and clock formats."""
    return (
        all(all(map(str.strip, _column(items, f))) for f in fields_of_kind(row, Kind.TEXT))
        and all(_formatted(_MONEY, _column(items, f)) for f in fields_of_kind(row, Kind.MONEY))
        and all(_formatted(_CLOCK, _column(items, f)) for f in fields_of_kind(row, Kind.TIME))
    )


def _exact(row: type, items: Sequence[Any]) -> bool:
    """Whether pass 2 can build the rows exactly: no clock finer than microseconds (which
    the contract truncates, and msgspec refuses)."""
    return all(
        max(map(len, _column(items, f)), default=0) <= _MICROSECOND_CLOCK
        for f in fields_of_kind(row, Kind.TIME)
    )


def _rows(row: type[_Row], items: list[Any], build: Callable[[], list[_Row]]) -> list[_Row] | None:
    """The page's rows by pass 2 (``build``), or from pass 1's structs when pass 2 cannot
    build them exactly (an optional key absent, a clock finer than microseconds); ``None``
    when a page check fails or a value does not convert."""
    if not _page_valid(row, items):
        return None
    if _exact(row, items):
        try:
            return build()
        except msgspec.ValidationError:
            pass
    try:
        return [from_wire(row, item) for item in items]
    except ValueError:
        return None


def _decode(decoder: msgspec.json.Decoder[Any], content: bytes) -> Any:
    try:
        return decoder.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


def td_order_page(content: bytes) -> tuple[list[TdOrder], int] | None:
    """The orders and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    page = _decode(_TD_ORDER_PAGE, content)
    if page is None:
        return None
    rows = _rows(TdOrder, page.data, lambda: _TD_ORDER_ROWS.decode(content).data)
    return None if rows is None else (rows, page.pagination.total_pages)


def td_sale_page(content: bytes) -> tuple[list[TdSale], int] | None:
    """The sales and ``total_pages`` of one TD page; ``None`` when the page is not valid."""
    page = _decode(_TD_SALE_PAGE, content)
    if page is None:
        return None
    rows = _rows(TdSale, page.data, lambda: _TD_SALE_ROWS.decode(content).data)
    return None if rows is None else (rows, page.pagination.total_pages)


def uc_page(content: bytes) -> tuple[list[UcGstLine], str | None] | None:
    """The GST lines and ``next_cursor`` of one UC page; ``None`` when the page is not valid."""
    page = _decode(_UC_PAGE, content)
    if page is None:
        return None
    rows = _rows(UcGstLine, page.items, lambda: _UC_ROWS.decode(content).items)
    return None if rows is None else (rows, page.next_cursor)
