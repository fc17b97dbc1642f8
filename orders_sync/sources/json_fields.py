"""Strict readers of the contract's JSON scalars: one function per field type.

Each reader takes the row, the field name and a :class:`FieldReader` holding the request
context, and either returns the typed value or raises :class:`SourceDataError` naming
the field, the row and the page. Money must be a decimal *string*; dates are exactly
``YYYY-MM-DD``; timestamps are RFC 3339 with an offset.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

from orders_sync.sources.errors import PageContext, SourceDataError

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
_TIMESTAMP_RE = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)
_DECIMAL_RE = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_SHOWN = 40


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


@dataclasses.dataclass(frozen=True, slots=True)
class FieldReader:
    """Reads typed fields of one JSON row of one page.

    Attributes:
        row: the JSON object (already checked to be a mapping).
        context: request the row came from, for error messages.
        index: 0-based position of the row in the page.
    """

    row: Mapping[str, Any]
    context: PageContext | None
    index: int | None = None

    def fail(self, field: str, problem: str) -> NoReturn:
        """Raise the :class:`SourceDataError` for ``field``."""
        where = f" of row {self.index}" if self.index is not None else ""
        raise SourceDataError(
            f"source data error: field {field!r}{where} {problem}",
            context=self.context,
            field=field,
            row=self.index,
        )

    def _raw(self, field: str, *, optional: bool) -> Any:
        if field not in self.row:
            if optional:
                return None
            self.fail(field, "is missing")
        value = self.row[field]
        if value is None and not optional:
            self.fail(field, "is null")
        return value

    def text(self, field: str) -> str:
        """A required, non-empty string."""
        value = self._raw(field, optional=False)
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {_show(value)}")
        if not value.strip():
            self.fail(field, "must not be empty")
        return value

    def optional_text(self, field: str) -> str | None:
        """A string or null (an absent key counts as null)."""
        value = self._raw(field, optional=True)
        if value is not None and not isinstance(value, str):
            self.fail(field, f"must be a string or null, got {_show(value)}")
        return value

    def choice(self, field: str, allowed: Collection[str]) -> str:
        """A required string out of ``allowed``."""
        value = self.text(field)
        if value not in allowed:
            self.fail(field, f"must be one of {sorted(allowed)}, got {_show(value)}")
        return value

    def optional_int(self, field: str) -> int | None:
        """A JSON integer or null (booleans and floats are refused)."""
        value = self._raw(field, optional=True)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, f"must be an integer or null, got {_show(value)}")
        return value

    def money(self, field: str) -> Decimal:
        """A required decimal string such as ``"1234.50"`` (never a JSON number)."""
        value = self._raw(field, optional=False)
        if not isinstance(value, str) or not _DECIMAL_RE.fullmatch(value):
            self.fail(field, f"must be a decimal string like '1234.50', got {_show(value)}")
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern already excludes this
            self.fail(field, f"must be a decimal string, got {_show(value)}")

    def date(self, field: str) -> dt.date:
        """A required ``YYYY-MM-DD`` date."""
        value = self._raw(field, optional=False)
        if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
            self.fail(field, f"must be a date 'YYYY-MM-DD', got {_show(value)}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(field, f"is not a valid calendar date: {_show(value)}")

    def time(self, field: str) -> dt.time:
        """A required ``HH:MM:SS`` (optionally fractional) time of day."""
        value = self._raw(field, optional=False)
        match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.fail(field, f"must be a time 'HH:MM:SS', got {_show(value)}")
        hour, minute, second, fraction = match.groups()
        try:
            return dt.time(int(hour), int(minute), int(second), _micros(fraction))
        except ValueError:
            self.fail(field, f"is not a valid time of day: {_show(value)}")

    def timestamp(self, field: str) -> dt.datetime:
        """A required RFC 3339 timestamp with an offset; returned timezone-aware."""
        value = self._raw(field, optional=False)
        match = _TIMESTAMP_RE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            self.fail(
                field,
                f"must be an RFC 3339 timestamp with an offset, got {_show(value)}",
            )
        day, clock, fraction, offset = match.groups()
        offset = "+00:00" if offset in ("Z", "z") else offset
        micros = f".{_micros(fraction):06d}" if fraction else ""
        try:
            return dt.datetime.fromisoformat(f"{day}T{clock}{micros}{offset}")
        except ValueError:
            self.fail(field, f"is not a valid timestamp: {_show(value)}")


def _micros(fraction: str | None) -> int:
    if not fraction:
        return 0
    return int(fraction[:6].ljust(6, "0"))


def row_reader(obj: object, *, context: PageContext | None, index: int | None) -> FieldReader:
    """A :class:`FieldReader` over ``obj``, which must be a JSON object.

    Raises:
        SourceDataError: ``obj`` is not a JSON object.
    """
    if not isinstance(obj, Mapping):
        where = f"row {index}" if index is not None else "row"
        raise SourceDataError(
            f"source data error: {where} must be a JSON object, got {_show(obj)}",
            context=context,
            field="<row>",
            row=index,
        )
    return FieldReader(obj, context, index)
