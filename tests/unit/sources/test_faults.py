"""The simulator's fault plan: configuring in Python and from admin JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from orders_sync_devtools.simulator.faults import FaultPlan

ORDERS, SALES, GST = "/reports/order-report", "/sales-and-deliveries/sales", "/api/gst-report"
D = dt.date


def test_counted_faults_are_consumed_one_request_at_a_time() -> None:
    plan = FaultPlan()
    plan.rate_limit(2, retry_after_s=3)
    plan.transient_errors(1, status=502)
    assert [plan.take_rate_limit() for _ in range(3)] == [3, 3, None]
    assert [plan.take_transient() for _ in range(2)] == [502, None]


@pytest.mark.parametrize(
    ("request_args", "hit"),
    [
        (("A001", SALES, D(2026, 1, 1), D(2026, 1, 31)), True),
        (("A001", ORDERS, D(2026, 1, 1), D(2026, 1, 31)), False),
        (("A002", SALES, D(2026, 1, 1), D(2026, 1, 31)), False),
        (("A001", SALES, D(2026, 1, 14), D(2026, 2, 5)), True),
        (("A001", SALES, D(2025, 12, 20), D(2026, 1, 10)), True),
        (("A001", SALES, D(2025, 12, 1), D(2026, 1, 9)), False),
        (("A001", SALES, D(2026, 1, 16), D(2026, 1, 16)), False),
    ],
    ids=[
        "inside",
        "other-endpoint",
        "other-store",
        "overlaps-end",
        "overlaps-start",
        "before-range",
        "after-range",
    ],
)
def test_store_failure_matches_store_endpoint_and_overlapping_range(
    request_args: tuple[str, str, dt.date, dt.date], hit: bool
) -> None:
    plan = FaultPlan()
    plan.fail_store(
        "A001", status=503, from_date=D(2026, 1, 10), to_date=D(2026, 1, 15), endpoint="sales"
    )
    assert plan.store_failure(*request_args) == (503 if hit else None)


def test_apply_json_builds_every_fault_and_reset_clears_them() -> None:
    plan = FaultPlan()
    plan.apply_json(
        {
            "latency_ms": 20,
            "rate_limit": {"count": 1, "retry_after_s": 2},
            "transient": {"count": 2, "status": 500},
            "fail_store": [{"store_code": "A001", "endpoint": "sales", "from_date": "2026-01-01"}],
            "malformed": {
                "store_code": "UC104",
                "day": "2026-01-06",
                "field": "cgst",
                "value": "x",
            },
        }
    )
    described = plan.describe()
    assert described["latency_s"] == pytest.approx(0.02)
    assert described["fail_store"] == [
        {"store_code": "A001", "status": 500, "from_date": "2026-01-01", "to_date": None,
         "endpoint": SALES},
    ]  # fmt: skip
    (rule,) = plan.malformations("UC104", GST)
    assert (rule.day, rule.field_for(GST), rule.value) == (D(2026, 1, 6), "cgst", "x")
    assert plan.malformations("UC104", ORDERS) == [rule]  # no endpoint named: all of them
    plan.reset()
    assert plan.take_rate_limit() is None and plan.take_transient() is None
    assert plan.store_failure("A001", SALES, D(2026, 1, 1), D(2026, 1, 1)) is None
    assert plan.malformations("UC104", GST) == [] and plan.latency_s == 0


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(ORDERS, "gross_amount"), (SALES, "amount"), (GST, "taxable_value")],
    ids=["orders", "sales", "gst"],
)
def test_malformed_rows_break_the_money_field_by_default(endpoint: str, field: str) -> None:
    plan = FaultPlan()
    plan.malform("A001")
    (rule,) = plan.malformations("A001", endpoint)
    assert rule.field_for(endpoint) == field


@pytest.mark.parametrize(
    "spec",
    [
        {"bogus": 1},
        {"fail_store": {"status": 500}},
        {"fail_store": {"store_code": "A001", "endpoint": "refunds"}},
        {"fail_store": {"store_code": "A001", "status": 200}},
        {"transient": {"status": 404}},
        {"malformed": {"store_code": "A001", "day": "06/01/2026"}},
        {"rate_limit": 3},
        {"latency_s": -1},
    ],
    ids=["unknown-key", "no-store", "unknown-endpoint", "status-not-error", "transient-not-5xx",
         "bad-day", "not-an-object", "negative-latency"],
)  # fmt: skip
def test_apply_json_rejects_malformed_specs(spec: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultPlan().apply_json(spec)
