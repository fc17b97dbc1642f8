"""Every status transition of requirement §C, over real HTTP against the simulator."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from orders_sync.db.repositories.pipelines import resolve_pipeline_ids
from orders_sync.pipelines.td_orders_sync import TdOrdersSync
from orders_sync.pipelines.uc_orders_sync import UcOrdersSync
from orders_sync.pipelines.window import WindowRequest, WindowResult
from orders_sync.sources.td import TD_ORDERS, TD_SALES
from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc import UC_ORDERS
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.integration.pipelines.conftest import SOURCE_NOW, TOKEN
from tests.support.data_probes import count_rows, rows_for_run

FROM = dt.date(2026, 1, 5)
TO = dt.date(2026, 1, 7)


def _request(
    run_id: str, store_code: str = "A001", cost_center: str | None = "CC1"
) -> WindowRequest:
    return WindowRequest(
        store_code=store_code,
        cost_center=cost_center,
        from_date=FROM,
        to_date=TO,
        run_id=run_id,
        run_env="test",
        window_reason="missing",
    )


def _log_row(engine: sa.Engine, result: WindowResult) -> dict[str, Any]:
    assert result.log_id is not None
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT * FROM orders_sync_log WHERE id = :id"), {"id": result.log_id}
        ).one()
    return dict(row._mapping)


@dataclasses.dataclass(frozen=True)
class Case:
    pipeline: str  # td | td_orders_only | td_sales_only | uc
    fault: Callable[[SimulatorServer], object] | None
    status: str
    orders_pulled: bool
    sales_pulled: bool
    error_part: str | None


def _fail(endpoint: str | None, status: int = 500) -> Callable[[SimulatorServer], object]:
    return lambda sim: sim.faults.fail_store("A001", status=status, endpoint=endpoint)


def _fail_uc(status: int = 500) -> Callable[[SimulatorServer], object]:
    return lambda sim: sim.faults.fail_store("UC10", status=status, endpoint="gst")


CASES = [
    Case("td", None, "success", True, True, None),
    Case("td", _fail("sales"), "partial", True, False, "sales"),
    Case("td", _fail("orders"), "failed", False, False, "orders"),
    Case("td", _fail(None), "failed", False, False, "orders"),
    Case("td", _fail("orders", 400), "failed", False, False, "orders"),
    Case("td", _fail("sales", 404), "partial", True, False, "sales"),
    Case("td", lambda sim: sim.faults.malform("A001", TO, endpoint="orders"), "failed", False,
         False, "orders"),
    Case("td", lambda sim: sim.faults.malform("A001", None, endpoint="sales"), "partial", True,
         False, "sales"),
    Case("td_orders_only", None, "success", True, False, None),
    Case("td_orders_only", _fail("sales"), "success", True, False, None),
    Case("td_orders_only", _fail("orders"), "failed", False, False, "orders"),
    Case("td_sales_only", None, "success", False, True, None),
    Case("td_sales_only", _fail("orders"), "success", False, True, None),
    Case("td_sales_only", _fail("sales"), "failed", False, False, "sales"),
    Case("uc", None, "success", True, False, None),
    Case("uc", _fail_uc(), "failed", False, False, "gst"),
    Case("uc", _fail_uc(401), "failed", False, False, "gst"),
    Case("uc", lambda sim: sim.faults.malform("UC10", FROM, endpoint="gst"), "failed", False,
         False, "gst"),
]  # fmt: skip
IDS = [
    "td-both-ok",
    "td-sales-500",
    "td-orders-500",
    "td-store-500",
    "td-orders-400",
    "td-sales-404",
    "td-orders-malformed",
    "td-sales-malformed",
    "orders-only-ok",
    "orders-only-sales-broken",
    "orders-only-orders-500",
    "sales-only-ok",
    "sales-only-orders-broken",
    "sales-only-sales-500",
    "uc-ok",
    "uc-gst-500",
    "uc-gst-401",
    "uc-gst-malformed",
]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_window_status_and_pulled_at(
    case: Case,
    seeded: sa.Engine,
    run_id: str,
    simulator: SimulatorServer,
    td_client: TdClient,
    uc_client: UcClient,
) -> None:
    if case.fault is not None:
        case.fault(simulator)
    pipeline: TdOrdersSync | UcOrdersSync
    if case.pipeline == "uc":
        pipeline = UcOrdersSync(seeded, uc_client)
        request = _request(run_id, "UC10", "CC9")
    else:
        pipeline = TdOrdersSync(
            seeded,
            td_client,
            orders_only=case.pipeline == "td_orders_only",
            sales_only=case.pipeline == "td_sales_only",
        )
        request = _request(run_id)

    result = pipeline.run_window(request)

    row = _log_row(seeded, result)
    assert (result.status, row["status"]) == (case.status, case.status)
    assert (row["orders_pulled_at"] is not None) == case.orders_pulled
    assert (row["sales_pulled_at"] is not None) == case.sales_pulled
    with seeded.connect() as conn:
        ids = resolve_pipeline_ids(conn, [pipeline.code])
    assert row["pipeline_id"] == ids[pipeline.code] == pipeline.pipeline_id
    expected_row = {
        "run_id": run_id,
        "run_env": "test",
        "store_code": request.store_code,
        "cost_center": request.cost_center,
        "from_date": FROM,
        "to_date": TO,
        "attempt_no": 1,
        "window_reason": "missing",
        "rows_fetched": result.rows_fetched,
        "rows_inserted": result.rows_inserted,
        "rows_updated": result.rows_updated,
    }
    assert {k: row[k] for k in expected_row} == expected_row
    assert row["duration_ms"] is not None
    if case.error_part is None:
        assert result.error_message is None and row["error_message"] is None
    else:
        assert result.error_message == row["error_message"]
        assert row["error_message"].startswith(f"{case.error_part}: Source")
        assert TOKEN not in row["error_message"]
        assert "\n" not in row["error_message"]


@pytest.mark.parametrize(
    ("fault", "orders", "sales"),
    [(None, True, True), ("sales", True, False), ("orders", False, False)],
    ids=["success-writes-both", "partial-keeps-orders", "failed-writes-nothing"],
)
def test_td_data_written_matches_the_parts_that_succeeded(
    fault: str | None,
    orders: bool,
    sales: bool,
    seeded: sa.Engine,
    run_id: str,
    simulator: SimulatorServer,
    td_client: TdClient,
) -> None:
    if fault:
        simulator.faults.fail_store("A001", endpoint=fault)
    result = TdOrdersSync(seeded, td_client).run_window(_request(run_id))
    truth_orders = simulator.truth_td_orders("A001", FROM, TO)
    truth_sales = simulator.truth_td_sales("A001", FROM, TO)
    with seeded.connect() as conn:
        stored = (count_rows(conn, TD_ORDERS), count_rows(conn, TD_SALES))
    assert stored == (len(truth_orders) if orders else 0, len(truth_sales) if sales else 0)
    assert result.rows_inserted == sum(stored)
    assert truth_orders and truth_sales  # the window really had data


def test_uc_writes_gst_lines_as_orders(
    seeded: sa.Engine, run_id: str, simulator: SimulatorServer, uc_client: UcClient
) -> None:
    result = UcOrdersSync(seeded, uc_client).run_window(_request(run_id, "UC10", "CC9"))
    truth = simulator.truth_uc_gst("UC10", FROM, TO)
    with seeded.connect() as conn:
        stored = count_rows(conn, UC_ORDERS, "UC10")
    assert (result.status, result.rows_fetched, result.rows_inserted, stored) == (
        "success",
        len(truth),
        len(truth),
        len(truth),
    )


def test_attempt_no_counts_earlier_attempts_of_the_same_window(
    seeded: sa.Engine, run_id: str, td_client: TdClient
) -> None:
    pipeline = TdOrdersSync(seeded, td_client, orders_only=True)
    first = pipeline.run_window(_request(run_id))
    with seeded.begin() as conn:
        from orders_sync.db.repositories import run_summaries

        second_run = run_summaries.new_run_id("test")
        run_summaries.start_run(
            conn, run_id=second_run, pipeline_name="test", run_env="t", report_date=TO
        )
    second = pipeline.run_window(_request(second_run))
    assert [_log_row(seeded, r)["attempt_no"] for r in (first, second)] == [1, 2]


def test_a_window_run_again_in_the_same_run_is_a_retry_of_its_row(
    seeded: sa.Engine, run_id: str, td_client: TdClient, simulator: SimulatorServer
) -> None:
    # An Airflow retry or a re-executed batch runs a window of the same run again: the same
    # row, attempt_no + 1 — never a unique-key crash — and its earlier outcome is cleared.
    pipeline = TdOrdersSync(seeded, td_client)
    simulator.faults.fail_store("A001", status=500, endpoint="sales")
    first = pipeline.run_window(_request(run_id))
    simulator.faults.reset()
    second = pipeline.run_window(_request(run_id))
    assert first.log_id == second.log_id
    row = _log_row(seeded, second)
    assert (first.status, second.status, row["attempt_no"], row["error_message"]) == (
        "partial",
        "success",
        2,
        None,
    )
    with seeded.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM orders_sync_log")).scalar_one()
    assert rows == 1


def test_authentication_failure_never_logs_the_token(seeded: sa.Engine, run_id: str) -> None:
    secret = "wrong-token-0123456789abcdef"
    with (
        SimulatorServer(seed=1, clock=SOURCE_NOW, td_token="the-right-token") as sim,
        TdClient(sim.base_url, secret, max_attempts=1) as client,
    ):
        result = TdOrdersSync(seeded, client).run_window(_request(run_id))
    row = _log_row(seeded, result)
    assert row["status"] == "failed"
    assert row["error_message"].startswith("orders: SourceAuthError:")
    assert "authentication" in row["error_message"]
    assert secret not in row["error_message"]


def test_unknown_store_at_the_source_fails_the_window(seeded: sa.Engine, run_id: str) -> None:
    with (
        SimulatorServer(seed=1, clock=SOURCE_NOW, stores=["A002"]) as sim,
        UcClient(sim.base_url, TOKEN, max_attempts=1) as client,
    ):
        result = UcOrdersSync(seeded, client).run_window(_request(run_id, "UC10", "CC9"))
    assert result.status == "failed"
    assert result.error_message is not None
    assert result.error_message.startswith("gst: SourceNotFoundError:")


def test_missing_run_summary_row_fails_without_raising(
    seeded: sa.Engine, td_client: TdClient
) -> None:
    result = TdOrdersSync(seeded, td_client).run_window(_request("no-such-run"))
    assert (result.status, result.log_id) == ("failed", None)
    assert result.error_message is not None
    assert result.error_message.startswith("log: ForeignKeyViolation:")
    with seeded.connect() as conn:
        assert rows_for_run(conn, "no-such-run") == []
