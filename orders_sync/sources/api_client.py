"""What the TD and UC clients share: construction, the pooled session, lifecycle."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import ClassVar, Self

import httpx

from orders_sync.sources.api_session import ApiSession
from orders_sync.sources.pacing import pacer_for
from orders_sync.sources.retry import RetryPolicy


class ApiClient:
    """Base of the sources' HTTP clients: one connection pool per client.

    Args:
        base_url: the API's base URL.
        token: the API's credential (never appears in a message).
        timeout_s: timeout of every request.
        max_attempts: attempts per request before a transient failure is final.
        backoff_base_s: first backoff delay bound; doubles each attempt, full jitter.
        retry_after_cap_s: longest ``Retry-After`` honoured on a 429.
        rate_limit_wait_s: the longest one request waits in all on 429s.
        max_rps: this run's request budget for the API (``None``: found from its 429s);
            every client of the process shares one pacer (:mod:`orders_sync.sources.pacing`).
        paced: ``False`` sends unpaced (tests of the retry alone).
        page_size: rows per page asked for (1..``MAX_PAGE_SIZE``; default the maximum).
        sleep: waits between attempts (tests pass a fake).
        transport: an ``httpx`` transport instead of the network (tests).

    Raises:
        ValueError: ``page_size`` is out of range.
        ConfigurationError: the base URL or the token is unusable.
    """

    API_NAME: ClassVar[str]
    TOKEN_SETTING: ClassVar[str]
    MAX_PAGE_SIZE: ClassVar[int]

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        max_attempts: int = 5,
        backoff_base_s: float = 0.5,
        retry_after_cap_s: float = 60.0,
        rate_limit_wait_s: float = 900.0,
        max_rps: float | None = None,
        paced: bool = True,
        page_size: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        page_size = self.MAX_PAGE_SIZE if page_size is None else page_size
        if not 1 <= page_size <= self.MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{self.MAX_PAGE_SIZE}, got {page_size}")
        self.base_url = base_url
        self.page_size = page_size
        self._session = ApiSession(
            api_name=self.API_NAME,
            base_url=base_url,
            auth_headers=self.auth_headers(token),
            secret=token,
            token_setting=self.TOKEN_SETTING,
            timeout_s=timeout_s,
            policy=RetryPolicy(
                max_attempts=max_attempts,
                backoff_base_s=backoff_base_s,
                retry_after_cap_s=retry_after_cap_s,
                rate_limit_wait_s=rate_limit_wait_s,
                sleep=sleep,
            ),
            pacer=pacer_for(self.API_NAME, base_url, max_rps) if paced else None,
            transport=transport,
        )

    @staticmethod
    def auth_headers(token: str) -> Mapping[str, str]:
        """The headers that carry ``token`` on every request."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._session.requests_made
