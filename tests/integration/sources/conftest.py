"""Fixtures of the source tests: a real simulator on loopback, clients that never sleep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from orders_sync.sources.td_client import TdClient
from orders_sync.sources.uc_client import UcClient
from orders_sync_devtools.simulator import IST, SimulatorServer

CLOCK = dt.datetime(2026, 2, 10, 15, 30, tzinfo=IST)
TD_TOKEN = "td-test-token-9f2c41"
UC_TOKEN = "uc-test-token-7a1e88"
STORES = frozenset({"A001", "A002", "UC104", "UC105"})
SEED = 20260210


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    """A simulator with fixed tokens, four stores and a frozen clock (CLOCK)."""
    with SimulatorServer(
        seed=SEED, stores=STORES, td_token=TD_TOKEN, uc_token=UC_TOKEN, clock=CLOCK
    ) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    """Every wait a client asked for, in order (clients get ``sleeps.append``)."""
    return []


_Client = TypeVar("_Client", TdClient, UcClient)


def _client_factory(
    client_class: type[_Client], token: str, sim: SimulatorServer, sleeps: list[float]
) -> Iterator[Callable[..., _Client]]:
    made: list[_Client] = []

    def make(**overrides: Any) -> _Client:
        options: dict[str, Any] = {
            "max_attempts": 4,
            "backoff_base_s": 0.01,
            "timeout_s": 10.0,
            "sleep": sleeps.append,
        }
        options.update(overrides)
        client = client_class(
            options.pop("base_url", sim.base_url), options.pop("token", token), **options
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def td_client(sim: SimulatorServer, sleeps: list[float]) -> Iterator[Callable[..., TdClient]]:
    """Build a :class:`TdClient` on ``sim`` with a recording sleep; kwargs override."""
    yield from _client_factory(TdClient, TD_TOKEN, sim, sleeps)


@pytest.fixture
def uc_client(sim: SimulatorServer, sleeps: list[float]) -> Iterator[Callable[..., UcClient]]:
    """Build a :class:`UcClient` on ``sim`` with a recording sleep; kwargs override."""
    yield from _client_factory(UcClient, UC_TOKEN, sim, sleeps)
