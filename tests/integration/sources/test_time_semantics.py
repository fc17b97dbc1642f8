"""Data changes with the source clock, seen through the clients over loopback HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import IST, SETTLE_DAYS, SimulatorServer

DAY = dt.date(2026, 1, 20)
EVENING = dt.datetime(2026, 1, 20, 22, 0, tzinfo=IST)


def test_a_late_entered_order_appears_after_the_clock_advances(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    client = td_client()
    late_days = 0
    for offset in range(14):  # ~12 % of orders are keyed in late: some day of a fortnight has one
        day = DAY + dt.timedelta(days=offset)
        week = (day - dt.timedelta(days=6), day)
        sim.set_clock(EVENING + dt.timedelta(days=offset))
        before = {o.order_number for o in client.fetch_orders("A001", *week)}
        sim.advance_clock(dt.timedelta(days=1))
        after = client.fetch_orders("A001", *week)
        late = [o for o in after if o.order_number not in before]
        assert all(o.order_date == day for o in late)  # earlier days were complete already
        assert {o.order_number for o in after} >= before
        assert after == sim.truth_td_orders("A001", *week)
        late_days += bool(late)
    assert late_days >= 2


def test_a_status_change_updates_last_modified(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    client = td_client()
    sim.set_clock(EVENING)
    before = {o.order_number: o for o in client.fetch_orders("A001", DAY, DAY)}
    assert {o.order_status for o in before.values()} <= {"Booked", "In Process", "Cancelled"}
    sim.advance_clock(dt.timedelta(days=3))
    after = {o.order_number: o for o in client.fetch_orders("A001", DAY, DAY)}
    changed = [n for n in before if after[n].order_status != before[n].order_status]
    assert changed
    for number in changed:
        assert after[number].last_modified > before[number].last_modified
        assert after[number].last_modified <= sim.now()
    unchanged = [n for n in before if after[n].order_status == before[n].order_status]
    assert all(after[n] == before[n] for n in unchanged)


def test_payments_for_an_order_arrive_on_later_days(
    sim: SimulatorServer, td_client: Callable[..., TdClient]
) -> None:
    client = td_client()
    sim.set_clock(EVENING)
    orders = {o.order_number for o in client.fetch_orders("A001", DAY, DAY)}
    paid_today = {s.order_number for s in client.fetch_sales("A001", DAY, DAY)} & orders
    sim.advance_clock(dt.timedelta(days=4))
    later = client.fetch_sales("A001", DAY, DAY + dt.timedelta(days=3))
    paid_later = {s.order_number for s in later if s.payment_date > DAY} & orders
    assert paid_later - paid_today


def test_gst_invoices_are_raised_late_and_revised(
    sim: SimulatorServer, uc_client: Callable[..., UcClient]
) -> None:
    client = uc_client()
    fortnight = (DAY - dt.timedelta(days=13), DAY)
    sim.set_clock(EVENING)
    before = {line.invoice_no: line for line in client.fetch_gst("UC104", *fortnight)}
    sim.advance_clock(dt.timedelta(days=SETTLE_DAYS))
    after = {line.invoice_no: line for line in client.fetch_gst("UC104", *fortnight)}
    assert set(after) > set(before)  # late invoices
    revised = [no for no in before if after[no] != before[no]]
    assert revised
    assert all(after[no].last_modified > before[no].last_modified for no in revised)


def test_a_settled_range_never_changes_again(
    sim: SimulatorServer, td_client: Callable[..., TdClient], uc_client: Callable[..., UcClient]
) -> None:
    td, uc = td_client(), uc_client()
    month = (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    sim.set_clock(dt.datetime(2026, 1, 10, 0, 0, tzinfo=IST))  # Dec 31 + SETTLE_DAYS
    first = (
        td.fetch_orders("A001", *month),
        td.fetch_sales("A001", *month),
        uc.fetch_gst("UC104", *month),
    )
    sim.advance_clock(dt.timedelta(days=90))
    again = (
        td.fetch_orders("A001", *month),
        td.fetch_sales("A001", *month),
        uc.fetch_gst("UC104", *month),
    )
    assert first == again


def test_the_real_clock_is_the_default(td_client: Callable[..., TdClient]) -> None:
    with SimulatorServer(seed=3) as live:
        today = live.now().date()
        assert live.clock.is_real
        rows = td_client(base_url=live.base_url).fetch_orders(
            "A001", today - dt.timedelta(days=3), today
        )
        assert rows and max(o.order_date for o in rows) <= today
        assert all(o.last_modified <= live.now() for o in rows)
