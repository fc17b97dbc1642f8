"""The request pacer: a configured budget, and a limit found from 429s (AIMD)."""

from __future__ import annotations

import pytest

from orders_sync.sources.pacing import DECREASE, MIN_RPS, Pacer, pacer_for, set_share


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _send(pacer: Pacer, clock: Clock, count: int, *, limited: bool = False) -> list[float]:
    times = []
    for _ in range(count):
        pacer.before_request()
        times.append(clock.now)
        pacer.on_response(limited)
    return times


def test_a_configured_budget_paces_every_request() -> None:
    clock = Clock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    times = _send(pacer, clock, 21)
    assert times[-1] - times[0] == pytest.approx(5.0)  # 20 gaps of 1/4 s
    # in any second, at most 4 requests (plus the one the bucket holds)
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 5


def test_unconfigured_is_unpaced_until_a_429_then_slower_than_what_was_accepted() -> None:
    clock = Clock()
    pacer = Pacer(None, clock=clock, sleep=clock.sleep)
    for _ in range(20):  # 10 requests a second accepted
        pacer.before_request()
        pacer.on_response(False)
        clock.now += 0.1
    assert pacer.rate is None
    pacer.on_response(True)
    assert pacer.rate == pytest.approx(10.0 * DECREASE, rel=0.1)
    times = _send(pacer, clock, 9)
    assert times[-1] - times[0] == pytest.approx(8 / pacer.rate, rel=0.2)


def test_the_pace_climbs_back_slowly_and_never_passes_the_budget() -> None:
    clock = Clock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    pacer.on_response(True)
    low = pacer.rate
    assert low is not None and low < 10.0
    _send(pacer, clock, 200)
    assert pacer.rate is not None and low < pacer.rate <= 10.0


def test_429s_never_pace_below_the_floor() -> None:
    clock = Clock()
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        pacer.on_response(True)
        clock.now += 1.0
    assert pacer.rate == MIN_RPS and pacer.rate_limited == 50


def test_the_429s_of_one_burst_lower_the_pace_once() -> None:
    # the requests in flight together answer for one excess: one decrease, not eight
    clock = Clock()
    pacer = Pacer(10.0, clock=clock, sleep=clock.sleep)
    for _ in range(8):
        pacer.on_response(True)
    assert pacer.rate == pytest.approx(10.0 * DECREASE) and pacer.rate_limited == 8


def test_a_process_takes_its_share_of_the_budget() -> None:
    try:
        set_share(0.25)
        assert pacer_for("TD", "http://crm.test", 8.0).ceiling == 2.0
        assert pacer_for("TD", "http://crm.test/", 8.0) is pacer_for("TD", "http://crm.test", 8.0)
        assert pacer_for("UC", "http://crm.test", None).rate is None
    finally:
        set_share(1.0)
