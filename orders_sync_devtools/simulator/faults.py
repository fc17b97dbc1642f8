"""Fault injection of the simulated CRMs: latency, 429s, 5xx, failing stores, bad rows.

A :class:`FaultPlan` is shared by every request thread of a simulator; all of its
methods are thread-safe. Endpoints may be named by path or by the short names
``orders``, ``sales`` and ``gst``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from orders_sync.sources.td_client import ORDERS_PATH, SALES_PATH
from orders_sync.sources.uc_client import GST_PATH

ENDPOINT_ALIASES: dict[str, str] = {
    "orders": ORDERS_PATH,
    "sales": SALES_PATH,
    "gst": GST_PATH,
    ORDERS_PATH: ORDERS_PATH,
    SALES_PATH: SALES_PATH,
    GST_PATH: GST_PATH,
}
DEFAULT_MALFORMED_FIELD: dict[str, str] = {
    ORDERS_PATH: "gross_amount",
    SALES_PATH: "amount",
    GST_PATH: "taxable_value",
}


def endpoint_path(name: str | None) -> str | None:
    """The API path an endpoint name stands for (``None`` stays ``None``: every endpoint).

    Raises:
        ValueError: the name is not an endpoint of the contract.
    """
    if name is None:
        return None
    try:
        return ENDPOINT_ALIASES[name]
    except KeyError:
        raise ValueError(
            f"unknown endpoint {name!r}; use one of orders, sales, gst or their paths"
        ) from None


@dataclasses.dataclass(frozen=True, slots=True)
class StoreFailure:
    """Every request of ``store_code`` (optionally: of one endpoint, overlapping a range)
    is answered with ``status``."""

    store_code: str
    status: int = 500
    from_date: dt.date | None = None
    to_date: dt.date | None = None
    endpoint: str | None = None

    def matches(self, store_code: str, endpoint: str, from_date: dt.date, to_date: dt.date) -> bool:
        """Whether a request for this store, endpoint and range is hit."""
        if store_code != self.store_code:
            return False
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.from_date is not None and to_date < self.from_date:
            return False
        return not (self.to_date is not None and from_date > self.to_date)


@dataclasses.dataclass(frozen=True, slots=True)
class MalformedRows:
    """Rows of ``store_code`` dated ``day`` (``None``: every day) are served broken:
    ``field`` replaced by ``value``, or removed when ``remove``."""

    store_code: str
    day: dt.date | None = None
    endpoint: str | None = None
    field: str | None = None
    value: Any = 12.5
    remove: bool = False

    def field_for(self, endpoint: str) -> str:
        """The field broken on ``endpoint`` (its money field unless one was named)."""
        return self.field or DEFAULT_MALFORMED_FIELD[endpoint]


class FaultPlan:
    """The faults a simulator currently injects; empty when created."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latency_s = 0.0
        self._rate_limited = 0
        self._retry_after_s = 1
        self._transient = 0
        self._transient_status = 503
        self._store_failures: list[StoreFailure] = []
        self._malformed: list[MalformedRows] = []
        self._buckets: dict[str, _TokenBucket] = {}
        self.admitted: dict[str, list[float]] = {}
        """Per API (``td``, ``uc``), the monotonic time of every request let through while a
        request limit is on (tests count them per second)."""
        self.limited = 0
        """How many requests a request limit answered with 429."""
        self.seen: dict[str, list[float]] = {}
        """Per API, the monotonic time of every request sent while a limit is on."""

    # -------------------------------------------------------------- configuring

    @property
    def latency_s(self) -> float:
        """Seconds every API request is delayed by."""
        with self._lock:
            return self._latency_s

    @latency_s.setter
    def latency_s(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        with self._lock:
            self._latency_s = float(seconds)

    def set_latency(self, seconds: float) -> None:
        """Delay every API request by ``seconds``."""
        self.latency_s = seconds

    def rate_limit(self, count: int, *, retry_after_s: int = 1) -> None:
        """Answer the next ``count`` API requests with 429 and ``Retry-After: retry_after_s``."""
        if count < 0 or retry_after_s < 0:
            raise ValueError("count and retry_after_s must not be negative")
        with self._lock:
            self._rate_limited = count
            self._retry_after_s = retry_after_s

    def limit_requests(self, api: str, rps: float | None, *, burst: int | None = None) -> None:
        """Enforce ``rps`` requests a second on ``api`` (``td`` or ``uc``), as a CRM does: a
        token bucket of ``burst`` tokens (default ``max(1, rps)``); a request beyond it gets
        429 with ``Retry-After`` (whole seconds until a token). ``None`` lifts the limit."""
        if api not in ("td", "uc"):
            raise ValueError("api must be td or uc")
        with self._lock:
            if rps is None:
                self._buckets.pop(api, None)
            else:
                if rps <= 0:
                    raise ValueError("rps must be positive")
                self._buckets[api] = _TokenBucket(rps, burst or max(1, int(rps)))
                self.admitted.setdefault(api, [])

    def take_request(self, api: str) -> int | None:
        """A request to ``api`` under its limit: ``None`` when admitted, else the seconds of
        its ``Retry-After``."""
        with self._lock:
            bucket = self._buckets.get(api)
            if bucket is None:
                return None
            now = time.monotonic()
            self.seen.setdefault(api, []).append(now)
            wait = bucket.take(now)
            if wait is None:
                self.admitted[api].append(now)
                return None
            self.limited += 1
            return max(1, math.ceil(wait))

    def transient_errors(self, count: int, *, status: int = 503) -> None:
        """Answer the next ``count`` API requests with ``status`` (a 5xx)."""
        if count < 0 or not 500 <= status <= 599:
            raise ValueError("count must not be negative and status must be a 5xx")
        with self._lock:
            self._transient = count
            self._transient_status = status

    def fail_store(
        self,
        store_code: str,
        *,
        status: int = 500,
        from_date: dt.date | None = None,
        to_date: dt.date | None = None,
        endpoint: str | None = None,
    ) -> StoreFailure:
        """Answer every matching request of ``store_code`` with ``status`` until reset.

        Args:
            store_code: the failing store.
            status: the status to answer (500 by default; any 4xx/5xx).
            from_date: only requests whose range reaches this day or later.
            to_date: only requests whose range starts on this day or earlier.
            endpoint: only this endpoint (``orders``, ``sales``, ``gst`` or a path).
        """
        if not 400 <= status <= 599:
            raise ValueError("status must be a 4xx or 5xx")
        failure = StoreFailure(store_code, status, from_date, to_date, endpoint_path(endpoint))
        with self._lock:
            self._store_failures.append(failure)
        return failure

    def malform(
        self,
        store_code: str,
        day: dt.date | None = None,
        *,
        endpoint: str | None = None,
        field: str | None = None,
        value: Any = 12.5,
        remove: bool = False,
    ) -> MalformedRows:
        """Serve the rows of ``store_code`` dated ``day`` with a broken field until reset.

        Args:
            store_code: the store.
            day: the rows' own date (order, payment or invoice date); ``None``: all.
            endpoint: only this endpoint; ``None``: all three.
            field: the field to break; default the endpoint's money field.
            value: the JSON value to put there (default ``12.5``: a float, not a string).
            remove: drop the field instead.
        """
        rule = MalformedRows(store_code, day, endpoint_path(endpoint), field, value, remove)
        with self._lock:
            self._malformed.append(rule)
        return rule

    def reset(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._latency_s = 0.0
            self._rate_limited = 0
            self._transient = 0
            self._store_failures.clear()
            self._malformed.clear()
            self._buckets.clear()
            self.admitted.clear()
            self.seen.clear()
            self.limited = 0

    # -------------------------------------------------------------- consulted per request

    def take_rate_limit(self) -> int | None:
        """Consume one 429: its ``Retry-After`` seconds, or ``None`` if none is due."""
        with self._lock:
            if self._rate_limited <= 0:
                return None
            self._rate_limited -= 1
            return self._retry_after_s

    def take_transient(self) -> int | None:
        """Consume one transient 5xx: its status, or ``None`` if none is due."""
        with self._lock:
            if self._transient <= 0:
                return None
            self._transient -= 1
            return self._transient_status

    def store_failure(
        self, store_code: str, endpoint: str, from_date: dt.date, to_date: dt.date
    ) -> int | None:
        """The status a permanent failure forces on this request, if any."""
        with self._lock:
            for failure in self._store_failures:
                if failure.matches(store_code, endpoint, from_date, to_date):
                    return failure.status
        return None

    def malformations(self, store_code: str, endpoint: str) -> list[MalformedRows]:
        """The malformed-row rules that apply to this store and endpoint."""
        with self._lock:
            return [
                rule
                for rule in self._malformed
                if rule.store_code == store_code and rule.endpoint in (None, endpoint)
            ]

    def describe(self) -> dict[str, Any]:
        """The current faults as JSON."""
        with self._lock:
            return {
                "latency_s": self._latency_s,
                "rate_limit": {"count": self._rate_limited, "retry_after_s": self._retry_after_s},
                "transient": {"count": self._transient, "status": self._transient_status},
                "limit_requests": {
                    api: {"rps": bucket.rate, "burst": bucket.burst}
                    for api, bucket in self._buckets.items()
                },
                "limited": self.limited,
                "fail_store": [_jsonable(dataclasses.asdict(f)) for f in self._store_failures],
                "malformed": [_jsonable(dataclasses.asdict(m)) for m in self._malformed],
            }

    def apply_json(self, spec: Mapping[str, Any]) -> None:
        """Add the faults described by ``spec`` (the admin endpoint's JSON body).

        ``{"latency_s": 0.05, "rate_limit": {"count": 2, "retry_after_s": 1},
        "transient": {"count": 2, "status": 503}, "fail_store": {...} or [...],
        "malformed": {...} or [...]}``; each key is optional, dates are ``YYYY-MM-DD``.

        Raises:
            ValueError: the spec is malformed.
        """
        known = {
            "latency_s", "latency_ms", "rate_limit", "transient", "fail_store", "malformed",
            "limit_requests",
        }  # fmt: skip
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        if "latency_s" in spec:
            self.set_latency(float(spec["latency_s"]))
        if "latency_ms" in spec:
            self.set_latency(float(spec["latency_ms"]) / 1000.0)
        if "rate_limit" in spec:
            item = _mapping(spec["rate_limit"], "rate_limit")
            self.rate_limit(
                int(item.get("count", 1)), retry_after_s=int(item.get("retry_after_s", 1))
            )
        if "limit_requests" in spec:  # {"td": {"rps": 3, "burst": 3}, "uc": null}
            for api, limit in _mapping(spec["limit_requests"], "limit_requests").items():
                if limit is None:
                    self.limit_requests(str(api), None)
                else:
                    item = _mapping(limit, f"limit_requests.{api}")
                    burst = item.get("burst")
                    self.limit_requests(
                        str(api), float(item["rps"]), burst=int(burst) if burst else None
                    )
        if "transient" in spec:
            item = _mapping(spec["transient"], "transient")
            self.transient_errors(int(item.get("count", 1)), status=int(item.get("status", 503)))
        for item in _items(spec.get("fail_store"), "fail_store"):
            self.fail_store(
                _text(item, "store_code"),
                status=int(item.get("status", 500)),
                from_date=_opt_date(item, "from_date"),
                to_date=_opt_date(item, "to_date"),
                endpoint=item.get("endpoint"),
            )
        for item in _items(spec.get("malformed"), "malformed"):
            self.malform(
                _text(item, "store_code"),
                _opt_date(item, "day"),
                endpoint=item.get("endpoint"),
                field=item.get("field"),
                value=item.get("value", 12.5),
                remove=bool(item.get("remove", False)),
            )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a JSON object")
    return value


def _items(value: Any, name: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [_mapping(item, name) for item in values]


def _text(item: Mapping[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is required and must be a string")
    return value


def _opt_date(item: Mapping[str, Any], key: str) -> dt.date | None:
    value = item.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a 'YYYY-MM-DD' string")
    return dt.date.fromisoformat(value)


class _TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.stamp: float | None = None

    def take(self, now: float) -> float | None:
        """Take a token: ``None``, or the seconds until one is there."""
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate
