"""The requirement's own example: a success for a window ending Jan-6 recorded at Jan-6 19:00
makes the next run re-run Jan-6, so an order entered after 19:00 on Jan-6 lands.

The simulator's source clock plays the CRM's time: the first run sees Jan-6 as it was at
19:00, the second run (``today`` = Jan-7) sees it the next day.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from orders_sync.config import Settings
from orders_sync.db.engine import get_engine
from orders_sync.run_profiler.execution import run_profiler
from orders_sync.run_profiler.options import ProfilerOptions
from orders_sync_devtools.simulator.clock import IST
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe
from tests.support.seeding import Store, seed_stores

JAN_1 = dt.date(2026, 1, 1)
JAN_6 = dt.date(2026, 1, 6)
JAN_7 = dt.date(2026, 1, 7)
JAN_6_19H = dt.datetime(2026, 1, 6, 19, 0, tzinfo=IST)
JAN_7_NOON = dt.datetime(2026, 1, 7, 12, 0, tzinfo=IST)


def _orders_of_day(engine: sa.Engine, store_code: str, day: dt.date) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text(
                    "SELECT order_number, order_status FROM td_orders "
                    "WHERE store_code = :s AND order_date = :d"
                ),
                {"s": store_code, "d": day},
            ).all()
        )


@pytest.mark.parametrize(
    ("overlap_days", "second_run", "late_order_lands"),
    [
        (1, [(JAN_6, JAN_7, "missing,overlap")], True),
        (2, [(dt.date(2026, 1, 5), JAN_7, "missing,overlap")], True),
        (0, [(JAN_7, JAN_7, "missing")], False),
    ],
    ids=["K=1:jan-6-reruns-late-order-lands", "K=2:jan-5-and-6-rerun", "K=0:late-order-missed"],
)
def test_success_at_19h_reruns_the_day_and_the_late_order_lands(
    settings: Settings,
    sim: SimulatorServer,
    overlap_days: int,
    second_run: list[tuple[dt.date, dt.date, str]],
    late_order_lands: bool,
) -> None:
    engine = get_engine(settings)
    seed_stores(engine, [Store("A001", "TD", JAN_1)])
    options = ProfilerOptions(env="test", window_days=7, overlap_days=overlap_days)

    sim.set_clock(JAN_6_19H)
    first = run_profiler(engine, options, settings, today=JAN_6)
    seen_at_19h = _orders_of_day(engine, "A001", JAN_6)

    sim.set_clock(JAN_7_NOON)
    truth_next_day = {
        o.order_number: o.order_status for o in sim.truth_td_orders("A001", JAN_6, JAN_6)
    }
    late = set(truth_next_day) - set(seen_at_19h)
    assert late, "the simulator must have orders of Jan-6 entered after 19:00"
    second = run_profiler(engine, options, settings, today=JAN_7)

    assert [
        (e.from_date, e.to_date, e.status)
        for e in observe.log_entries(engine, run_id=first.outcome.run_id)
    ] == [(JAN_1, JAN_6, "success")]
    assert [
        (e.from_date, e.to_date, e.window_reason)
        for e in observe.log_entries(engine, run_id=second.outcome.run_id)
    ] == second_run
    assert second.outcome.overall_status == "success"
    stored = _orders_of_day(engine, "A001", JAN_6)
    if late_order_lands:
        assert late <= set(stored)
        assert stored == truth_next_day  # late entries and newer statuses of Jan-6
    else:
        assert not late & set(stored)
