"""Fake TD sources for the tests that need exact control over pages (no HTTP)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal

from orders_sync.sources.models import TdOrder, TdSale

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def order(n: int, *, day: dt.date = dt.date(2026, 1, 5), status: str = "Booked",
          mobile: str = "9800000001") -> TdOrder:  # fmt: skip
    """A valid TD order numbered ``n``."""
    return TdOrder(
        order_number=f"A001-{n:06d}",
        order_date=day,
        order_time=dt.time(10, 0, 0),
        customer_name=f"Customer {n}",
        mobile_number=mobile,
        service_type="Dry Clean",
        pieces=2,
        gross_amount=Decimal("100.00"),
        discount_amount=Decimal("0.00"),
        net_amount=Decimal("100.00"),
        order_status=status,
        last_modified=dt.datetime(2026, 1, 5, 10, 0, tzinfo=IST),
    )


class ScriptedTdSource:
    """Serves fixed pages; a page may be an exception to raise instead, or a hook to call.

    Args:
        order_pages: the pages of orders, in order; an ``Exception`` item is raised there.
        sale_pages: the pages of sales, likewise.
        before_page: called with the 0-based page index before each order page is served.
    """

    def __init__(
        self,
        order_pages: Sequence[list[TdOrder] | BaseException],
        sale_pages: Sequence[list[TdSale] | BaseException] = (),
        before_page: Callable[[int], None] | None = None,
    ) -> None:
        self.order_pages = order_pages
        self.sale_pages = sale_pages
        self.before_page = before_page

    def iter_order_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdOrder]]:
        for index, page in enumerate(self.order_pages):
            if self.before_page is not None:
                self.before_page(index)
            if isinstance(page, BaseException):
                raise page
            yield page

    def iter_sale_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdSale]]:
        for page in self.sale_pages:
            if isinstance(page, BaseException):
                raise page
            yield page
