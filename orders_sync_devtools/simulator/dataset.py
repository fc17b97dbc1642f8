"""Deterministic, time-varying data of the simulated CRMs.

Every store-day is generated once from ``(seed, store_code, day)`` by its own RNG, as a
set of *life stories*: when each order was entered, when its status changed, when each
payment was made (and corrected), when each GST invoice was raised (and revised). What
the API serves is those stories viewed at the source clock's instant, so re-fetching a
day later returns late-entered orders, newer statuses, late payments and revised
invoices, exactly as the contract's "time semantics" describe.

Every change of a day's data happens before ``day + SETTLE_DAYS`` (00:00 IST); a day
re-fetched after that never changes again.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import itertools
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal

from orders_sync.sources.models import TdOrder, TdSale, UcGstLine
from orders_sync_devtools.simulator import catalog
from orders_sync_devtools.simulator.clock import IST

SETTLE_DAYS = 10
SALE_LAG_DAYS = 3
_CACHE_SIZE = 4096
# Generation works in whole POSIX seconds; these are seconds too.
_MINUTE = 60
_HOUR = 3600
_DAY = 86400
_IST_OFFSET = 19800
_OPEN = 9 * _HOUR  # the shops open 09:00-21:30 IST
_CLOSE = 21 * _HOUR + 30 * _MINUTE
_UNIX_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

_SERVICE_NAMES = tuple(catalog.SERVICES)
_SERVICE_CUM = tuple(itertools.accumulate(spec[0] for spec in catalog.SERVICES.values()))
_MODE_NAMES = tuple(catalog.PAYMENT_MODES)
_MODE_CUM = tuple(itertools.accumulate(catalog.PAYMENT_MODES.values()))
_SAC_NAMES = tuple(catalog.SAC_CODES)
_SAC_CUM = tuple(itertools.accumulate(catalog.SAC_CODES.values()))


@dataclasses.dataclass(frozen=True, slots=True)
class _PaymentStory:
    sale: TdSale  # as first recorded; last_modified == paid_at
    paid_at: dt.datetime
    correction: tuple[dt.datetime, str] | None  # (when, corrected payment_mode)

    def at(self, now: dt.datetime) -> TdSale | None:
        if self.paid_at > now:
            return None
        if self.correction is not None and self.correction[0] <= now:
            when, mode = self.correction
            return dataclasses.replace(self.sale, payment_mode=mode, last_modified=when)
        return self.sale


@dataclasses.dataclass(frozen=True, slots=True)
class _OrderStory:
    order: TdOrder  # as first entered: Booked, last_modified == entered_at
    entered_at: dt.datetime
    status_changes: tuple[tuple[dt.datetime, str], ...]  # after Booked, in time order
    payments: tuple[_PaymentStory, ...]

    def at(self, now: dt.datetime) -> TdOrder | None:
        if self.entered_at > now:
            return None
        latest: tuple[dt.datetime, str] | None = None
        for change in self.status_changes:
            if change[0] > now:
                break
            latest = change
        if latest is None:
            return self.order
        return dataclasses.replace(self.order, order_status=latest[1], last_modified=latest[0])


@dataclasses.dataclass(frozen=True, slots=True)
class _InvoiceStory:
    line: UcGstLine  # as first raised; last_modified == raised_at
    raised_at: dt.datetime
    revision: UcGstLine | None  # the revised line; its last_modified is when

    def at(self, now: dt.datetime) -> UcGstLine | None:
        if self.raised_at > now:
            return None
        if self.revision is not None and self.revision.last_modified <= now:
            return self.revision
        return self.line


class SimulatedDataset:
    """The data of every store of the simulated CRMs for one seed.

    Args:
        seed: the seed; the same seed always gives the same data.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def td_orders(
        self, store_code: str, from_date: dt.date, to_date: dt.date, now: dt.datetime
    ) -> list[TdOrder]:
        """Orders visible at ``now`` with ``order_date`` in the range, in page order."""
        rows: list[TdOrder] = []
        for day in _days(from_date, min(to_date, now.astimezone(IST).date())):
            for story in _td_day(self.seed, store_code, day):
                order = story.at(now)
                if order is not None:
                    rows.append(order)
        return rows

    def td_sales(
        self, store_code: str, from_date: dt.date, to_date: dt.date, now: dt.datetime
    ) -> list[TdSale]:
        """Payments visible at ``now`` with ``payment_date`` in the range, in page order."""
        last = min(to_date, now.astimezone(IST).date())
        found: list[tuple[dt.datetime, str, TdSale]] = []
        for day in _days(from_date - dt.timedelta(days=SALE_LAG_DAYS), last):
            for story in _td_day(self.seed, store_code, day):
                for payment in story.payments:
                    if not from_date <= payment.sale.payment_date <= last:
                        continue
                    sale = payment.at(now)
                    if sale is not None:
                        found.append((payment.paid_at, sale.transaction_id, sale))
        found.sort(key=lambda item: (item[0], item[1]))
        return [sale for _, _, sale in found]

    def uc_gst(
        self, store_code: str, from_date: dt.date, to_date: dt.date, now: dt.datetime
    ) -> list[UcGstLine]:
        """GST lines visible at ``now`` with ``invoice_date`` in the range, in page order."""
        rows: list[UcGstLine] = []
        for day in _days(from_date, min(to_date, now.astimezone(IST).date())):
            for story in _uc_day(self.seed, store_code, day):
                line = story.at(now)
                if line is not None:
                    rows.append(line)
        return rows


