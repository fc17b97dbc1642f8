"""The simulator's data: deterministic, realistic, and changing with the source clock."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders_sync.sources.models import ORDER_STATUSES, PAYMENT_MODES
from orders_sync_devtools.simulator import IST, SETTLE_DAYS, SimulatedDataset

D = dt.date
DAY = D(2026, 1, 6)
YEAR = (D(2025, 1, 1), D(2025, 12, 31))
LATER = dt.datetime(2026, 6, 1, tzinfo=IST)  # long after everything of 2025/Jan 2026 settled
STATUS_RANK = {"Booked": 0, "In Process": 1, "Ready": 2, "Delivered": 3, "Cancelled": 3}

stores = st.sampled_from(["A001", "A002", "B017", "UC104", "UC200", "X"])
days = st.dates(min_value=D(2020, 1, 1), max_value=D(2026, 1, 31))


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=IST)


def test_same_seed_same_data_other_seed_other_data() -> None:
    one, same, other = SimulatedDataset(7), SimulatedDataset(7), SimulatedDataset(8)
    args = ("A001", D(2026, 1, 1), D(2026, 1, 31), LATER)
    assert one.td_orders(*args) == same.td_orders(*args)
    assert one.td_sales(*args) == same.td_sales(*args)
    assert one.uc_gst(*args) == same.uc_gst(*args)
    assert one.td_orders(*args) != other.td_orders(*args)
    assert one.td_orders(*args) != one.td_orders("A002", *args[1:])


@settings(max_examples=40, deadline=None)
@given(store=stores, day=days)
def test_every_store_day_has_a_few_to_tens_of_well_formed_orders(store: str, day: dt.date) -> None:
    orders = SimulatedDataset(3).td_orders(store, day, day, LATER)
    assert 1 <= len(orders) <= 99
    assert len({order.order_number for order in orders}) == len(orders)
    for order in orders:
        assert order.order_number.startswith(f"{store}-")
        assert order.order_date == day
        assert dt.time(9) <= order.order_time <= dt.time(21, 30)
        assert order.order_status in ORDER_STATUSES
        assert order.net_amount == order.gross_amount - order.discount_amount > 0
        for money in (order.gross_amount, order.discount_amount, order.net_amount):
            assert money.as_tuple().exponent == -2
        assert order.mobile_number is None or re.fullmatch(r"[6-9]\d{9}", order.mobile_number)
        assert order.last_modified.utcoffset() == dt.timedelta(hours=5, minutes=30)
        assert order.last_modified >= at(order.order_date) + (
            dt.datetime.combine(day, order.order_time) - dt.datetime.combine(day, dt.time())
        )


@settings(max_examples=40, deadline=None)
@given(store=stores, day=days)
def test_payments_come_zero_to_three_days_after_the_order_and_add_up(
    store: str, day: dt.date
) -> None:
    data = SimulatedDataset(3)
    orders = {o.order_number: o for o in data.td_orders(store, day, day, LATER)}
    sales = [s for s in data.td_sales(store, day, day + dt.timedelta(days=3), LATER)
             if s.order_number in orders]  # fmt: skip
    paid: Counter[str] = Counter()
    for sale in sales:
        order = orders[sale.order_number]
        assert 0 <= (sale.payment_date - order.order_date).days <= 3
        assert sale.payment_mode in PAYMENT_MODES
        assert sale.amount > 0 and sale.amount.as_tuple().exponent == -2
        paid[sale.order_number] += 1
        assert sale.transaction_id.startswith(f"{store}-T-")
    for number, order in orders.items():
        total = sum((s.amount for s in sales if s.order_number == number), Decimal(0))
        assert total == (Decimal(0) if order.order_status == "Cancelled" else order.net_amount)


@settings(max_examples=40, deadline=None)
@given(store=stores, day=days)
def test_gst_lines_are_consistent_invoices(store: str, day: dt.date) -> None:
    lines = SimulatedDataset(3).uc_gst(store, day, day, LATER)
    assert 1 <= len(lines) <= 99
    assert len({line.invoice_no for line in lines}) == len(lines)
    for line in lines:
        assert line.invoice_no.startswith(f"{store}/{day.year}/")
        assert line.invoice_total == line.taxable_value + line.cgst + line.sgst + line.igst
        assert line.cgst == line.sgst
        assert (line.igst == 0) != (line.cgst == 0)
        expected = (line.taxable_value * Decimal("0.09")).quantize(Decimal("0.01"))
        if line.igst == 0:
            assert abs(line.cgst - expected) <= Decimal("0.01")
        assert line.igst == 0 or line.customer_gstin is not None  # inter-state is B2B only
        assert line.hsn_sac in (None, "999711", "999712", "999719")
        assert line.customer_gstin is None or re.fullmatch(
            r"\d{2}[A-Z]{5}\d{4}[A-Z][1-9]Z[A-Z0-9]", line.customer_gstin
        )


def test_weekends_are_busier_than_weekdays() -> None:
    orders = SimulatedDataset(11).td_orders("A001", *YEAR, LATER)
    per_day = Counter(order.order_date for order in orders)
    weekend = statistics.mean(n for d, n in per_day.items() if d.weekday() >= 5)
    weekday = statistics.mean(n for d, n in per_day.items() if d.weekday() < 5)
    assert weekend > 1.2 * weekday


def test_nothing_dated_after_the_clock_date_and_nothing_entered_after_the_clock() -> None:
    data = SimulatedDataset(5)
    clock = at(DAY, 13, 0)
    orders = data.td_orders("A001", DAY - dt.timedelta(days=20), DAY + dt.timedelta(days=20), clock)
    assert max(order.order_date for order in orders) == DAY
    assert all(order.last_modified <= clock for order in orders)
    today = [order for order in orders if order.order_date == DAY]
    assert all(order.order_time <= dt.time(13, 0) for order in today)
    sales = data.td_sales("A001", DAY - dt.timedelta(days=20), DAY + dt.timedelta(days=20), clock)
    assert max(sale.payment_date for sale in sales) <= DAY
    assert all(sale.last_modified <= clock for sale in sales)
    lines = data.uc_gst("UC104", DAY - dt.timedelta(days=20), DAY + dt.timedelta(days=20), clock)
    assert max(line.invoice_date for line in lines) <= DAY
    assert all(line.last_modified <= clock for line in lines)


def _views(fetch: str, store: str, first: dt.date, last: dt.date) -> list[dict[str, object]]:
    """The same range seen at noon on every day from ``first`` to 15 days after ``last``."""
    data = SimulatedDataset(9)
    views = []
    clock = at(first, 12)
    while clock.date() <= last + dt.timedelta(days=15):
        rows = getattr(data, fetch)(store, first, last, clock)
        views.append({_key(row): row for row in rows})
        clock += dt.timedelta(days=1)
    return views


def _key(row: object) -> str:
    for name in ("order_number", "transaction_id", "invoice_no"):
        if hasattr(row, name):
            return str(getattr(row, name))
    raise AssertionError(row)


@pytest.mark.parametrize(
    ("fetch", "store"),
    [("td_orders", "A001"), ("td_sales", "A001"), ("uc_gst", "UC104")],
    ids=["td-orders", "td-sales", "uc-gst"],
)
def test_rows_never_vanish_and_last_modified_never_goes_back(fetch: str, store: str) -> None:
    views = _views(fetch, store, D(2026, 1, 1), D(2026, 1, 20))
    for before, after in zip(views, views[1:], strict=False):
        assert set(before) <= set(after)
        for key, row in before.items():
            assert after[key].last_modified >= row.last_modified  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fetch", "store", "changed_days"),
    [("td_orders", "A001", 25), ("td_sales", "A001", 5), ("uc_gst", "UC104", 20)],
    ids=["td-orders", "td-sales-mode-corrections", "uc-gst"],
)
def test_a_day_keeps_changing_for_days_then_settles(
    fetch: str, store: str, changed_days: int
) -> None:
    data = SimulatedDataset(9)
    first, last = D(2026, 1, 1), D(2026, 1, 31)
    same_evening = {
        d: getattr(data, fetch)(store, d, d, at(d, 23, 59)) for d in _range(first, last)
    }
    settled = {
        d: getattr(data, fetch)(store, d, d, at(d + dt.timedelta(days=SETTLE_DAYS)))
        for d in same_evening
    }
    much_later = {d: getattr(data, fetch)(store, d, d, LATER) for d in same_evening}
    assert settled == much_later  # nothing changes SETTLE_DAYS after a day
    assert sum(same_evening[d] != settled[d] for d in same_evening) >= changed_days


def _range(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def test_orders_are_entered_late_and_move_through_statuses() -> None:
    data = SimulatedDataset(9)
    month = (D(2026, 1, 1), D(2026, 1, 31))
    final = {o.order_number: o for o in data.td_orders("A001", *month, LATER)}
    late = 0
    for day in _range(*month):
        evening = {o.order_number for o in data.td_orders("A001", day, day, at(day, 23, 59))}
        next_day = {
            o.order_number
            for o in data.td_orders("A001", day, day, at(day + dt.timedelta(days=1), 23, 59))
        }
        late += len(next_day - evening)
    assert late >= 5  # ~12 % of the orders are keyed in the next morning
    statuses = Counter(order.order_status for order in final.values())
    assert statuses["Delivered"] > 0.8 * len(final)
    assert 0 < statuses["Cancelled"] < 0.1 * len(final)
    views = _views("td_orders", "A001", D(2026, 1, 1), D(2026, 1, 10))
    for before, after in zip(views, views[1:], strict=False):
        for key, order in before.items():
            moved = after[key]
            assert STATUS_RANK[moved.order_status] >= STATUS_RANK[order.order_status]  # type: ignore[attr-defined]
            if moved != order:
                assert moved.last_modified > order.last_modified  # type: ignore[attr-defined]


def test_gst_invoices_are_raised_late_and_some_are_revised() -> None:
    data = SimulatedDataset(9)
    month = (D(2026, 1, 1), D(2026, 1, 31))
    final = data.uc_gst("UC104", *month, LATER)
    raised_late = [line for line in final if line.last_modified.date() > line.invoice_date]
    same_day = {
        line.invoice_no: line
        for day in _range(*month)
        for line in data.uc_gst("UC104", day, day, at(day, 23, 59))
    }
    missing_on_the_day = [line for line in final if line.invoice_no not in same_day]
    first_seen = {key: same_day[key].taxable_value for key in same_day}
    revised = [line for line in final if first_seen.get(line.invoice_no, line.taxable_value)
               != line.taxable_value]  # fmt: skip
    assert raised_late and missing_on_the_day and revised
