"""Client of the TD reporting API: orders report and sales report.

The range asked for is split into spans of at most 31 days (``to - from <= 30``) and
every page of every span is walked; each HTTP response page is yielded as one validated
list, so a caller can write each source request atomically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from orders_sync.sources import wire
from orders_sync.sources.api_client import ApiClient
from orders_sync.sources.errors import PageContext, SourceDataError
from orders_sync.sources.models import TdOrder, TdSale
from orders_sync.sources.spans import split_date_range

ORDERS_PATH = "/reports/order-report"
SALES_PATH = "/sales-and-deliveries/sales"
MAX_SPAN_DAYS = 31
MAX_PAGE_SIZE = 500

_Row = TypeVar("_Row", TdOrder, TdSale)


class TdClient(ApiClient):
    """The TD reporting API for any number of stores, over one connection pool.

    Args:
        base_url: ``TD_API_BASE_URL``.
        token: ``TD_API_TOKEN``, sent as ``Authorization: Bearer``.
        timeout_s: timeout of every request.
        max_attempts: attempts per request before a transient failure is final.
        backoff_base_s: first backoff delay bound; doubles each attempt, full jitter.
        retry_after_cap_s: longest ``Retry-After`` honoured on a 429.
        page_size: rows per page asked for (1..500).
        sleep: waits between attempts (tests pass a fake).
        transport: an ``httpx`` transport instead of the network (tests).

    Raises:
        ValueError: ``page_size`` is outside 1..500.
        ConfigurationError: the base URL or the token is unusable.
    """

    API_NAME = "TD"
    TOKEN_SETTING = "TD_API_TOKEN"
    MAX_PAGE_SIZE = MAX_PAGE_SIZE

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        """``Authorization: Bearer <token>``."""
        return {"Authorization": f"Bearer {token}"}

    def iter_order_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdOrder]]:
        """Every page of orders with ``order_date`` in ``[from_date, to_date]``.

        Yields:
            The validated rows of one HTTP response page (possibly empty).

        Raises:
            ValueError: ``from_date`` is after ``to_date`` or ``store_code`` is empty
                (raised at once, not on the first ``next()``).
            SourceError: the subclass matching the failure; see :mod:`errors`.
        """
        spans = _spans(store_code, from_date, to_date)
        return self._iter_pages(
            ORDERS_PATH, wire.td_order_page, TdOrder.from_json, store_code, spans
        )

    def iter_sale_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[TdSale]]:
        """Every page of payments with ``payment_date`` in ``[from_date, to_date]``.

        Yields:
            The validated rows of one HTTP response page (possibly empty).

        Raises:
            ValueError: ``from_date`` is after ``to_date`` or ``store_code`` is empty
                (raised at once, not on the first ``next()``).
            SourceError: the subclass matching the failure; see :mod:`errors`.
        """
        spans = _spans(store_code, from_date, to_date)
        return self._iter_pages(SALES_PATH, wire.td_sale_page, TdSale.from_json, store_code, spans)

    def fetch_orders(self, store_code: str, from_date: dt.date, to_date: dt.date) -> list[TdOrder]:
        """All orders of the range, every page of every span concatenated."""
        return [
            row for page in self.iter_order_pages(store_code, from_date, to_date) for row in page
        ]

    def fetch_sales(self, store_code: str, from_date: dt.date, to_date: dt.date) -> list[TdSale]:
        """All payments of the range, every page of every span concatenated."""
        return [
            row for page in self.iter_sale_pages(store_code, from_date, to_date) for row in page
        ]

    def _iter_pages(
        self,
        path: str,
        decode: Callable[[bytes], tuple[list[_Row], int] | None],
        parse: Callable[..., _Row],
        store_code: str,
        spans: list[tuple[dt.date, dt.date]],
    ) -> Iterator[list[_Row]]:
        """The pages of ``spans``: decoded fast by ``decode`` (msgspec); a page it refuses goes
        through the strict row parser ``parse``, which names the bad field, row and page."""
        for span_from, span_to in spans:
            page = 1
            while True:
                context = PageContext(store_code, path, span_from, span_to, page)
                content = self._session.get_content(
                    path,
                    {
                        "store_code": store_code,
                        "from_date": span_from.isoformat(),
                        "to_date": span_to.isoformat(),
                        "page": str(page),
                        "page_size": str(self.page_size),
                    },
                    context,
                )
                with self._session.redacting():
                    decoded = decode(content)
                    if decoded is None:
                        body = self._session.json_object(content, context)
                        decoded = _parse_page(body, parse, context)
                    rows, total_pages = decoded
                yield rows
                if page >= total_pages or not rows:
                    break
                page += 1


def _spans(store_code: str, from_date: dt.date, to_date: dt.date) -> list[tuple[dt.date, dt.date]]:
    if not store_code:
        raise ValueError("store_code must not be empty")
    return split_date_range(from_date, to_date, MAX_SPAN_DAYS)


def _parse_page(
    body: dict[str, Any], parse: Callable[..., _Row], context: PageContext
) -> tuple[list[_Row], int]:
    data = body.get("data")
    if not isinstance(data, list):
        raise SourceDataError(
            "source data error: field 'data' must be a JSON array", context=context, field="data"
        )
    pagination = body.get("pagination")
    total_pages = pagination.get("total_pages") if isinstance(pagination, dict) else None
    if isinstance(total_pages, bool) or not isinstance(total_pages, int) or total_pages < 0:
        raise SourceDataError(
            "source data error: field 'pagination.total_pages' must be a non-negative integer",
            context=context,
            field="pagination.total_pages",
        )
    rows = [parse(item, page_ctx=context, row=index) for index, item in enumerate(data)]
    return rows, total_pages
