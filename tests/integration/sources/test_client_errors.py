"""Each failure class over real loopback HTTP, retries, and the token never leaking."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from orders_sync.sources import td_client as td_module
from orders_sync.sources import uc_client as uc_module
from orders_sync.sources.errors import (
    SourceAuthError,
    SourceBadRequestError,
    SourceDataError,
    SourceError,
    SourceNotFoundError,
    SourceRetriesExhaustedError,
)
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import SimulatorServer
from tests.integration.sources.conftest import CLOCK, TD_TOKEN, UC_TOKEN

TO = CLOCK.date()
MONTH = (TO - dt.timedelta(days=30), TO)
QUARTER = (TO - dt.timedelta(days=89), TO)
WRONG_TOKEN = "wrong-token-c0ffee42"
SECRETS = (TD_TOKEN, UC_TOKEN, WRONG_TOKEN)

Fetch = Callable[[Callable[..., TdClient], Callable[..., UcClient]], Any]


def fetch(endpoint: str, store: str | None = None, **client_options: Any) -> Fetch:
    """A fetch of ``endpoint`` over MONTH with a client built with ``client_options``."""

    def run(td: Callable[..., TdClient], uc: Callable[..., UcClient]) -> Any:
        if endpoint == "gst":
            return uc(**client_options).fetch_gst(store or "UC104", *MONTH)
        client = td(**client_options)
        method = client.fetch_orders if endpoint == "orders" else client.fetch_sales
        return method(store or "A001", *MONTH)

    return run


ENDPOINTS = ["orders", "sales", "gst"]
PATHS = {
    "orders": "/reports/order-report",
    "sales": "/sales-and-deliveries/sales",
    "gst": "/api/gst-report",
}


def assert_names_the_request(error: SourceError, endpoint: str, store: str) -> None:
    message = str(error)
    assert f"store {store}" in message
    assert PATHS[endpoint] in message
    assert error.endpoint == PATHS[endpoint] and error.store_code == store
    assert error.page is not None and f"page {error.page}" in message
    assert f"{error.from_date}..{error.to_date}" in message


# ------------------------------------------------------------------ 400


@pytest.mark.parametrize(
    ("path", "params", "problem"),
    [
        ("/reports/order-report", {"from_date": "2026-01-01", "to_date": "2026-03-01"},
         "at most 31"),
        ("/reports/order-report", {"from_date": "2026-01-31", "to_date": "2026-01-01"}, "after"),
        ("/reports/order-report", {"from_date": "01/01/2026", "to_date": "2026-01-02"},
         "YYYY-MM-DD"),
        ("/reports/order-report", {"from_date": "2026-02-30", "to_date": "2026-03-02"},
         "valid date"),
        ("/reports/order-report", {"to_date": "2026-01-02"}, "from_date is required"),
        ("/reports/order-report", {"from_date": "2026-01-01", "to_date": "2026-01-02",
                                   "page_size": "0"}, "page_size"),
        ("/reports/order-report", {"from_date": "2026-01-01", "to_date": "2026-01-02",
                                   "page_size": "501"}, "page_size"),
        ("/reports/order-report", {"from_date": "2026-01-01", "to_date": "2026-01-02",
                                   "page": "0"}, "page"),
        ("/sales-and-deliveries/sales", {"from_date": "2026-01-01", "to_date": "2026-04-01"},
         "at most 31"),
        ("/sales-and-deliveries/sales", {"from_date": "2026-01-01", "to_date": "2026-01-02",
                                         "page": "two"}, "integer"),
        ("/api/gst-report", {"start_date": "2026-01-01", "end_date": "2026-03-05"}, "at most 62"),
        ("/api/gst-report", {"start_date": "2026-1-1", "end_date": "2026-01-05"}, "YYYY-MM-DD"),
        ("/api/gst-report", {"start_date": "2026-01-01", "end_date": "2026-01-05",
                             "limit": "1001"}, "limit"),
        ("/api/gst-report", {"start_date": "2026-01-01", "end_date": "2026-01-05",
                             "cursor": "not-a-cursor"}, "cursor"),
    ],
    ids=["td-span-too-long", "td-reversed", "td-bad-date-format", "td-impossible-date",
         "td-missing-from", "td-page-size-0", "td-page-size-501", "td-page-0",
         "td-sales-span-too-long", "td-page-not-int", "uc-span-too-long", "uc-bad-date-format",
         "uc-limit-1001", "uc-forged-cursor"],
)  # fmt: skip
def test_bad_parameters_are_400_with_an_error_body(
    sim: SimulatorServer, path: str, params: dict[str, str], problem: str
) -> None:
    is_td = path != "/api/gst-report"
    headers = {"Authorization": f"Bearer {TD_TOKEN}"} if is_td else {"X-Api-Key": UC_TOKEN}
    store = "A001" if is_td else "UC104"
    response = httpx.get(
        f"{sim.base_url}{path}", params={"store_code": store, **params}, headers=headers
    )
    assert response.status_code == 400
    assert problem in response.json()["error"]


def test_a_cursor_of_another_range_is_refused(sim: SimulatorServer) -> None:
    headers = {"X-Api-Key": UC_TOKEN}
    url = f"{sim.base_url}/api/gst-report"
    first = httpx.get(
        url,
        params={
            "store_code": "UC104",
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "limit": 5,
        },
        headers=headers,
    ).json()
    assert first["next_cursor"]
    other = httpx.get(
        url,
        params={"store_code": "UC104", "start_date": "2026-01-02", "end_date": "2026-01-31",
                "limit": 5, "cursor": first["next_cursor"]},
        headers=headers,
    )  # fmt: skip
    assert other.status_code == 400


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_400_from_the_api_is_a_bad_request_error_not_retried(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    monkeypatch: pytest.MonkeyPatch,
    endpoint: str,
) -> None:
    # Make the client over-reach the contract's span so the server answers 400.
    monkeypatch.setattr(td_module, "MAX_SPAN_DAYS", 45)
    monkeypatch.setattr(uc_module, "MAX_SPAN_DAYS", 70)
    store = "UC104" if endpoint == "gst" else "A001"
    with pytest.raises(SourceBadRequestError) as caught:
        if endpoint == "gst":
            uc_client().fetch_gst(store, *QUARTER)
        else:
            client = td_client()
            (client.fetch_orders if endpoint == "orders" else client.fetch_sales)(store, *QUARTER)
    assert "HTTP 400" in str(caught.value) and "at most" in str(caught.value)
    assert_names_the_request(caught.value, endpoint, store)
    assert (sim.requests_total, sleeps) == (1, [])


# ------------------------------------------------------------------ 401


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_wrong_token_is_an_authentication_error_not_retried(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
) -> None:
    with pytest.raises(SourceAuthError) as caught:
        fetch(endpoint, token=WRONG_TOKEN)(td_client, uc_client)
    error = caught.value
    assert "authentication" in str(error)
    assert ("UC_API_TOKEN" if endpoint == "gst" else "TD_API_TOKEN") in str(error)
    assert_names_the_request(error, endpoint, "UC104" if endpoint == "gst" else "A001")
    assert (sim.requests_total, sleeps) == (1, [])


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/reports/order-report", {}),
        ("/reports/order-report", {"Authorization": TD_TOKEN}),
        ("/reports/order-report", {"Authorization": "Bearer"}),
        ("/reports/order-report", {"Authorization": f"Basic {TD_TOKEN}"}),
        ("/reports/order-report", {"X-Api-Key": TD_TOKEN}),
        ("/sales-and-deliveries/sales", {"Authorization": f"Bearer {UC_TOKEN}"}),
        ("/api/gst-report", {}),
        ("/api/gst-report", {"X-Api-Key": ""}),
        ("/api/gst-report", {"Authorization": f"Bearer {UC_TOKEN}"}),
        ("/api/gst-report", {"X-Api-Key": TD_TOKEN}),
    ],
    ids=["td-no-header", "td-no-scheme", "td-empty-bearer", "td-basic-scheme",
         "td-uc-style-header", "td-sales-uc-token", "uc-no-header", "uc-empty-key",
         "uc-bearer-style", "uc-td-token"],
)  # fmt: skip
def test_missing_or_wrong_credentials_are_401(
    sim: SimulatorServer, path: str, headers: dict[str, str]
) -> None:
    names = ("start_date", "end_date") if path == "/api/gst-report" else ("from_date", "to_date")
    params = {"store_code": "A001", names[0]: "2026-01-01", names[1]: "2026-01-02"}
    response = httpx.get(f"{sim.base_url}{path}", params=params, headers=headers)
    assert response.status_code == 401
    assert "error" in response.json()


def test_any_non_empty_token_is_accepted_when_none_is_configured(
    td_client: Callable[..., TdClient], uc_client: Callable[..., UcClient]
) -> None:
    with SimulatorServer(clock=CLOCK) as open_sim:
        assert td_client(base_url=open_sim.base_url, token="anything").fetch_orders("ZZ9", *MONTH)
        assert uc_client(base_url=open_sim.base_url, token="x").fetch_gst("ZZ9", *MONTH)


# ------------------------------------------------------------------ 404


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_unknown_store_is_a_not_found_error_not_retried(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
) -> None:
    with pytest.raises(SourceNotFoundError) as caught:
        fetch(endpoint, store="NOPE9")(td_client, uc_client)
    assert "NOPE9" in str(caught.value) and "404" in str(caught.value)
    assert_names_the_request(caught.value, endpoint, "NOPE9")
    assert (sim.requests_total, sleeps) == (1, [])


# ------------------------------------------------------------------ source data errors


@pytest.mark.parametrize(
    ("endpoint", "field", "value"),
    [
        ("orders", None, 12.5),
        ("orders", "order_status", "Lost"),
        ("orders", "order_date", "06/02/2026"),
        ("orders", "last_modified", "2026-02-06T10:00:00"),
        ("sales", None, "12,50"),
        ("sales", "payment_mode", "Barter"),
        ("gst", None, 100),
        ("gst", "invoice_no", None),
    ],
    ids=["orders-float-money", "orders-bad-status", "orders-bad-date", "orders-naive-timestamp",
         "sales-comma-money", "sales-bad-mode", "gst-int-money", "gst-null-key"],
)  # fmt: skip
def test_malformed_row_is_a_data_error_naming_field_and_page(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
    field: str | None,
    value: object,
) -> None:
    store = "UC104" if endpoint == "gst" else "A001"
    bad_day = TO - dt.timedelta(days=3)
    rule = sim.faults.malform(store, bad_day, endpoint=endpoint, field=field, value=value)
    named = rule.field_for(PATHS[endpoint])
    with pytest.raises(SourceDataError) as caught:
        fetch(endpoint, page_size=500 if endpoint != "gst" else 1000)(td_client, uc_client)
    error = caught.value
    assert error.field == named
    assert repr(named) in str(error) and "row " in str(error)
    assert_names_the_request(error, endpoint, store)
    assert sleeps == []


def test_missing_field_is_named(
    sim: SimulatorServer, td_client: Callable[..., TdClient], uc_client: Callable[..., UcClient]
) -> None:
    sim.faults.malform("A001", endpoint="orders", field="net_amount", remove=True)
    with pytest.raises(SourceDataError, match="'net_amount'.* is missing"):
        fetch("orders")(td_client, uc_client)


def test_pages_before_the_bad_one_are_yielded_the_bad_one_never(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    bad_day = TO - dt.timedelta(days=5)  # in the last 31-day span of the quarter
    sim.faults.malform("A001", bad_day, endpoint="orders")
    pages = td_client(page_size=500).iter_order_pages("A001", *QUARTER)
    good = [next(pages), next(pages)]  # the first two spans are clean
    assert all(order.order_date < bad_day for page in good for order in page)
    with pytest.raises(SourceDataError) as caught:
        next(pages)
    assert caught.value.from_date is not None and caught.value.from_date <= bad_day
    assert caught.value.to_date == TO


# ------------------------------------------------------------------ retries


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("retry_after", "cap", "expected_wait"),
    [(3, 60.0, 3.0), (120, 5.0, 5.0), (0, 60.0, 0.0)],
    ids=["honoured", "capped", "zero"],
)
def test_429_waits_retry_after_then_succeeds(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
    retry_after: int,
    cap: float,
    expected_wait: float,
) -> None:
    sim.faults.rate_limit(2, retry_after_s=retry_after)
    rows = fetch(endpoint, retry_after_cap_s=cap)(td_client, uc_client)
    assert sleeps == [expected_wait, expected_wait]
    assert rows  # the third attempt got the data
    assert sim.stats().by_status[429] == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504], ids=lambda s: f"http-{s}")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_transient_5xx_is_retried_with_backoff_then_succeeds(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
    status: int,
) -> None:
    sim.faults.transient_errors(2, status=status)
    store = "UC104" if endpoint == "gst" else "A001"
    rows = fetch(endpoint, max_attempts=3, backoff_base_s=0.01)(td_client, uc_client)
    truth = {
        "orders": sim.truth_td_orders,
        "sales": sim.truth_td_sales,
        "gst": sim.truth_uc_gst,
    }[endpoint](store, *MONTH)
    assert rows == truth
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.01 and 0 <= sleeps[1] <= 0.02  # full jitter under the bound


@pytest.mark.parametrize("attempts", [1, 3, 5], ids=lambda n: f"{n}-attempts")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_permanent_500_gives_up_after_the_bound(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    sleeps: list[float],
    endpoint: str,
    attempts: int,
) -> None:
    store = "UC104" if endpoint == "gst" else "A001"
    sim.faults.fail_store(store, status=500)
    with pytest.raises(SourceRetriesExhaustedError) as caught:
        fetch(endpoint, max_attempts=attempts)(td_client, uc_client)
    error = caught.value
    assert (error.attempts, error.last_status) == (attempts, 500)
    assert f"gave up after {attempts} attempt(s)" in str(error)
    assert_names_the_request(error, endpoint, store)
    assert sim.requests_total == attempts
    assert len(sleeps) == attempts - 1


def test_a_store_whose_sales_endpoint_fails_still_serves_orders(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    sim.faults.fail_store("A001", endpoint="sales", status=503)
    client = td_client(max_attempts=2)
    assert client.fetch_orders("A001", *MONTH) == sim.truth_td_orders("A001", *MONTH)
    with pytest.raises(SourceRetriesExhaustedError, match="HTTP 503"):
        client.fetch_sales("A001", *MONTH)
    assert client.fetch_sales("A002", *MONTH) == sim.truth_td_sales("A002", *MONTH)


def test_a_failing_date_range_fails_only_the_spans_that_touch_it(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    bad = TO - dt.timedelta(days=40)
    sim.faults.fail_store("A001", from_date=bad, to_date=bad)
    client = td_client(max_attempts=2)
    assert client.fetch_orders("A001", bad + dt.timedelta(days=1), TO)
    with pytest.raises(SourceRetriesExhaustedError) as caught:
        client.fetch_orders("A001", *QUARTER)
    assert caught.value.from_date is not None and caught.value.from_date <= bad


def test_read_timeout_is_transient_and_bounded(
    sim: SimulatorServer, td_client: Callable[..., TdClient], sleeps: list[float]
) -> None:
    sim.faults.set_latency(1.0)
    with pytest.raises(SourceRetriesExhaustedError, match="ReadTimeout") as caught:
        td_client(timeout_s=0.1, max_attempts=2).fetch_orders("A001", *MONTH)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)
    assert len(sleeps) == 1


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port


def test_connection_refused_is_transient_and_bounded(
    td_client: Callable[..., TdClient], sleeps: list[float], closed_port: int
) -> None:
    client = td_client(base_url=f"http://127.0.0.1:{closed_port}", max_attempts=3)
    with pytest.raises(SourceRetriesExhaustedError, match="ConnectError"):
        client.fetch_orders("A001", *MONTH)
    assert (client.requests_made, len(sleeps)) == (3, 2)


# ------------------------------------------------------------------ the token never leaks

LEAK_SCENARIOS: list[tuple[str, Callable[[SimulatorServer], object], Fetch]] = [
    ("wrong-td-token", lambda sim: None, fetch("orders", token=WRONG_TOKEN)),
    ("wrong-uc-token", lambda sim: None, fetch("gst", token=WRONG_TOKEN)),
    ("unknown-store", lambda sim: None, fetch("sales", store="NOPE9")),
    ("malformed-row", lambda sim: sim.faults.malform("A001"), fetch("orders")),
    ("permanent-500", lambda sim: sim.faults.fail_store("UC104"), fetch("gst", max_attempts=2)),
    ("rate-limited", lambda sim: sim.faults.rate_limit(5), fetch("orders", max_attempts=2)),
    ("retry-then-ok", lambda sim: sim.faults.transient_errors(1), fetch("sales")),
    ("timeout", lambda sim: sim.faults.set_latency(0.5),
     fetch("gst", timeout_s=0.05, max_attempts=2)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("setup", "run"),
    [(setup, run) for _, setup, run in LEAK_SCENARIOS],
    ids=[name for name, _, _ in LEAK_SCENARIOS],
)
def test_token_never_appears_in_errors_or_logs(
    sim: SimulatorServer,
    td_client: Callable[..., TdClient],
    uc_client: Callable[..., UcClient],
    caplog: pytest.LogCaptureFixture,
    setup: Callable[[SimulatorServer], object],
    run: Fetch,
) -> None:
    setup(sim)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    texts: list[str] = []
    try:
        run(td_client, uc_client)
    except SourceError as exc:
        texts.append(str(exc))
        texts.append(repr(exc))
        texts.append("".join(traceback.format_exception(exc)))  # the whole cause chain
    assert caplog.records  # something was logged, so the check below means something
    texts.append(caplog.text)
    texts.extend(str(record.args) for record in caplog.records)
    for secret in SECRETS:
        assert all(secret not in text for text in texts), secret
