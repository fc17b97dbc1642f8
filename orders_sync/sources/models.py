"""Typed rows of the TD and UC APIs, named exactly as the contract names their fields.

Each row is a frozen, slotted dataclass with ``from_json`` (strict validation, raising
:class:`~orders_sync.sources.errors.SourceDataError` naming the field and the page; extra
keys are ignored) and ``to_json`` (the contract's wire form, used by the simulator).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from orders_sync.sources.errors import PageContext
from orders_sync.sources.json_fields import row_reader

ORDER_STATUSES: frozenset[str] = frozenset(
    {"Booked", "In Process", "Ready", "Delivered", "Cancelled"}
)
PAYMENT_MODES: frozenset[str] = frozenset({"Cash", "UPI", "Card", "Wallet"})


def _money(value: Decimal) -> str:
    return format(value, "f")


def _date(value: dt.date) -> str:
    return value.isoformat()


@dataclasses.dataclass(frozen=True, slots=True)
class TdOrder:
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
    order_status: str
    last_modified: dt.datetime

    @classmethod
    def from_json(
        cls, obj: object, *, page_ctx: PageContext | None = None, row: int | None = None
    ) -> TdOrder:
        """Validate one JSON row.

        Args:
            obj: the decoded JSON object.
            page_ctx: the request it came from, named in errors.
            row: its 0-based index in the page, named in errors.

        Raises:
            SourceDataError: a field is missing, null where required, or malformed.
        """
        r = row_reader(obj, context=page_ctx, index=row)
        return cls(
            order_number=r.text("order_number"),
            order_date=r.date("order_date"),
            order_time=r.time("order_time"),
            customer_name=r.optional_text("customer_name"),
            mobile_number=r.optional_text("mobile_number"),
            service_type=r.optional_text("service_type"),
            pieces=r.optional_int("pieces"),
            gross_amount=r.money("gross_amount"),
            discount_amount=r.money("discount_amount"),
            net_amount=r.money("net_amount"),
            order_status=r.choice("order_status", ORDER_STATUSES),
            last_modified=r.timestamp("last_modified"),
        )

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON form of this row."""
        return {
            "order_number": self.order_number,
            "order_date": _date(self.order_date),
            "order_time": self.order_time.isoformat(),
            "customer_name": self.customer_name,
            "mobile_number": self.mobile_number,
            "service_type": self.service_type,
            "pieces": self.pieces,
            "gross_amount": _money(self.gross_amount),
            "discount_amount": _money(self.discount_amount),
            "net_amount": _money(self.net_amount),
            "order_status": self.order_status,
            "last_modified": self.last_modified.isoformat(),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class TdSale:
    """One row of TD ``GET /sales-and-deliveries/sales``; key (store_code, transaction_id)."""

    transaction_id: str
    order_number: str
    payment_date: dt.date
    payment_mode: str
    amount: Decimal
    last_modified: dt.datetime

    @classmethod
    def from_json(
        cls, obj: object, *, page_ctx: PageContext | None = None, row: int | None = None
    ) -> TdSale:
        """Validate one JSON row (see :meth:`TdOrder.from_json`)."""
        r = row_reader(obj, context=page_ctx, index=row)
        return cls(
            transaction_id=r.text("transaction_id"),
            order_number=r.text("order_number"),
            payment_date=r.date("payment_date"),
            payment_mode=r.choice("payment_mode", PAYMENT_MODES),
            amount=r.money("amount"),
            last_modified=r.timestamp("last_modified"),
        )

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON form of this row."""
        return {
            "transaction_id": self.transaction_id,
            "order_number": self.order_number,
            "payment_date": _date(self.payment_date),
            "payment_mode": self.payment_mode,
            "amount": _money(self.amount),
            "last_modified": self.last_modified.isoformat(),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class UcGstLine:
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

    @classmethod
    def from_json(
        cls, obj: object, *, page_ctx: PageContext | None = None, row: int | None = None
    ) -> UcGstLine:
        """Validate one JSON item (see :meth:`TdOrder.from_json`)."""
        r = row_reader(obj, context=page_ctx, index=row)
        return cls(
            invoice_no=r.text("invoice_no"),
            invoice_date=r.date("invoice_date"),
            order_id=r.optional_text("order_id"),
            customer_name=r.optional_text("customer_name"),
            customer_gstin=r.optional_text("customer_gstin"),
            hsn_sac=r.optional_text("hsn_sac"),
            taxable_value=r.money("taxable_value"),
            cgst=r.money("cgst"),
            sgst=r.money("sgst"),
            igst=r.money("igst"),
            invoice_total=r.money("invoice_total"),
            last_modified=r.timestamp("last_modified"),
        )

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON form of this item."""
        return {
            "invoice_no": self.invoice_no,
            "invoice_date": _date(self.invoice_date),
            "order_id": self.order_id,
            "customer_name": self.customer_name,
            "customer_gstin": self.customer_gstin,
            "hsn_sac": self.hsn_sac,
            "taxable_value": _money(self.taxable_value),
            "cgst": _money(self.cgst),
            "sgst": _money(self.sgst),
            "igst": _money(self.igst),
            "invoice_total": _money(self.invoice_total),
            "last_modified": self.last_modified.isoformat(),
        }
