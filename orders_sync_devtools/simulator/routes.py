"""The contract's two APIs as plain functions of (path, query, headers) → reply.

Nothing here knows about sockets: :mod:`server` parses HTTP and calls
:meth:`ContractApi.handle`. Checks run in the order auth (401) → injected 429/5xx →
parameters (400) → store (404) → injected store failure → data.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import functools
import hashlib
import hmac
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from orders_sync.sources.td_client import MAX_PAGE_SIZE, ORDERS_PATH, SALES_PATH
from orders_sync.sources.td_client import MAX_SPAN_DAYS as TD_MAX_SPAN_DAYS
from orders_sync.sources.uc_client import GST_PATH, MAX_LIMIT
from orders_sync.sources.uc_client import MAX_SPAN_DAYS as UC_MAX_SPAN_DAYS
from orders_sync_devtools.simulator.clock import SourceClock
from orders_sync_devtools.simulator.dataset import SimulatedDataset
from orders_sync_devtools.simulator.faults import FaultPlan, MalformedRows

TD_DEFAULT_PAGE_SIZE = 100
_VIEW_CACHE = 256  # views kept: (endpoint, store, range, instant)
UC_DEFAULT_LIMIT = 200
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ROW_DATE_FIELD = {ORDERS_PATH: "order_date", SALES_PATH: "payment_date", GST_PATH: "invoice_date"}

Query = Mapping[str, Sequence[str]]


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, JSON body, extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)


class BadParameter(Exception):
    """A query parameter breaks the contract; its message becomes the 400's ``error``."""


def error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Reply:
    """A ``{"error": message}`` reply."""
    return Reply(status, {"error": message}, headers or {})


