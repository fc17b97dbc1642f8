"""Exceptions raised by the TD and UC clients, one class per failure class of the contract.

Every error carries the request it failed on (:class:`PageContext`: store, endpoint, date
range, page) and names it in its message, so a failed window can be logged in one line.
Messages never contain an API token: the clients redact it before raising.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any, Self, cast

from orders_sync.exceptions import OrdersSyncError


@dataclasses.dataclass(frozen=True, slots=True)
class PageContext:
    """Which source request an error or a parsed row belongs to.

    Attributes:
        store_code: store the request was for.
        endpoint: API path, e.g. ``/reports/order-report``.
        from_date: first day of the requested span.
        to_date: last day of the requested span (inclusive).
        page: 1-based ordinal of the response page within the span.
    """

    store_code: str
    endpoint: str
    from_date: dt.date
    to_date: dt.date
    page: int = 1

    def describe(self) -> str:
        """One-line human description, e.g. ``store A001, /reports/order-report, ...``."""
        return (
            f"store {self.store_code}, {self.endpoint}, "
            f"{self.from_date.isoformat()}..{self.to_date.isoformat()}, page {self.page}"
        )


class SourceError(OrdersSyncError):
    """A CRM request failed; base of every error of :mod:`orders_sync.sources`.

    Args:
        reason: what went wrong, one sentence without the request context.
        context: the request it went wrong on, appended to the message.

    Attributes:
        reason: the ``reason`` argument.
        context: the ``context`` argument (``None`` only for errors outside a request).
    """

    def __init__(self, reason: str, *, context: PageContext | None = None) -> None:
        self.reason = reason
        self.context = context
        message = f"{reason} [{context.describe()}]" if context is not None else reason
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the context across pickling (Airflow and multiprocessing pickle exceptions).
        return (_rebuild, (type(self), self.reason, self.context, self._extra_state()))

    def _extra_state(self) -> dict[str, Any]:
        return {}

    @property
    def store_code(self) -> str | None:
        """Store of the failed request."""
        return self.context.store_code if self.context else None

    @property
    def endpoint(self) -> str | None:
        """API path of the failed request."""
        return self.context.endpoint if self.context else None

    @property
    def from_date(self) -> dt.date | None:
        """First day of the failed request's span."""
        return self.context.from_date if self.context else None

    @property
    def to_date(self) -> dt.date | None:
        """Last day (inclusive) of the failed request's span."""
        return self.context.to_date if self.context else None

    @property
    def page(self) -> int | None:
        """1-based page ordinal of the failed request."""
        return self.context.page if self.context else None

    def redacted(self, secret: str) -> Self:
        """This error with every occurrence of ``secret`` in its reason replaced by ``***``.

        Args:
            secret: a token that must never appear in a message.
        """
        reason = blank_secret(self.reason, secret)
        if reason == self.reason:
            return self
        clone = cast(Self, _rebuild(type(self), reason, self.context, {}))
        for key, value in self._extra_state().items():
            setattr(clone, key, value)
        clone.__cause__ = self.__cause__
        return clone


_WHOLE_WORD_BELOW = 8


def blank_secret(text: str, secret: str) -> str:
    """``text`` with ``secret`` replaced by ``***``.

    A short secret is replaced only where it stands as a whole word: blanking a one-letter
    token inside every word would destroy the message (``"authentication"``) and reveal
    the token's letters by their absence.
    """
    if not secret:
        return text
    if len(secret) >= _WHOLE_WORD_BELOW:
        return text.replace(secret, "***")
    return re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)


def _rebuild(
    cls: type[SourceError],
    reason: str,
    context: PageContext | None,
    extra: dict[str, Any],
) -> SourceError:
    error = cls.__new__(cls)
    SourceError.__init__(error, reason, context=context)
    for key, value in extra.items():
        setattr(error, key, value)
    return error


class SourceAuthError(SourceError):
    """HTTP 401 (or 403): the API refused the credentials; never retried."""


class SourceNotFoundError(SourceError):
    """HTTP 404: the API does not know the store code (or the base URL is wrong)."""


class SourceBadRequestError(SourceError):
    """HTTP 400: the API rejected the parameters (date format, span, page size)."""


class SourceDataError(SourceError):
    """A 200 response whose body does not match the contract's shapes.

    Attributes:
        field: the offending field (``"<body>"`` when the body itself is unusable).
        row: 0-based index of the offending row within the page, if any.
    """

    def __init__(
        self,
        reason: str,
        *,
        context: PageContext | None = None,
        field: str = "<body>",
        row: int | None = None,
    ) -> None:
        super().__init__(reason, context=context)
        self.field = field
        self.row = row

    def _extra_state(self) -> dict[str, Any]:
        return {"field": self.field, "row": self.row}


class SourceRetriesExhaustedError(SourceError):
    """A transient failure (429, 5xx, timeout, connection error) outlasted every attempt.

    Attributes:
        attempts: how many attempts were made.
        last_status: HTTP status of the last attempt, ``None`` for a transport error.
    """

    def __init__(
        self,
        reason: str,
        *,
        context: PageContext | None = None,
        attempts: int = 0,
        last_status: int | None = None,
    ) -> None:
        super().__init__(reason, context=context)
        self.attempts = attempts
        self.last_status = last_status

    def _extra_state(self) -> dict[str, Any]:
        return {"attempts": self.attempts, "last_status": self.last_status}
