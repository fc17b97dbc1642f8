"""Client of the UC GST API: GST invoice lines, cursor-paginated.

The range asked for is split into spans of at most 62 days counted inclusively
(``end - start <= 61``, the same reading as TD's "31 days" = ``to - from <= 30``); every
cursor page of every span is walked and yielded as one validated list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from orders_sync.sources import wire
from orders_sync.sources.api_client import ApiClient
from orders_sync.sources.errors import PageContext, SourceDataError
from orders_sync.sources.models import UcGstLine
from orders_sync.sources.spans import split_date_range

GST_PATH = "/api/gst-report"
MAX_SPAN_DAYS = 62
MAX_LIMIT = 1000


class UcClient(ApiClient):
    """The UC GST API for any number of stores, over one connection pool.

    Args:
        base_url: ``UC_API_BASE_URL``.
        token: ``UC_API_TOKEN``, sent as ``X-Api-Key``.
        timeout_s: timeout of every request.
        max_attempts: attempts per request before a transient failure is final.
        backoff_base_s: first backoff delay bound; doubles each attempt, full jitter.
        retry_after_cap_s: longest ``Retry-After`` honoured on a 429.
        page_size: items per page asked for (the API's ``limit``, 1..1000).
        sleep: waits between attempts (tests pass a fake).
        transport: an ``httpx`` transport instead of the network (tests).

    Raises:
        ValueError: ``page_size`` is outside 1..1000.
        ConfigurationError: the base URL or the token is unusable.
    """

    API_NAME = "UC"
    TOKEN_SETTING = "UC_API_TOKEN"
    MAX_PAGE_SIZE = MAX_LIMIT

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        """``X-Api-Key: <token>``."""
        return {"X-Api-Key": token}

    def iter_gst_pages(
        self, store_code: str, from_date: dt.date, to_date: dt.date
    ) -> Iterator[list[UcGstLine]]:
        """Every page of GST lines with ``invoice_date`` in ``[from_date, to_date]``.

        Yields:
            The validated items of one HTTP response page (possibly empty).

        Raises:
            ValueError: ``from_date`` is after ``to_date`` or ``store_code`` is empty
                (raised at once, not on the first ``next()``).
            SourceError: the subclass matching the failure; see :mod:`errors`.
        """
        if not store_code:
            raise ValueError("store_code must not be empty")
        spans = split_date_range(from_date, to_date, MAX_SPAN_DAYS)
        return self._iter_pages(store_code, spans)

    def fetch_gst(self, store_code: str, from_date: dt.date, to_date: dt.date) -> list[UcGstLine]:
        """All GST lines of the range, every page of every span concatenated."""
        return [row for page in self.iter_gst_pages(store_code, from_date, to_date) for row in page]

    def _iter_pages(
        self, store_code: str, spans: list[tuple[dt.date, dt.date]]
    ) -> Iterator[list[UcGstLine]]:
        for span_from, span_to in spans:
            cursor: str | None = None
            page = 1
            while True:
                context = PageContext(store_code, GST_PATH, span_from, span_to, page)
                params = {
                    "store_code": store_code,
                    "start_date": span_from.isoformat(),
                    "end_date": span_to.isoformat(),
                    "limit": str(self.page_size),
                }
                if cursor is not None:
                    params["cursor"] = cursor
                content = self._session.get_content(GST_PATH, params, context)
                with self._session.redacting():
                    # msgspec first; a page it refuses gets the strict parser's error
                    decoded = wire.uc_page(content)
                    if decoded is None:
                        decoded = _parse_page(self._session.json_object(content, context), context)
                    rows, next_cursor = decoded
                    if next_cursor is not None and next_cursor == cursor:
                        raise SourceDataError(
                            "source data error: field 'next_cursor' repeats the cursor just "
                            "sent; the API would loop forever",
                            context=context,
                            field="next_cursor",
                        )
                yield rows
                if next_cursor is None:
                    break
                cursor = next_cursor
                page += 1


def _parse_page(body: dict[str, Any], context: PageContext) -> tuple[list[UcGstLine], str | None]:
    items = body.get("items")
    if not isinstance(items, list):
        raise SourceDataError(
            "source data error: field 'items' must be a JSON array", context=context, field="items"
        )
    if "next_cursor" not in body:
        raise SourceDataError(
            "source data error: field 'next_cursor' is missing",
            context=context,
            field="next_cursor",
        )
    next_cursor = body["next_cursor"]
    if next_cursor is not None and (not isinstance(next_cursor, str) or not next_cursor):
        raise SourceDataError(
            "source data error: field 'next_cursor' must be a non-empty string or null",
            context=context,
            field="next_cursor",
        )
    rows = [
        UcGstLine.from_json(item, page_ctx=context, row=index) for index, item in enumerate(items)
    ]
    return rows, next_cursor
