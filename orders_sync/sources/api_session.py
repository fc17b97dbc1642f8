"""One pooled HTTP session to one CRM API: timeouts, retries, status → exception, JSON.

Both clients talk through an :class:`ApiSession`; it owns the single ``httpx.Client``
(and so the connection pool) of its client, applies the retry policy, maps the
contract's error statuses onto :mod:`orders_sync.sources.errors`, and keeps the token
out of every message it raises.
"""

from __future__ import annotations

import functools
import json
import logging
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from orders_sync import __version__
from orders_sync.exceptions import ConfigurationError
from orders_sync.sources.errors import (
    PageContext,
    SourceAuthError,
    SourceBadRequestError,
    SourceDataError,
    SourceError,
    SourceNotFoundError,
)
from orders_sync.sources.retry import Pacing, RetryPolicy, send_with_retry

logger = logging.getLogger(__name__)

_MAX_ERROR_TEXT = 300


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's one TLS context (httpx's defaults: certifi's CAs, ``SSL_CERT_FILE``).

    Building one loads the CA bundle: ~35 ms of CPU under the GIL, which every
    ``httpx.Client`` pays unless given a context — once per store + pipeline job before this
    (``benchmarks/parallel.py``). A context is safe to share between clients and threads.
    """
    return httpx.create_ssl_context()


class ApiSession:
    """A connection-pooled, retrying JSON GETter for one API and one credential.

    Args:
        api_name: the source's sync group, used in messages.
        base_url: the API's base URL (``http://`` or ``https://``).
        auth_headers: headers carrying the credential on every request.
        secret: the credential itself, redacted from every message.
        token_setting: the variable a person fixes on a 401, ``<PREFIX>_TOKEN``.
        timeout_s: connect/read/write/pool timeout of every request.
        policy: the retry policy.
        pacer: paces the requests to this API (:mod:`orders_sync.sources.pacing`).
        transport: an ``httpx`` transport to use instead of the network (tests).

    Raises:
        ConfigurationError: the base URL is not an http(s) URL, or the token is empty.
    """

    def __init__(
        self,
        *,
        api_name: str,
        base_url: str,
        auth_headers: Mapping[str, str],
        secret: str,
        token_setting: str,
        timeout_s: float,
        policy: RetryPolicy,
        pacer: Pacing | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"The {api_name} API base URL must start with http:// or https://, "
                f"got {base_url!r}."
            )
        if not secret or not secret.strip():
            raise ConfigurationError(f"{token_setting} must not be empty.")
        self.api_name = api_name
        self._secret = secret
        self._token_setting = token_setting
        self._policy = policy
        self._pacer = pacer
        self._lock = threading.Lock()
        self._requests_made = 0
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={
                **auth_headers,
                "Accept": "application/json",
                "User-Agent": f"orders_sync/{__version__}",
            },
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
            verify=shared_ssl_context(),
        )

    @property
    def requests_made(self) -> int:
        """HTTP attempts sent so far, retries included."""
        return self._requests_made

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def _send(self, path: str, params: Mapping[str, str]) -> httpx.Response:
        with self._lock:
            self._requests_made += 1
        return self._client.get(path, params=dict(params))

    def get_json(
        self, path: str, params: Mapping[str, str], context: PageContext
    ) -> dict[str, Any]:
        """GET ``path`` with ``params`` and return its JSON object body.

        Raises:
            SourceDataError: a 2xx whose body is not a JSON object; and every error of
                :meth:`get_content`.
        """
        return self.json_object(self.get_content(path, params, context), context)

    def get_content(self, path: str, params: Mapping[str, str], context: PageContext) -> bytes:
        """GET ``path`` with ``params`` and return the raw body of a 2xx answer.

        Raises:
            SourceBadRequestError: HTTP 400.
            SourceAuthError: HTTP 401 or 403.
            SourceNotFoundError: HTTP 404.
            SourceRetriesExhaustedError: 429/5xx/timeouts outlasted every attempt.
            SourceError: any other unexpected status.
        """
        with self.redacting():
            response = send_with_retry(
                lambda: self._send(path, params), self._policy, context=context, pacer=self._pacer
            )
            logger.debug(
                "%s %s -> HTTP %d", self.api_name, context.describe(), response.status_code
            )
            status = response.status_code
            if 200 <= status < 300:
                return response.content
            detail = self._error_detail(response)
            if status == 400:
                raise SourceBadRequestError(
                    f"the {self.api_name} API rejected the request (HTTP 400): {detail}",
                    context=context,
                )
            if status in (401, 403):
                raise SourceAuthError(
                    f"{self.api_name} API authentication failed (HTTP {status}): the "
                    f"credentials were refused; check {self._token_setting}",
                    context=context,
                )
            if status == 404:
                raise SourceNotFoundError(
                    f"the {self.api_name} API does not know store {context.store_code!r} "
                    f"(HTTP 404; or the base URL is wrong): {detail}",
                    context=context,
                )
            raise SourceError(
                f"the {self.api_name} API answered with unexpected HTTP {status}: {detail}",
                context=context,
            )

    @contextmanager
    def redacting(self) -> Iterator[None]:
        """Re-raise any :class:`SourceError` of the block with the token blanked out."""
        try:
            yield
        except SourceError as exc:
            clean = exc.redacted(self._secret)
            if clean is exc:
                raise
            raise clean from exc.__cause__

    @staticmethod
    def json_object(content: bytes, context: PageContext) -> dict[str, Any]:
        """``content`` as a JSON object.

        Raises:
            SourceDataError: it is not valid JSON, or not an object.
        """
        try:
            body = json.loads(content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise SourceDataError(
                f"source data error: the response body is not valid JSON ({exc})",
                context=context,
            ) from None
        if not isinstance(body, dict):
            raise SourceDataError(
                f"source data error: the response body must be a JSON object, "
                f"got {type(body).__name__}",
                context=context,
            )
        return body

    @staticmethod
    def _error_detail(response: httpx.Response) -> str:
        text = ""
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            text = response.text
        else:
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                text = body["error"]
            else:
                text = response.text
        text = " ".join(text.split())
        if len(text) > _MAX_ERROR_TEXT:
            text = text[: _MAX_ERROR_TEXT - 3] + "..."
        return text or "(no message)"
