"""Strict parsing of the contract's rows: every type rule, named field and page in errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from orders_sync.sources.errors import PageContext, SourceDataError
from orders_sync.sources.models import TdOrder, TdSale, UcGstLine

CTX = PageContext("A001", "/reports/order-report", dt.date(2026, 1, 1), dt.date(2026, 1, 31), 3)

ORDER: dict[str, Any] = {
    "order_number": "A001-000123",
    "order_date": "2026-01-06",
    "order_time": "19:42:10",
    "customer_name": "R. Iyer",
    "mobile_number": "9800000001",
    "service_type": "Dry Clean",
    "pieces": 4,
    "gross_amount": "840.00",
    "discount_amount": "40.00",
    "net_amount": "800.00",
    "order_status": "Booked",
    "last_modified": "2026-01-06T19:42:10+05:30",
}
SALE: dict[str, Any] = {
    "transaction_id": "A001-T-000077",
    "order_number": "A001-000123",
    "payment_date": "2026-01-07",
    "payment_mode": "UPI",
    "amount": "800.00",
    "last_modified": "2026-01-07T10:01:00+05:30",
}
GST: dict[str, Any] = {
    "invoice_no": "UC104/2026/000051",
    "invoice_date": "2026-01-06",
    "order_id": "UC104-O-51",
    "customer_name": "S. Khan",
    "customer_gstin": None,
    "hsn_sac": "999712",
    "taxable_value": "500.00",
    "cgst": "45.00",
    "sgst": "45.00",
    "igst": "0.00",
    "invoice_total": "590.00",
    "last_modified": "2026-01-06T20:10:00+05:30",
}
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def test_contract_example_order_parses_to_typed_values() -> None:
    order = TdOrder.from_json(ORDER, page_ctx=CTX)
    assert order == TdOrder(
        order_number="A001-000123",
        order_date=dt.date(2026, 1, 6),
        order_time=dt.time(19, 42, 10),
        customer_name="R. Iyer",
        mobile_number="9800000001",
        service_type="Dry Clean",
        pieces=4,
        gross_amount=Decimal("840.00"),
        discount_amount=Decimal("40.00"),
        net_amount=Decimal("800.00"),
        order_status="Booked",
        last_modified=dt.datetime(2026, 1, 6, 19, 42, 10, tzinfo=IST),
    )
    assert order.last_modified.utcoffset() == dt.timedelta(hours=5, minutes=30)


def test_contract_example_sale_and_gst_line_parse() -> None:
    sale = TdSale.from_json(SALE, page_ctx=CTX)
    assert (sale.payment_mode, sale.amount) == ("UPI", Decimal("800.00"))
    line = UcGstLine.from_json(GST, page_ctx=CTX)
    assert (line.customer_gstin, line.invoice_total) == (None, Decimal("590.00"))


@pytest.mark.parametrize(
    ("model", "example"),
    [(TdOrder, ORDER), (TdSale, SALE), (UcGstLine, GST)],
    ids=["td-order", "td-sale", "uc-gst-line"],
)
def test_to_json_round_trips_and_unknown_fields_are_ignored(
    model: Any, example: dict[str, Any]
) -> None:
    row = model.from_json({**example, "brand_new_field": [1, 2], "extra": None}, page_ctx=CTX)
    assert row.to_json() == example
    assert model.from_json(row.to_json(), page_ctx=CTX) == row


BAD_FIELDS: list[tuple[Any, dict[str, Any], str, object, str | None]] = [
    (TdOrder, ORDER, "gross_amount", 840.0, "decimal string"),
    (TdOrder, ORDER, "gross_amount", 840, "decimal string"),
    (TdOrder, ORDER, "net_amount", "8,00.00", "decimal string"),
    (TdOrder, ORDER, "net_amount", "NaN", "decimal string"),
    (TdOrder, ORDER, "discount_amount", "", "decimal string"),
    (TdOrder, ORDER, "order_date", "2026/01/06", "YYYY-MM-DD"),
    (TdOrder, ORDER, "order_date", "20260106", "YYYY-MM-DD"),
    (TdOrder, ORDER, "order_date", "2026-02-30", "valid calendar date"),
    (TdOrder, ORDER, "order_time", "7:42 PM", "HH:MM:SS"),
    (TdOrder, ORDER, "order_time", "25:00:00", "valid time"),
    (TdOrder, ORDER, "last_modified", "2026-01-06T19:42:10", "offset"),
    (TdOrder, ORDER, "last_modified", "2026-01-06", "offset"),
    (TdOrder, ORDER, "last_modified", 1767709330, "offset"),
    (TdOrder, ORDER, "order_status", "Shipped", "one of"),
    (TdOrder, ORDER, "order_status", "booked", "one of"),
    (TdOrder, ORDER, "order_number", "", "empty"),
    (TdOrder, ORDER, "order_number", 123, "string"),
    (TdOrder, ORDER, "order_number", None, "null"),
    (TdOrder, ORDER, "pieces", "4", "integer"),
    (TdOrder, ORDER, "pieces", 4.0, "integer"),
    (TdOrder, ORDER, "pieces", True, "integer"),
    (TdOrder, ORDER, "customer_name", 42, "string or null"),
    (TdSale, SALE, "payment_mode", "Cheque", "one of"),
    (TdSale, SALE, "amount", 800.0, "decimal string"),
    (TdSale, SALE, "payment_date", "07-01-2026", "YYYY-MM-DD"),
    (TdSale, SALE, "transaction_id", None, "null"),
    (UcGstLine, GST, "cgst", 45.0, "decimal string"),
    (UcGstLine, GST, "invoice_total", "590", None),
    (UcGstLine, GST, "invoice_date", None, "null"),
    (UcGstLine, GST, "customer_gstin", 7, "string or null"),
    (UcGstLine, GST, "last_modified", "2026-01-06 20:10:00", "offset"),
]


@pytest.mark.parametrize(
    ("model", "example", "field", "value", "problem"),
    BAD_FIELDS,
    ids=[f"{model.__name__}.{field}={value!r}" for model, _, field, value, _ in BAD_FIELDS],
)
def test_bad_field_is_a_source_data_error_naming_field_row_and_page(
    model: Any, example: dict[str, Any], field: str, value: object, problem: str | None
) -> None:
    row = {**example, field: value}
    if problem is None:  # a valid variant, e.g. a decimal string without places
        model.from_json(row, page_ctx=CTX, row=5)
        return
    with pytest.raises(SourceDataError) as caught:
        model.from_json(row, page_ctx=CTX, row=5)
    error = caught.value
    assert error.field == field
    assert error.row == 5
    message = str(error)
    assert repr(field) in message
    assert problem in message
    assert "row 5" in message
    assert "page 3" in message and "store A001" in message and "/reports/order-report" in message
    assert "2026-01-01..2026-01-31" in message


@pytest.mark.parametrize(
    ("model", "example", "field"),
    [
        (TdOrder, ORDER, "order_number"),
        (TdOrder, ORDER, "gross_amount"),
        (TdOrder, ORDER, "last_modified"),
        (TdSale, SALE, "order_number"),
        (UcGstLine, GST, "invoice_no"),
        (UcGstLine, GST, "igst"),
    ],
    ids=["order-number", "gross-amount", "order-last-modified", "sale-order-number",
         "invoice-no", "igst"],
)  # fmt: skip
def test_missing_required_field_is_named(model: Any, example: dict[str, Any], field: str) -> None:
    row = {key: value for key, value in example.items() if key != field}
    with pytest.raises(SourceDataError, match=f"'{field}'.* is missing"):
        model.from_json(row, page_ctx=CTX)


@pytest.mark.parametrize(
    ("model", "example", "field"),
    [(TdOrder, ORDER, "customer_name"), (TdOrder, ORDER, "pieces"), (UcGstLine, GST, "order_id")],
    ids=["customer-name", "pieces", "order-id"],
)
def test_optional_field_may_be_null_or_absent(
    model: Any, example: dict[str, Any], field: str
) -> None:
    absent = {key: value for key, value in example.items() if key != field}
    assert getattr(model.from_json(absent), field) is None
    assert getattr(model.from_json({**example, field: None}), field) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-01-06T19:42:10+05:30", dt.datetime(2026, 1, 6, 14, 12, 10, tzinfo=dt.UTC)),
        ("2026-01-06T14:12:10Z", dt.datetime(2026, 1, 6, 14, 12, 10, tzinfo=dt.UTC)),
        ("2026-01-06t14:12:10z", dt.datetime(2026, 1, 6, 14, 12, 10, tzinfo=dt.UTC)),
        ("2026-01-06T14:12:10.5-00:00", dt.datetime(2026, 1, 6, 14, 12, 10, 500000, tzinfo=dt.UTC)),
        (
            "2026-01-06T14:12:10.123456789+00:00",
            dt.datetime(2026, 1, 6, 14, 12, 10, 123456, tzinfo=dt.UTC),
        ),
    ],
    ids=["ist-offset", "zulu", "lowercase", "fraction", "nanoseconds-truncated"],
)
def test_rfc3339_timestamps_are_aware(raw: str, expected: dt.datetime) -> None:
    parsed = TdSale.from_json({**SALE, "last_modified": raw}).last_modified
    assert parsed.tzinfo is not None
    assert parsed == expected


@pytest.mark.parametrize("row", [None, [], "text", 3], ids=["null", "array", "string", "number"])
def test_a_row_that_is_not_an_object_is_a_data_error(row: object) -> None:
    with pytest.raises(SourceDataError, match="must be a JSON object") as caught:
        TdOrder.from_json(row, page_ctx=CTX, row=0)
    assert caught.value.field == "<row>"


def test_rows_are_frozen_and_hashable() -> None:
    order = TdOrder.from_json(ORDER)
    with pytest.raises(AttributeError):
        order.order_status = "Delivered"  # type: ignore[misc]
    assert len({order, TdOrder.from_json(ORDER)}) == 1
