"""The simulator as an HTTP server: pagination details, concurrency, admin endpoints."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import httpx
import pytest

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync.sources.td_client import TdClient
from orders_sync_devtools.simulator import IST, SimulatorServer
from tests.integration.sources.conftest import CLOCK, TD_TOKEN, UC_TOKEN

TD = {"Authorization": f"Bearer {TD_TOKEN}"}
UC = {"X-Api-Key": UC_TOKEN}
JAN = {"store_code": "A001", "from_date": "2026-01-01", "to_date": "2026-01-31"}
UC_JAN = {"store_code": "UC104", "start_date": "2026-01-01", "end_date": "2026-01-31"}


def test_td_pagination_envelope_and_defaults(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/reports/order-report"
    first = httpx.get(url, params=JAN, headers=TD).json()
    total = len(sim.truth_td_orders("A001", dt.date(2026, 1, 1), dt.date(2026, 1, 31)))
    assert first["pagination"] == {
        "page": 1, "page_size": 100, "total_rows": total, "total_pages": -(-total // 100),
    }  # fmt: skip
    assert len(first["data"]) == min(100, total)
    beyond = httpx.get(url, params={**JAN, "page": 99, "page_size": 7}, headers=TD).json()
    assert beyond["data"] == [] and beyond["pagination"]["page"] == 99
    assert beyond["pagination"]["total_pages"] == -(-total // 7)


def test_td_empty_range_has_zero_pages(sim: SimulatorServer) -> None:
    future = {"store_code": "A001", "from_date": "2026-03-01", "to_date": "2026-03-05"}
    body = httpx.get(f"{sim.base_url}/reports/order-report", params=future, headers=TD).json()
    assert body == {
        "data": [], "pagination": {"page": 1, "page_size": 100, "total_rows": 0, "total_pages": 0},
    }  # fmt: skip


def test_uc_cursor_walk_with_default_limit(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/api/gst-report"
    items: list[dict[str, object]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {**UC_JAN, "limit": 50}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(url, params=params, headers=UC).json()
        assert set(body) == {"items", "next_cursor"}
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    truth = sim.truth_uc_gst("UC104", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert [UcGstLine.from_json(item) for item in items] == truth
    assert pages == -(-len(truth) // 50)
    default = httpx.get(url, params=UC_JAN, headers=UC).json()
    assert len(default["items"]) == min(200, len(truth))
    empty_cursor = httpx.get(url, params={**UC_JAN, "cursor": ""}, headers=UC).json()
    assert empty_cursor == default


def test_wire_format_is_the_contracts(sim: SimulatorServer) -> None:
    row = httpx.get(f"{sim.base_url}/reports/order-report", params=JAN, headers=TD).json()["data"][
        0
    ]
    assert list(row) == [
        "order_number", "order_date", "order_time", "customer_name", "mobile_number",
        "service_type", "pieces", "gross_amount", "discount_amount", "net_amount",
        "order_status", "last_modified",
    ]  # fmt: skip
    assert isinstance(row["gross_amount"], str) and row["gross_amount"].count(".") == 1
    assert row["last_modified"].endswith("+05:30")
    sales = httpx.get(f"{sim.base_url}/sales-and-deliveries/sales", params=JAN, headers=TD).json()
    assert set(sales["data"][0]) == set(TdSale.__dataclass_fields__)
    gst = httpx.get(f"{sim.base_url}/api/gst-report", params=UC_JAN, headers=UC).json()
    assert set(gst["items"][0]) == set(UcGstLine.__dataclass_fields__)
    assert TdOrder.from_json(row).to_json() == row


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/reports/order-report", 405),
        ("DELETE", "/api/gst-report", 405),
        ("GET", "/reports/unknown", 404),
        ("GET", "/", 404),
        ("GET", "/_sim/nothing", 404),
    ],
    ids=["post-to-api", "delete-to-api", "unknown-report", "root", "unknown-admin"],
)
def test_other_methods_and_paths(sim: SimulatorServer, method: str, path: str, status: int) -> None:
    response = httpx.request(method, f"{sim.base_url}{path}", params=JAN, headers=TD)
    assert response.status_code == status
    assert "error" in response.json()


def test_ten_concurrent_clients_are_served_in_parallel_and_correctly(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    sim.faults.set_latency(0.2)
    clients = [td_client() for _ in range(10)]
    barrier = threading.Barrier(10)
    results: dict[int, list[TdOrder]] = {}
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = clients[index].fetch_orders(
                "A001", dt.date(2026, 1, 1), dt.date(2026, 1, 31)
            )
        except BaseException as exc:  # surfaced in the main thread below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    truth = sim.truth_td_orders("A001", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert all(results[i] == truth for i in range(10))
    stats = sim.stats()
    assert stats.requests_total == 10 and stats.in_flight == 0
    assert stats.in_flight_max >= 2  # requests overlapped: the server is threaded
    assert sim.in_flight_max == stats.in_flight_max
    sim.reset_stats()
    assert (sim.requests_total, sim.in_flight_max) == (0, 0)


# ------------------------------------------------------------------ admin endpoints


def test_admin_health_and_stats(sim: SimulatorServer) -> None:
    assert httpx.get(f"{sim.base_url}/_sim/health").json() == {"ok": True}
    httpx.get(f"{sim.base_url}/reports/order-report", params=JAN, headers=TD)
    httpx.get(f"{sim.base_url}/reports/order-report", params=JAN)
    stats = httpx.get(f"{sim.base_url}/_sim/stats").json()
    assert stats["requests_total"] == 2  # admin calls are not counted
    assert stats["by_status"] == {"200": 1, "401": 1}
    assert stats["by_endpoint"] == {"/reports/order-report": 2}
    assert stats["clock"] == CLOCK.isoformat() and stats["clock_is_real"] is False
    assert stats["in_flight_max"] == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"now": "2026-01-05T10:00:00+05:30"}, dt.datetime(2026, 1, 5, 10, tzinfo=IST)),
        ({"now": "2026-01-05T04:30:00Z"}, dt.datetime(2026, 1, 5, 10, tzinfo=IST)),
        ({"advance_days": 2}, CLOCK + dt.timedelta(days=2)),
        ({"advance_s": 3600}, CLOCK + dt.timedelta(hours=1)),
        ({"advance_days": -1}, CLOCK - dt.timedelta(days=1)),
    ],
    ids=["set-ist", "set-utc", "advance-days", "advance-seconds", "rewind"],
)
def test_admin_clock(sim: SimulatorServer, body: dict[str, object], expected: dt.datetime) -> None:
    reply = httpx.post(f"{sim.base_url}/_sim/clock", json=body)
    assert reply.status_code == 200
    assert dt.datetime.fromisoformat(reply.json()["now"]) == expected
    assert sim.now() == expected


def test_admin_clock_back_to_real_and_bad_requests(sim: SimulatorServer) -> None:
    assert httpx.post(f"{sim.base_url}/_sim/clock", json={"real": True}).json()["real"] is True
    assert sim.clock.is_real
    for bad in ({}, {"now": "2026-01-05T10:00:00"}, {"now": "tomorrow"}):
        assert httpx.post(f"{sim.base_url}/_sim/clock", json=bad).status_code == 400
    assert httpx.post(f"{sim.base_url}/_sim/clock", content=b"{nope").status_code == 400


def test_admin_faults_then_reset(sim: SimulatorServer) -> None:
    url = f"{sim.base_url}/reports/order-report"
    spec = {
        "rate_limit": {"count": 1, "retry_after_s": 7},
        "transient": {"count": 1, "status": 502},
        "fail_store": {"store_code": "A002", "endpoint": "orders"},
        "malformed": {
            "store_code": "A001",
            "day": "2026-01-06",
            "field": "pieces",
            "value": "four",
        },
    }
    assert httpx.post(f"{sim.base_url}/_sim/faults", json=spec).status_code == 200
    limited = httpx.get(url, params=JAN, headers=TD)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert httpx.get(url, params=JAN, headers=TD).status_code == 502
    assert httpx.get(url, params={**JAN, "store_code": "A002"}, headers=TD).status_code == 500
    rows = httpx.get(url, params={**JAN, "page_size": 500}, headers=TD).json()["data"]
    assert {r["pieces"] for r in rows if r["order_date"] == "2026-01-06"} == {"four"}
    assert "four" not in {r["pieces"] for r in rows if r["order_date"] != "2026-01-06"}
    assert httpx.post(f"{sim.base_url}/_sim/faults", json={"nope": 1}).status_code == 400

    reset = httpx.post(f"{sim.base_url}/_sim/reset", json={})
    assert reset.json()["requests_total"] == 0
    assert httpx.get(url, params={**JAN, "store_code": "A002"}, headers=TD).status_code == 200


@pytest.mark.parametrize(
    ("kind", "truth", "model"),
    [
        ("td-orders", "truth_td_orders", TdOrder),
        ("td-sales", "truth_td_sales", TdSale),
        ("uc-gst", "truth_uc_gst", UcGstLine),
    ],
    ids=["td-orders", "td-sales", "uc-gst"],
)
def test_admin_truth_matches_the_in_process_truth(
    sim: SimulatorServer, kind: str, truth: str, model: type[TdOrder | TdSale | UcGstLine]
) -> None:
    params = {"store_code": "A001", "from_date": "2025-10-01", "to_date": "2026-02-10"}
    body = httpx.get(f"{sim.base_url}/_sim/truth/{kind}", params=params).json()
    expected = getattr(sim, truth)("A001", dt.date(2025, 10, 1), dt.date(2026, 2, 10))
    assert [model.from_json(row) for row in body["data"]] == expected
    assert len(expected) > 500  # no span limit on the truth


def test_stop_closes_keep_alive_connections_and_the_port_can_be_reused() -> None:
    server = SimulatorServer(clock=CLOCK)
    url = server.start()
    port = int(url.rsplit(":", 1)[1])
    with httpx.Client(base_url=url, headers={"X-Api-Key": "k"}) as client:
        assert client.get("/api/gst-report", params=UC_JAN).status_code == 200
        server.stop()
        server.stop()  # harmless twice
        with pytest.raises(httpx.TransportError):
            client.get("/api/gst-report", params=UC_JAN)
    again = SimulatorServer(clock=CLOCK)
    assert again.start(port=port) == url
    again.stop()
    with pytest.raises(RuntimeError):
        _ = SimulatorServer().base_url


def test_set_clock_refuses_a_naive_datetime(sim: SimulatorServer) -> None:
    with pytest.raises(ValueError, match="aware"):
        sim.set_clock(dt.datetime(2026, 1, 1))
