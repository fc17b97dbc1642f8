"""Client behaviour on odd or broken responses, served by an in-memory transport.

The happy paths run against the real simulator over loopback (tests/integration/sources);
these cases need bodies no well-behaved server sends.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orders_sync.exceptions import ConfigurationError
from orders_sync.sources.errors import (
    SourceAuthError,
    SourceDataError,
    SourceError,
    SourceNotFoundError,
)
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient

TOKEN = "s3cr3t-token-value"
JAN = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
ORDER = {
    "order_number": "A001-1", "order_date": "2026-01-06", "order_time": "19:42:10",
    "customer_name": None, "mobile_number": None, "service_type": None, "pieces": None,
    "gross_amount": "1.00", "discount_amount": "0.00", "net_amount": "1.00",
    "order_status": "Booked", "last_modified": "2026-01-06T19:42:10+05:30",
}  # fmt: skip


def serve(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(answer)


def td(answer: Callable[[httpx.Request], httpx.Response]) -> TdClient:
    return TdClient("http://td.test", TOKEN, transport=serve(answer), sleep=lambda _: None)


def uc(answer: Callable[[httpx.Request], httpx.Response]) -> UcClient:
    return UcClient("http://uc.test", TOKEN, transport=serve(answer), sleep=lambda _: None)


def body(payload: Any, status: int = 200) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=json.dumps(payload).encode())


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "<body>"),
        ({"pagination": {"total_pages": 1}}, "data"),
        ({"data": {}, "pagination": {"total_pages": 1}}, "data"),
        ({"data": []}, "pagination.total_pages"),
        ({"data": [], "pagination": {"total_pages": "1"}}, "pagination.total_pages"),
        ({"data": [], "pagination": {"total_pages": -1}}, "pagination.total_pages"),
        ({"data": [{**ORDER, "net_amount": 1.0}], "pagination": {"total_pages": 1}}, "net_amount"),
        ({"data": [ORDER, "x"], "pagination": {"total_pages": 1}}, "<row>"),
    ],
    ids=["array-body", "no-data", "data-not-array", "no-pagination", "total-pages-string",
         "negative-total-pages", "float-money", "row-not-object"],
)  # fmt: skip
def test_td_envelope_problems_are_data_errors(payload: Any, field: str) -> None:
    with td(body(payload)) as client, pytest.raises(SourceDataError) as caught:
        client.fetch_orders("A001", *JAN)
    assert caught.value.field == field
    assert "/reports/order-report" in str(caught.value)


def test_non_json_200_is_a_data_error() -> None:
    answer = lambda request: httpx.Response(200, content=b"<html>oops</html>")  # noqa: E731
    with td(answer) as client, pytest.raises(SourceDataError, match="not valid JSON"):
        client.fetch_sales("A001", *JAN)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"next_cursor": None}, "items"),
        ({"items": []}, "next_cursor"),
        ({"items": [], "next_cursor": 5}, "next_cursor"),
        ({"items": [], "next_cursor": ""}, "next_cursor"),
        ({"items": [{"invoice_no": "X"}], "next_cursor": None}, "invoice_date"),
    ],
    ids=["no-items", "no-next-cursor", "numeric-cursor", "empty-cursor", "incomplete-item"],
)
def test_uc_envelope_problems_are_data_errors(payload: Any, field: str) -> None:
    with uc(body(payload)) as client, pytest.raises(SourceDataError) as caught:
        client.fetch_gst("UC104", *JAN)
    assert caught.value.field == field


def test_uc_cursor_that_never_advances_is_refused_not_looped() -> None:
    with uc(body({"items": [], "next_cursor": "same"})) as client:
        with pytest.raises(SourceDataError, match="repeats the cursor"):
            client.fetch_gst("UC104", *JAN)
        assert client.requests_made == 2


def test_td_stops_on_an_empty_page_even_if_total_pages_lies() -> None:
    with td(body({"data": [], "pagination": {"total_pages": 99}})) as client:
        assert client.fetch_orders("A001", *JAN) == []
        assert client.requests_made == 1


def test_td_zero_total_pages_means_one_request_per_span() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [], "pagination": {"total_pages": 0}})

    with td(answer) as client:
        pages = list(client.iter_order_pages("A001", dt.date(2026, 1, 1), dt.date(2026, 3, 31)))
    assert pages == [[], [], []]
    spans = [(r.url.params["from_date"], r.url.params["to_date"]) for r in seen]
    assert spans == [
        ("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-03-03"), ("2026-03-04", "2026-03-31"),
    ]  # fmt: skip


def test_requests_carry_the_contract_auth_headers() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/gst-report":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(200, json={"data": [], "pagination": {"total_pages": 0}})

    with td(answer) as client:
        client.fetch_orders("A001", *JAN)
    with uc(answer) as other:
        other.fetch_gst("UC104", *JAN)
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "X-Api-Key" not in seen[0].headers
    assert seen[1].headers["X-Api-Key"] == TOKEN
    assert "Authorization" not in seen[1].headers
    assert dict(seen[1].url.params) == {
        "store_code": "UC104", "start_date": "2026-01-01", "end_date": "2026-01-31",
        "limit": "1000",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, SourceAuthError),
        (403, SourceAuthError),
        (404, SourceNotFoundError),
        (418, SourceError),
    ],
    ids=["401", "403", "404", "unexpected-418"],
)
def test_status_mapping_and_server_text_is_redacted(status: int, error: type[SourceError]) -> None:
    answer = body({"error": f"bad credential {TOKEN} for you"}, status)
    with td(answer) as client, pytest.raises(error) as caught:
        client.fetch_orders("A001", *JAN)
    assert type(caught.value) is error
    assert TOKEN not in str(caught.value)


def test_a_data_error_echoing_the_token_is_redacted() -> None:
    row = {**ORDER, "gross_amount": TOKEN}
    answer = body({"data": [row], "pagination": {"total_pages": 1}})
    with td(answer) as client, pytest.raises(SourceDataError) as caught:
        client.fetch_orders("A001", *JAN)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)
    assert caught.value.field == "gross_amount"


@pytest.mark.parametrize(
    ("make", "kwargs"),
    [
        (TdClient, {"page_size": 0}),
        (TdClient, {"page_size": 501}),
        (UcClient, {"page_size": 1001}),
    ],
    ids=["td-page-size-0", "td-page-size-501", "uc-limit-1001"],
)
def test_page_size_outside_the_contract_is_refused(make: Any, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="page_size"):
        make("http://x.test", TOKEN, **kwargs)


@pytest.mark.parametrize(
    ("base_url", "token"),
    [("ftp://x.test", TOKEN), ("x.test", TOKEN), ("http://x.test", ""), ("http://x.test", "  ")],
    ids=["ftp-url", "no-scheme", "empty-token", "blank-token"],
)
def test_unusable_configuration_is_a_configuration_error(base_url: str, token: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        TdClient(base_url, token)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("store", "first", "last"),
    [("A001", dt.date(2026, 2, 1), dt.date(2026, 1, 1)), ("", *JAN)],
    ids=["reversed-range", "empty-store"],
)
def test_bad_arguments_fail_before_any_request(store: str, first: dt.date, last: dt.date) -> None:
    with td(body({})) as client:
        with pytest.raises(ValueError):
            client.iter_order_pages(store, first, last)
        with pytest.raises(ValueError):
            client.iter_sale_pages(store, first, last)
        assert client.requests_made == 0
    with uc(body({})) as client, pytest.raises(ValueError):
        client.iter_gst_pages(store, first, last)


def test_repr_does_not_show_the_token() -> None:
    with td(body({})) as client, uc(body({})) as other:
        assert TOKEN not in repr(client) and TOKEN not in repr(other)
