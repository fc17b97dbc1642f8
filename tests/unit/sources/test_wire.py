"""The msgspec fast path decodes exactly what the strict row parsers accept, to equal rows,
and hands every page they refuse back to them (so their error names the field and row)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from orders_sync.sources import wire
from orders_sync.sources.errors import PageContext, SourceDataError
from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync_devtools.simulator.clock import IST
from orders_sync_devtools.simulator.dataset import SimulatedDataset

NOW = dt.datetime(2026, 1, 20, 12, 0, tzinfo=IST)
FIRST, LAST = dt.date(2025, 12, 1), dt.date(2026, 1, 19)
DATA = SimulatedDataset(seed=7)
CONTEXT = PageContext("A001", "/x", FIRST, LAST, 1)


def _td_body(rows: list[Any]) -> dict[str, Any]:
    return {
        "data": [row.to_json() for row in rows],
        "pagination": {"page": 1, "page_size": 500, "total_rows": len(rows), "total_pages": 1},
    }


def _uc_body(rows: list[Any]) -> dict[str, Any]:
    return {"items": [row.to_json() for row in rows], "next_cursor": None}


PAGES: dict[str, tuple[Callable[[bytes], Any], Any, list[Any], Callable[..., Any]]] = {
    "td-orders": (wire.td_order_page, TdOrder, DATA.td_orders("A001", FIRST, LAST, NOW), _td_body),
    "td-sales": (wire.td_sale_page, TdSale, DATA.td_sales("A001", FIRST, LAST, NOW), _td_body),
    "uc-gst": (wire.uc_page, UcGstLine, DATA.uc_gst("UC104", FIRST, LAST, NOW), _uc_body),
}


@pytest.mark.parametrize("kind", PAGES, ids=PAGES.keys())
def test_a_valid_page_decodes_to_the_strict_parsers_rows(kind: str) -> None:
    decode, model, rows, body = PAGES[kind]
    assert rows, "the simulator produced no rows"
    page = body(rows)
    decoded = decode(json.dumps(page).encode())
    assert decoded is not None
    items = page["data"] if "data" in page else page["items"]
    strict = [model.from_json(item, page_ctx=CONTEXT, row=i) for i, item in enumerate(items)]
    assert decoded[0] == strict == rows
    assert decoded[1] in (1, None)


def _break(page: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    broken = copy.deepcopy(page)
    change(broken["data"][3])
    return broken


BROKEN = {
    "money-as-number": lambda row: row.update(net_amount=800.0),
    "money-with-exponent": lambda row: row.update(net_amount="8e2"),
    "money-with-newline": lambda row: row.update(net_amount="800.00\n"),
    "money-with-comma": lambda row: row.update(gross_amount="1,200.00"),
    "two-monies-in-one": lambda row: row.update(discount_amount="0.00,1.00"),
    "empty-money": lambda row: row.update(net_amount=""),
    "missing-key": lambda row: row.pop("order_number"),
    "blank-key": lambda row: row.update(order_number="   "),
    "bad-date": lambda row: row.update(order_date="2026-02-30"),
    "naive-timestamp": lambda row: row.update(last_modified="2026-01-06T19:42:10"),
    "time-with-offset": lambda row: row.update(order_time="19:42:10Z"),
    "bad-time": lambda row: row.update(order_time="25:00:00"),
    "bad-nanosecond-time": lambda row: row.update(order_time="25:00:00.123456789"),
    "time-with-ten-fraction-digits": lambda row: row.update(order_time="19:42:10.1234567891"),
    "unknown-status": lambda row: row.update(order_status="Lost"),
    "pieces-as-bool": lambda row: row.update(pieces=True),
    "pieces-as-float": lambda row: row.update(pieces=2.5),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=BROKEN.keys())
def test_a_page_the_strict_parser_refuses_is_handed_back(change: Callable[..., None]) -> None:
    _, model, rows, body = PAGES["td-orders"]
    broken = _break(body(rows), change)
    assert wire.td_order_page(json.dumps(broken).encode()) is None
    with pytest.raises(SourceDataError):
        for index, item in enumerate(broken["data"]):
            model.from_json(item, page_ctx=CONTEXT, row=index)


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("td-sales", "transaction_id", " "), ("td-sales", "amount", "12"), ("td-sales", "amount", 12),
     ("uc-gst", "invoice_no", ""), ("uc-gst", "igst", "1.5e1"), ("uc-gst", "invoice_total", "-")],
)  # fmt: skip
def test_every_page_kind_checks_its_keys_and_money(kind: str, field: str, value: object) -> None:
    decode, model, rows, body = PAGES[kind]
    page = body(rows)
    items = page["data"] if "data" in page else page["items"]
    items[-1][field] = value
    valid = value == "12"  # a whole number is a decimal string too
    assert (decode(json.dumps(page).encode()) is not None) is valid
    if not valid:
        with pytest.raises(SourceDataError):
            model.from_json(items[-1], page_ctx=CONTEXT, row=len(items) - 1)


def test_a_clock_past_microseconds_is_truncated_as_the_strict_parser_does() -> None:
    _, model, rows, body = PAGES["td-orders"]
    page = body(rows[:3])
    page["data"][1]["order_time"] = "19:42:10.123456789"
    decoded = wire.td_order_page(json.dumps(page).encode())
    assert decoded is not None
    strict = [model.from_json(item, page_ctx=CONTEXT, row=i) for i, item in enumerate(page["data"])]
    assert decoded[0] == strict
    assert decoded[0][1].order_time == dt.time(19, 42, 10, 123456)


def test_unknown_fields_are_ignored_and_absent_optionals_are_null() -> None:
    _, _, rows, body = PAGES["td-orders"]
    page = body(rows[:2])
    page["data"][0]["loyalty_tier"] = "gold"
    page["data"][1].pop("customer_name")
    page["extra_envelope_key"] = {"anything": 1}
    decoded = wire.td_order_page(json.dumps(page).encode())
    assert decoded is not None
    assert decoded[0][0] == rows[0] and decoded[0][1].customer_name is None


@pytest.mark.parametrize(
    "body",
    [b"[]", b"not json", b'{"data": {}, "pagination": {"total_pages": 1}}',
     b'{"data": [], "pagination": {"total_pages": -1}}', b'{"items": [], "next_cursor": ""}'],
    ids=["array", "not-json", "data-not-list", "negative-pages", "empty-cursor"],
)  # fmt: skip
def test_bad_envelopes_are_handed_back(body: bytes) -> None:
    assert wire.td_order_page(body) is None
    assert wire.uc_page(body) is None
