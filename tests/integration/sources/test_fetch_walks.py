"""Multi-span, multi-page walks over real loopback HTTP return exactly the simulator's truth."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from orders_sync.sources.spans import split_date_range
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import SimulatorServer
from tests.integration.sources.conftest import CLOCK, TD_TOKEN, UC_TOKEN

TO = CLOCK.date()
FROM = TO - dt.timedelta(days=399)  # a 400-day range

WALKS = [
    ("td", "iter_order_pages", "truth_td_orders", "A001", 500, 31),
    ("td", "iter_order_pages", "truth_td_orders", "A002", 37, 31),
    ("td", "iter_sale_pages", "truth_td_sales", "A001", 500, 31),
    ("td", "iter_sale_pages", "truth_td_sales", "A002", 41, 31),
    ("uc", "iter_gst_pages", "truth_uc_gst", "UC104", 1000, 62),
    ("uc", "iter_gst_pages", "truth_uc_gst", "UC105", 53, 62),
]
WALK_IDS = [
    "td-orders-page-500",
    "td-orders-page-37-multipage",
    "td-sales-page-500",
    "td-sales-page-41-multipage",
    "uc-gst-limit-1000",
    "uc-gst-limit-53-multipage",
]


@pytest.mark.parametrize(
    ("api", "walk", "truth", "store", "page_size", "span_days"), WALKS, ids=WALK_IDS
)
def test_400_day_walk_returns_exactly_the_truth_page_by_page(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    api: str,
    walk: str,
    truth: str,
    store: str,
    page_size: int,
    span_days: int,
) -> None:
    client: Any = (td_client if api == "td" else uc_client)(page_size=page_size)
    pages = list(getattr(client, walk)(store, FROM, TO))
    rows = [row for page in pages for row in page]

    assert rows == getattr(sim, truth)(store, FROM, TO)
    assert len(rows) > 3000  # a year of a store: thousands of rows
    assert all(len(page) <= page_size for page in pages)
    expected_requests = sum(
        max(1, math.ceil(len(getattr(sim, truth)(store, start, end)) / page_size))
        for start, end in split_date_range(FROM, TO, span_days)
    )
    assert len(pages) == expected_requests == client.requests_made == sim.requests_total
    if page_size < 100:
        assert expected_requests > 2 * len(split_date_range(FROM, TO, span_days))


def test_fetch_helpers_concatenate_the_pages(
    sim: SimulatorServer, td_client: Callable[..., TdClient], uc_client: Callable[..., UcClient]
) -> None:
    td, uc = td_client(), uc_client()
    month = (TO - dt.timedelta(days=30), TO)
    assert td.fetch_orders("A001", *month) == sim.truth_td_orders("A001", *month)
    assert td.fetch_sales("A001", *month) == sim.truth_td_sales("A001", *month)
    assert uc.fetch_gst("UC104", *month) == sim.truth_uc_gst("UC104", *month)
    assert (td.requests_made, uc.requests_made) == (2, 1)


@pytest.mark.parametrize(
    ("first", "last", "requests"),
    [
        (TO + dt.timedelta(days=1), TO + dt.timedelta(days=40), 2),
        (TO - dt.timedelta(days=5), TO + dt.timedelta(days=5), 1),
    ],
    ids=["entirely-after-the-clock", "straddling-the-clock"],
)
def test_nothing_after_the_clock_date_is_served(
    td_client: Callable[..., TdClient], first: dt.date, last: dt.date, requests: int
) -> None:
    client = td_client()
    orders = client.fetch_orders("A001", first, last)
    assert all(order.order_date <= TO for order in orders)
    assert client.requests_made == requests


@pytest.mark.parametrize(
    ("path", "header", "params", "status"),
    [
        ("/reports/order-report", "td", {"from_date": "2026-01-01", "to_date": "2026-01-31"}, 200),
        ("/reports/order-report", "td", {"from_date": "2026-01-01", "to_date": "2026-02-01"}, 400),
        ("/sales-and-deliveries/sales", "td",
         {"from_date": "2025-12-01", "to_date": "2026-01-31"}, 400),
        ("/api/gst-report", "uc", {"start_date": "2026-01-01", "end_date": "2026-03-03"}, 200),
        ("/api/gst-report", "uc", {"start_date": "2026-01-01", "end_date": "2026-03-04"}, 400),
        ("/api/gst-report", "uc", {"start_date": "2025-01-01", "end_date": "2026-01-01"}, 400),
    ],
    ids=["td-31-days-ok", "td-32-days-400", "td-sales-62-days-400", "uc-62-days-ok",
         "uc-63-days-400", "uc-a-year-400"],
)  # fmt: skip
def test_span_limits_requested_directly(
    sim: SimulatorServer, path: str, header: str, params: dict[str, str], status: int
) -> None:
    headers = {"Authorization": f"Bearer {TD_TOKEN}"} if header == "td" else {"X-Api-Key": UC_TOKEN}
    store = "A001" if header == "td" else "UC104"
    response = httpx.get(
        f"{sim.base_url}{path}", params={"store_code": store, **params}, headers=headers
    )
    assert response.status_code == status
    if status == 400:
        assert "at most" in response.json()["error"]


class RecordingTransport(httpx.HTTPTransport):
    """The real HTTP transport, remembering every request it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


@pytest.mark.parametrize(
    ("api", "days", "spans"),
    [("td", 31, 1), ("td", 32, 2), ("td", 93, 3), ("uc", 62, 1), ("uc", 63, 2), ("uc", 124, 2)],
    ids=["td-31", "td-32", "td-93", "uc-62", "uc-63", "uc-124"],
)
def test_clients_use_the_longest_spans_the_contract_allows(
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    api: str,
    days: int,
    spans: int,
) -> None:
    transport = RecordingTransport()
    start = dt.date(2025, 6, 1)
    end = start + dt.timedelta(days=days - 1)
    if api == "td":
        td_client(transport=transport).fetch_orders("A001", start, end)
        names = ("from_date", "to_date")
    else:
        uc_client(transport=transport).fetch_gst("UC104", start, end)
        names = ("start_date", "end_date")
    firsts = [r.url.params for r in transport.sent if r.url.params.get("page", "1") == "1"
              and "cursor" not in r.url.params]  # fmt: skip
    asked = [
        (dt.date.fromisoformat(p[names[0]]), dt.date.fromisoformat(p[names[1]])) for p in firsts
    ]
    assert len(asked) == spans
    assert asked[0][0] == start and asked[-1][1] == end
    longest = 31 if api == "td" else 62
    assert all((to - fr).days + 1 <= longest for fr, to in asked)
    assert max((to - fr).days + 1 for fr, to in asked) == min(days, longest)