def _days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


# ---------------------------------------------------------------- generation helpers


@functools.lru_cache(maxsize=1024)
def _store_profile(seed: int, store_code: str) -> tuple[float, str]:
    """(mean orders per ordinary day, GST home state code) of a store."""
    rng = random.Random(f"store:{seed}:{store_code}")
    return rng.uniform(6.0, 20.0), rng.choice(catalog.STATE_CODES)


def _count(rng: random.Random, mean_per_day: float, day: dt.date) -> int:
    mean = (
        mean_per_day
        * catalog.WEEKDAY_FACTORS[day.weekday()]
        * catalog.MONTH_FACTORS.get(day.month, 1.0)
    )
    return max(1, min(99, round(rng.gauss(mean, mean**0.5))))


def _between(rng: random.Random, low: int, high: int) -> int:
    """A uniform whole number in ``[low, high]`` (faster than ``randint``)."""
    return low + int(rng.random() * (high - low + 1))


def _pick(rng: random.Random, names: Sequence[str], cumulative: Sequence[int]) -> str:
    """A weighted choice (``cumulative`` are the running totals of the weights)."""
    return names[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def _order_seconds(rng: random.Random, n: int) -> list[int]:
    """Seconds after midnight of ``n`` orders; open 09:00-21:30, busiest in the evening."""
    seconds: list[int] = []
    for _ in range(n):
        if rng.random() < 0.4:
            at = int(min(max(rng.gauss(19 * _HOUR, 1.2 * _HOUR), _OPEN), _CLOSE - _MINUTE))
        else:
            at = _between(rng, _OPEN, _CLOSE - _MINUTE)
        seconds.append(at)
    seconds.sort()
    return seconds


def _person(rng: random.Random) -> str:
    first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
    return f"{first[0]}. {last}" if rng.random() < 0.25 else f"{first} {last}"


def _mobile(rng: random.Random) -> str:
    return f"{rng.choice('6789')}{int(rng.random() * 10**9):09d}"


def _paise(value: int) -> Decimal:
    return Decimal(value).scaleb(-2)


def _percent_of(paise: int, percent: int) -> int:
    """``percent`` % of ``paise``, rounded half up to the paisa."""
    return (paise * percent + 50) // 100


def _basket(rng: random.Random) -> tuple[str, int, int]:
    """(service type, pieces, gross amount in paise) of one order."""
    service = _pick(rng, _SERVICE_NAMES, _SERVICE_CUM)
    _, (low_pcs, high_pcs), (low_price, high_price), step = catalog.SERVICES[service]
    pieces = _between(rng, low_pcs, high_pcs)
    unit = low_price + step * _between(rng, 0, (high_price - low_price) // step)
    gross = unit * pieces
    if rng.random() < 0.1:  # express service surcharge
        gross += _percent_of(gross, 50)
    return service, pieces, gross


def _instant(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, IST)


def _during_hours(seconds: int) -> int:
    """``seconds`` if the shop is open then, else squeezed into the next morning's first hour.

    Staff update the CRM while the shop is open (09:00-21:30): an event that would fall
    at night is recorded early next morning, preserving the order of night events.
    """
    local = (seconds + _IST_OFFSET) % _DAY
    if _OPEN <= local < _CLOSE:
        return seconds
    midnight = seconds - local
    if local >= _CLOSE:
        midnight += _DAY
        since_closing = local - _CLOSE
    else:
        since_closing = local + _DAY - _CLOSE
    return midnight + _OPEN + since_closing * _HOUR // (_DAY - (_CLOSE - _OPEN))


# ---------------------------------------------------------------- TD


@dataclasses.dataclass(frozen=True, slots=True)
class _DayPlan:
    """What every story of one store-day shares (instants in POSIX seconds)."""

    store_code: str
    day: dt.date
    tag: str  # yymmdd, part of every key of the day
    midnight: int  # 00:00 IST on the day
    settled: int  # nothing of the day changes after this
    last_payment: int  # no payment for the day's orders after this

    @classmethod
    def of(cls, store_code: str, day: dt.date) -> _DayPlan:
        midnight = (day.toordinal() - _UNIX_EPOCH_ORDINAL) * _DAY - _IST_OFFSET
        return cls(
            store_code=store_code,
            day=day,
            tag=f"{day.year % 100:02d}{day.month:02d}{day.day:02d}",
            midnight=midnight,
            settled=midnight + SETTLE_DAYS * _DAY - _MINUTE,
            last_payment=midnight + (SALE_LAG_DAYS + 1) * _DAY - _MINUTE,
        )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _td_day(seed: int, store_code: str, day: dt.date) -> tuple[_OrderStory, ...]:
    rng = random.Random(f"td:{seed}:{store_code}:{day.isoformat()}")
    mean, _ = _store_profile(seed, store_code)
    day_plan = _DayPlan.of(store_code, day)
    seconds = _order_seconds(rng, _count(rng, mean, day))
    return tuple(
        _td_order_story(rng, day_plan, index, second)
        for index, second in enumerate(seconds, start=1)
    )


def _td_order_story(rng: random.Random, plan: _DayPlan, index: int, second: int) -> _OrderStory:
    placed = plan.midnight + second
    if rng.random() < 0.12:  # keyed in late, next morning
        entered = plan.midnight + _DAY + _between(rng, _OPEN, 13 * _HOUR)
    else:
        entered = placed + _between(rng, 0, 15 * _MINUTE)
    entered_at = _instant(entered)
    service, pieces, gross = _basket(rng)
    discount = 0
    if rng.random() < 0.35:
        discount = _percent_of(gross, rng.choice((5, 10, 15, 20)))
    net = gross - discount
    order_number = f"{plan.store_code}-{plan.tag}{index:03d}"
    order = TdOrder(
        order_number=order_number,
        order_date=plan.day,
        order_time=dt.time(second // _HOUR, second // _MINUTE % 60, second % 60),
        customer_name=None if rng.random() < 0.03 else _person(rng),
        mobile_number=None if rng.random() < 0.03 else _mobile(rng),
        service_type=None if rng.random() < 0.01 else service,
        pieces=None if rng.random() < 0.01 else pieces,
        gross_amount=_paise(gross),
        discount_amount=_paise(discount),
        net_amount=_paise(net),
        order_status="Booked",
        last_modified=entered_at,
    )

    changes: list[tuple[dt.datetime, str]] = []
    cancelled = rng.random() < 0.04
    if cancelled:
        at = _during_hours(entered + _between(rng, _HOUR, 2 * _DAY))
        changes.append((_instant(min(at, plan.settled)), "Cancelled"))
    else:
        steps = [("In Process", 2 * _HOUR, 20 * _HOUR), ("Ready", 6 * _HOUR, 60 * _HOUR)]
        if rng.random() < 0.97:  # a few are never collected
            steps.append(("Delivered", 3 * _HOUR, 4 * _DAY))
        at = entered
        for status, low, high in steps:
            at = max(_during_hours(at + _between(rng, low, high)), at + _MINUTE)
            changes.append((_instant(min(at, plan.settled)), status))

    payments: list[_PaymentStory] = []
    if not cancelled:
        transaction_base = f"{plan.store_code}-T-{plan.tag}{index:03d}"
        if net >= 30000 and rng.random() < 0.2:  # advance at booking, balance later
            advance = (net * _between(rng, 3, 5) // 10) // 1000 * 1000
            parts = [(advance, 0, 15 * _MINUTE), (net - advance, 4 * _HOUR, 3 * _DAY)]
        elif rng.random() < 0.4:  # paid at the counter when booked
            parts = [(net, 0, 15 * _MINUTE)]
        else:
            parts = [(net, 4 * _HOUR, 3 * _DAY)]
        for number, (amount, low, high) in enumerate(parts, start=1):
            paid = _during_hours(entered + _between(rng, low, high))
            paid = max(min(paid, plan.last_payment), entered)
            payments.append(
                _td_payment_story(
                    rng, f"{transaction_base}{number}", order_number, amount, paid, plan.settled
                )
            )
    return _OrderStory(order, entered_at, tuple(changes), tuple(payments))


def _td_payment_story(
    rng: random.Random,
    transaction_id: str,
    order_number: str,
    amount: int,
    paid: int,
    settled: int,
) -> _PaymentStory:
    mode = _pick(rng, _MODE_NAMES, _MODE_CUM)
    paid_at = _instant(paid)
    sale = TdSale(
        transaction_id=transaction_id,
        order_number=order_number,
        payment_date=paid_at.date(),
        payment_mode=mode,
        amount=_paise(amount),
        last_modified=paid_at,
    )
    correction: tuple[dt.datetime, str] | None = None
    if rng.random() < 0.04:  # the cashier fixes the payment mode later
        when = min(_during_hours(paid + _between(rng, 2 * _HOUR, 2 * _DAY)), settled)
        if when > paid:
            correction = (_instant(when), rng.choice([m for m in _MODE_NAMES if m != mode]))
    return _PaymentStory(sale, paid_at, correction)


# ---------------------------------------------------------------- UC


def _gstin(rng: random.Random, state: str) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    pan = "".join(rng.choice(letters) for _ in range(5))
    pan += f"{int(rng.random() * 10**4):04d}" + rng.choice(letters)
    return f"{state}{pan}{_between(rng, 1, 9)}Z{rng.choice(letters + '0123456789')}"


def _gst_amounts(taxable: int, inter_state: bool) -> tuple[int, int, int, int]:
    """(cgst, sgst, igst, total) in paise: 9% + 9% within the state, 18% IGST across."""
    if inter_state:
        igst = _percent_of(taxable, 18)
        return 0, 0, igst, taxable + igst
    half = _percent_of(taxable, 9)
    return half, half, 0, taxable + 2 * half


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _uc_day(seed: int, store_code: str, day: dt.date) -> tuple[_InvoiceStory, ...]:
    rng = random.Random(f"uc:{seed}:{store_code}:{day.isoformat()}")
    mean, home_state = _store_profile(seed, store_code)
    plan = _DayPlan.of(store_code, day)
    seconds = _order_seconds(rng, _count(rng, mean, day))
    return tuple(
        _uc_invoice_story(rng, plan, home_state, index, second)
        for index, second in enumerate(seconds, start=1)
    )


def _uc_invoice_story(
    rng: random.Random, plan: _DayPlan, home_state: str, index: int, second: int
) -> _InvoiceStory:
    if rng.random() < 0.22:  # raised late, on one of the next three mornings
        raised = plan.midnight + _between(rng, 1, 3) * _DAY + _between(rng, _OPEN, 12 * _HOUR)
    else:
        raised = plan.midnight + second + _between(rng, _MINUTE, 30 * _MINUTE)
    raised_at = _instant(raised)
    business = rng.random() < 0.15
    gstin: str | None = None
    inter_state = False
    name: str | None
    if business:
        state = home_state if rng.random() < 0.7 else rng.choice(catalog.STATE_CODES)
        inter_state = state != home_state
        gstin = _gstin(rng, state)
        name = f"{rng.choice(catalog.LAST_NAMES)} {rng.choice(catalog.BUSINESS_SUFFIXES)}"
    else:
        name = None if rng.random() < 0.08 else _person(rng)
    _, _, gross = _basket(rng)
    taxable = gross - (_percent_of(gross, 10) if rng.random() < 0.2 else 0)
    cgst, sgst, igst, total = _gst_amounts(taxable, inter_state)
    line = UcGstLine(
        invoice_no=f"{plan.store_code}/{plan.day.year}/{plan.day.timetuple().tm_yday:03d}{index:03d}",
        invoice_date=plan.day,
        order_id=None if rng.random() < 0.08 else f"{plan.store_code}-O-{plan.tag}{index:03d}",
        customer_name=name,
        customer_gstin=gstin,
        hsn_sac=None if rng.random() < 0.02 else _pick(rng, _SAC_NAMES, _SAC_CUM),
        taxable_value=_paise(taxable),
        cgst=_paise(cgst),
        sgst=_paise(sgst),
        igst=_paise(igst),
        invoice_total=_paise(total),
        last_modified=raised_at,
    )
    revision: UcGstLine | None = None
    if rng.random() < 0.2:  # credit-note style correction a few days later
        when = min(_during_hours(raised + _between(rng, 12 * _HOUR, 5 * _DAY)), plan.settled)
        if when > raised:
            change = _percent_of(taxable, rng.choice((5, 10, 15)))
            revised = taxable + change if rng.random() < 0.5 else taxable - change
            cgst, sgst, igst, total = _gst_amounts(revised, inter_state)
            revision = dataclasses.replace(
                line,
                taxable_value=_paise(revised),
                cgst=_paise(cgst),
                sgst=_paise(sgst),
                igst=_paise(igst),
                invoice_total=_paise(total),
                last_modified=_instant(when),
            )
    return _InvoiceStory(line, raised_at, revision)
