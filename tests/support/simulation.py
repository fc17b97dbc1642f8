"""The CRM simulator for one test, the settings that point at it, and its ground truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from orders_sync.config import Endpoint, Settings
from orders_sync_devtools.simulator.clock import IST
from orders_sync_devtools.simulator.server import SimulatorServer
from tests.support import observe

SEED = 11
TD_TOKEN = "td-test-token-not-secret"
UC_TOKEN = "uc-test-token-not-secret"


@contextmanager
def running_simulator(
    clock: dt.datetime | None = None, *, latency_s: float = 0.0
) -> Iterator[SimulatorServer]:
    """A simulator on a free loopback port (tokens enforced), stopped on exit."""
    with SimulatorServer(
        seed=SEED, td_token=TD_TOKEN, uc_token=UC_TOKEN, clock=clock, latency_s=latency_s
    ) as sim:
        yield sim


def frozen_now() -> dt.datetime:
    """The current instant in IST, whole seconds: freeze a simulator on "now" with it so
    the truth does not move while a test compares against it."""
    return dt.datetime.now(IST).replace(microsecond=0)


def settings_for(db_url: str, sim: SimulatorServer, **overrides: object) -> Settings:
    """Settings of a test run: its database, the simulator, one quick retry, no backoff."""
    values: dict[str, object] = {
        "database_url": db_url,
        "endpoints": {
            "TD": Endpoint(sim.base_url, TD_TOKEN),
            "UC": Endpoint(sim.base_url, UC_TOKEN),
        },
        "http_max_attempts": 2,
        "http_backoff_base_s": 0.0,
        "http_timeout_s": 10.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def cli_env(db_url: str, sim: SimulatorServer, **extra: str) -> dict[str, str]:
    """The environment of a profiler process run against the test's database and simulator."""
    env = {
        "ORDERS_SYNC_DATABASE_URL": db_url,
        "TD_API_BASE_URL": sim.base_url,
        "TD_API_TOKEN": TD_TOKEN,
        "UC_API_BASE_URL": sim.base_url,
        "UC_API_TOKEN": UC_TOKEN,
        "ORDERS_SYNC_HTTP_MAX_ATTEMPTS": "2",
        "ORDERS_SYNC_HTTP_BACKOFF_BASE": "0",
        "ORDERS_SYNC_HTTP_TIMEOUT": "10",
    }
    env.update(extra)
    return env


def assert_matches_truth(
    engine: sa.Engine,
    sim: SimulatorServer,
    store_code: str,
    sync_group: str,
    first: dt.date,
    last: dt.date,
) -> None:
    """The store's rows in the database are exactly the simulator's data of ``first..last``."""
    if sync_group == "TD":
        truth = sim.truth_td_orders(store_code, first, last)
        orders = {order.order_number: order.order_status for order in truth}
        sales = {s.transaction_id for s in sim.truth_td_sales(store_code, first, last)}
        assert orders, f"the simulator has no TD orders for {store_code} in {first}..{last}"
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    sa.text(
                        "SELECT order_number, order_status FROM td_orders WHERE store_code = :s"
                    ),
                    {"s": store_code},
                ).all()
            )
        assert stored == orders
        assert observe.keys(engine, "td_sales", "transaction_id", store_code) == sales
    else:
        lines = {line.invoice_no for line in sim.truth_uc_gst(store_code, first, last)}
        assert lines, f"the simulator has no UC lines for {store_code} in {first}..{last}"
        assert observe.keys(engine, "uc_orders", "invoice_no", store_code) == lines