class ContractApi:
    """The TD and UC APIs of the contract over a :class:`SimulatedDataset`.

    Args:
        dataset: the data.
        clock: the source clock; nothing after its instant is served.
        faults: the faults to inject.
        stores: store codes served (others get 404); ``None`` serves every code.
        td_token: the only TD bearer token accepted; ``None`` accepts any non-empty one.
        uc_token: the only UC ``X-Api-Key`` accepted; ``None`` accepts any non-empty one.
    """

    def __init__(
        self,
        dataset: SimulatedDataset,
        clock: SourceClock,
        faults: FaultPlan,
        *,
        stores: frozenset[str] | None,
        td_token: str | None,
        uc_token: str | None,
    ) -> None:
        self.dataset = dataset
        self.clock = clock
        self.faults = faults
        self.stores = stores
        self.td_token = td_token
        self.uc_token = uc_token
        # What an endpoint shows of a store's range at an instant is a pure function of
        # (seed, endpoint, store, range, instant): a window's pages (and, under a fixed
        # clock, every re-fetch) reuse one view instead of regenerating the range per page.
        self._view = functools.lru_cache(maxsize=_VIEW_CACHE)(self._build_view)

    def is_api_path(self, path: str) -> bool:
        """Whether ``path`` is one of the contract's endpoints."""
        return path in (ORDERS_PATH, SALES_PATH, GST_PATH)

    def handle(self, path: str, query: Query, headers: Mapping[str, str]) -> Reply:
        """Answer one GET of an API endpoint.

        Args:
            path: the URL path.
            query: the parsed query string (every value a list).
            headers: request headers, looked up case-insensitively by the caller's mapping.
        """
        if path in (ORDERS_PATH, SALES_PATH):
            if not _bearer_ok(headers.get("Authorization"), self.td_token):
                return error(401, "authentication required: missing or invalid bearer token")
        elif path == GST_PATH:
            if not _token_ok(headers.get("X-Api-Key"), self.uc_token):
                return error(401, "authentication required: missing or invalid X-Api-Key")
        else:
            return error(404, f"no such endpoint: {path}")

        limited = self.faults.take_request("uc" if path == GST_PATH else "td")
        if limited is not None:
            return error(429, "rate limit exceeded", {"Retry-After": str(limited)})
        retry_after = self.faults.take_rate_limit()
        if retry_after is not None:
            return error(429, "rate limit exceeded", {"Retry-After": str(retry_after)})
        status = self.faults.take_transient()
        if status is not None:
            return error(status, "temporary failure, please retry")

        try:
            if path == GST_PATH:
                return self._gst(query)
            return self._td(path, query)
        except BadParameter as exc:
            return error(400, str(exc))

    # ---------------------------------------------------------------- TD

    def _td(self, path: str, query: Query) -> Reply:
        store_code = _store_param(query)
        from_date = _date_param(query, "from_date")
        to_date = _date_param(query, "to_date")
        _check_span(from_date, to_date, TD_MAX_SPAN_DAYS, "from_date", "to_date")
        page = _int_param(query, "page", default=1, low=1, high=None)
        page_size = _int_param(
            query, "page_size", default=TD_DEFAULT_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE
        )
        refusal = self._refusal(store_code, path, from_date, to_date)
        if refusal is not None:
            return refusal
        rows = self._view(path, store_code, from_date, to_date, self.clock.now())
        total = len(rows)
        chosen = rows[(page - 1) * page_size : page * page_size]
        return Reply(
            200,
            {
                "data": self._encode(store_code, path, chosen),
                "pagination": {
                    "page": page,
                    "page_size": page_size,
                    "total_rows": total,
                    "total_pages": math.ceil(total / page_size),
                },
            },
        )

    # ---------------------------------------------------------------- UC

    def _gst(self, query: Query) -> Reply:
        store_code = _store_param(query)
        start = _date_param(query, "start_date")
        end = _date_param(query, "end_date")
        _check_span(start, end, UC_MAX_SPAN_DAYS, "start_date", "end_date")
        limit = _int_param(query, "limit", default=UC_DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
        raw_cursor = _first(query, "cursor")
        offset = _decode_cursor(raw_cursor, store_code, start, end) if raw_cursor else 0
        refusal = self._refusal(store_code, GST_PATH, start, end)
        if refusal is not None:
            return refusal
        rows = self._view(GST_PATH, store_code, start, end, self.clock.now())
        chosen = rows[offset : offset + limit]
        following = offset + limit
        next_cursor = (
            _encode_cursor(following, store_code, start, end) if following < len(rows) else None
        )
        return Reply(
            200, {"items": self._encode(store_code, GST_PATH, chosen), "next_cursor": next_cursor}
        )

    # ---------------------------------------------------------------- shared

    def _refusal(
        self, store_code: str, path: str, from_date: dt.date, to_date: dt.date
    ) -> Reply | None:
        if self.stores is not None and store_code not in self.stores:
            return error(404, f"unknown store_code {store_code!r}")
        status = self.faults.store_failure(store_code, path, from_date, to_date)
        if status is not None:
            return error(status, f"internal error while reading store {store_code}")
        return None

    def _build_view(
        self, path: str, store_code: str, first: dt.date, last: dt.date, now: dt.datetime
    ) -> tuple[dict[str, Any], ...]:
        """The JSON objects of the rows ``path`` shows of the range at ``now``, in page order."""
        rows: Sequence[Any]
        if path == ORDERS_PATH:
            rows = self.dataset.td_orders(store_code, first, last, now)
        elif path == SALES_PATH:
            rows = self.dataset.td_sales(store_code, first, last, now)
        else:
            rows = self.dataset.uc_gst(store_code, first, last, now)
        return tuple(row.to_json() for row in rows)

    def _encode(
        self, store_code: str, path: str, rows: Sequence[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        rules = self.faults.malformations(store_code, path)
        if not rules:
            return list(rows)  # the cached objects themselves: nothing changes them
        encoded = [dict(row) for row in rows]  # copies: the rules change them
        _break_rows(encoded, rules, path)
        return encoded


def _break_rows(rows: list[dict[str, Any]], rules: list[MalformedRows], path: str) -> None:
    date_field = _ROW_DATE_FIELD[path]
    for row in rows:
        for rule in rules:
            if rule.day is not None and row.get(date_field) != rule.day.isoformat():
                continue
            field = rule.field_for(path)
            if rule.remove:
                row.pop(field, None)
            else:
                row[field] = rule.value


def _bearer_ok(header: str | None, expected: str | None) -> bool:
    if not header:
        return False
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return _token_ok(token.strip(), expected)


def _token_ok(token: str | None, expected: str | None) -> bool:
    if token is None or not token.strip():
        return False
    if expected is None:
        return True
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def _first(query: Query, name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    return values[0]


def _store_param(query: Query) -> str:
    value = _first(query, "store_code")
    if value is None or not value.strip():
        raise BadParameter("store_code is required")
    return value.strip()


def _date_param(query: Query, name: str) -> dt.date:
    value = _first(query, name)
    if value is None or not value:
        raise BadParameter(f"{name} is required (YYYY-MM-DD)")
    if not _DATE_RE.fullmatch(value):
        raise BadParameter(f"{name} must be a date YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{name} is not a valid date: {value!r}") from None


def _check_span(
    start: dt.date, end: dt.date, max_days: int, start_name: str, end_name: str
) -> None:
    if start > end:
        raise BadParameter(f"{start_name} {start} is after {end_name} {end}")
    if (end - start).days > max_days - 1:
        raise BadParameter(
            f"date range too long: {start}..{end} spans {(end - start).days + 1} days; "
            f"at most {max_days} days per request ({end_name} - {start_name} <= {max_days - 1})"
        )


def _int_param(query: Query, name: str, *, default: int, low: int, high: int | None) -> int:
    value = _first(query, name)
    if value is None or value == "":
        return default
    if not re.fullmatch(r"\d+", value.strip()):
        raise BadParameter(f"{name} must be an integer, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bounds = f"{low}..{high}" if high is not None else f">= {low}"
        raise BadParameter(f"{name} must be {bounds}, got {number}")
    return number


def _fingerprint(store_code: str, start: dt.date, end: dt.date) -> str:
    digest = hashlib.sha256(f"{store_code}|{start}|{end}".encode()).hexdigest()
    return digest[:10]


def _encode_cursor(offset: int, store_code: str, start: dt.date, end: dt.date) -> str:
    raw = f"{offset}:{_fingerprint(store_code, start, end)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, store_code: str, start: dt.date, end: dt.date) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset_text, _, fingerprint = base64.urlsafe_b64decode(padded).decode().partition(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadParameter("cursor is not a cursor this API issued") from None
    if offset < 0 or fingerprint != _fingerprint(store_code, start, end):
        raise BadParameter("cursor does not belong to this store_code/start_date/end_date")
    return offset
