"""A source row is declared once — a frozen dataclass whose annotations are the contract's
field types — and everything else is derived from that declaration:

- the strict JSON reader (:func:`row_from_json`, errors naming the field, the row and the
  page) and the contract's JSON form (:func:`row_to_json`);
- the msgspec wire struct of the fast page decoder (:func:`wire_struct`) and the conversion
  from it (:func:`from_wire`);
- the data table's columns and their types (:func:`orders_sync.sources.spec.data_table`).

The field kinds, by annotation: ``str`` (required, not blank), ``str | None``,
``Annotated[str, OneOf(values)]`` (one of them), ``int | None``, ``Decimal`` (money: a
decimal *string* on the wire), ``date``, ``time`` (``HH:MM:SS[.fraction]``), ``datetime``
(RFC 3339 with an offset).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

import msgspec

from orders_sync.sources.errors import PageContext
from orders_sync.sources.json_fields import FieldReader, row_reader


class Kind(enum.Enum):
    """How a field is read, written and stored."""

    TEXT = "text"
    OPTIONAL_TEXT = "optional_text"
    CHOICE = "choice"
    OPTIONAL_INT = "optional_int"
    MONEY = "money"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"


PG_TYPES = {
    Kind.TEXT: "text",
    Kind.OPTIONAL_TEXT: "text",
    Kind.CHOICE: "text",
    Kind.OPTIONAL_INT: "int4",
    Kind.MONEY: "numeric",
    Kind.DATE: "date",
    Kind.TIME: "time",
    Kind.TIMESTAMP: "timestamptz",
}
"""The PostgreSQL type each kind is ``COPY``-ed as."""

Text = str
"""A required string that is not blank (checked per page by the wire decoder)."""
Money = str
"""A decimal string such as ``"1234.50"``: never a JSON number, no exponent."""
Clock = str
"""``HH:MM:SS`` with up to 9 fraction digits, no offset."""
Timestamp = Annotated[dt.datetime, msgspec.Meta(tz=True)]


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """One field of a row declaration.

    Attributes:
        name: the field (and column) name, as the contract spells it.
        kind: how it is read and written.
        choices: the allowed values of a ``CHOICE`` field.
    """

    name: str
    kind: Kind
    choices: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class OneOf:
    """``Annotated[str, OneOf(values)]``: a required string out of ``values``."""

    values: frozenset[str]


def _kind(hint: Any) -> tuple[Kind, tuple[str, ...]]:
    if typing.get_origin(hint) is Annotated:
        choices = [m for m in hint.__metadata__ if isinstance(m, OneOf)]
        if choices and typing.get_args(hint)[0] is str:
            return Kind.CHOICE, tuple(sorted(choices[0].values))
        hint = typing.get_args(hint)[0]
    if isinstance(hint, types.UnionType):
        args = set(typing.get_args(hint)) - {type(None)}
        if args == {str}:
            return Kind.OPTIONAL_TEXT, ()
        if args == {int}:
            return Kind.OPTIONAL_INT, ()
    simple = {
        str: Kind.TEXT,
        Decimal: Kind.MONEY,
        dt.date: Kind.DATE,
        dt.time: Kind.TIME,
        dt.datetime: Kind.TIMESTAMP,
    }
    if hint in simple:
        return simple[hint], ()
    raise TypeError(f"a source row field cannot be {hint!r}")


@functools.cache
def row_fields(row: Any) -> tuple[Field, ...]:
    """The fields of a row declaration, in order.

    Raises:
        TypeError: a field's annotation is none of the kinds above.
    """
    hints = typing.get_type_hints(row, include_extras=True)
    return tuple(Field(f.name, *_kind(hints[f.name])) for f in dataclasses.fields(row))


_READ = {
    Kind.TEXT: FieldReader.text,
    Kind.OPTIONAL_TEXT: FieldReader.optional_text,
    Kind.OPTIONAL_INT: FieldReader.optional_int,
    Kind.MONEY: FieldReader.money,
    Kind.DATE: FieldReader.date,
    Kind.TIME: FieldReader.time,
    Kind.TIMESTAMP: FieldReader.timestamp,
}


def row_from_json(
    row: Any, obj: object, *, page_ctx: PageContext | None = None, index: int | None = None
) -> Any:
    """Validate one JSON row strictly into ``row`` (extra keys are ignored).

    Raises:
        SourceDataError: a field is missing, null where required, or malformed — naming the
            field, the row and the page.
    """
    reader = row_reader(obj, context=page_ctx, index=index)
    values: dict[str, Any] = {}
    for field in row_fields(row):
        if field.kind is Kind.CHOICE:
            values[field.name] = reader.choice(field.name, field.choices)
        else:
            values[field.name] = _READ[field.kind](reader, field.name)
    return row(**values)


def _wire_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind is Kind.MONEY:
        return format(value, "f")
    if kind in (Kind.DATE, Kind.TIME, Kind.TIMESTAMP):
        return value.isoformat()
    return value


def row_to_json(row: Any) -> dict[str, Any]:
    """The contract's JSON form of a row."""
    return {
        field.name: _wire_value(field.kind, getattr(row, field.name))
        for field in row_fields(row.__class__)
    }


_WIRE_TYPES: Mapping[Kind, Any] = {
    Kind.TEXT: Text,
    Kind.OPTIONAL_TEXT: str | None,
    Kind.OPTIONAL_INT: int | None,
    Kind.MONEY: Money,
    Kind.DATE: dt.date,
    Kind.TIME: Clock,
    Kind.TIMESTAMP: Timestamp,
}


@functools.cache
def wire_struct(row: Any) -> type[msgspec.Struct]:
    """The msgspec struct of ``row`` on the wire: the contract's shape (required keys, strict
    types, RFC 3339 dates and timestamps with an offset, the choices), strings where the
    row has money and clock times (their formats are checked per page); unknown keys are
    ignored, optional ones may be absent."""
    specs: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for field in row_fields(row):
        if field.kind is Kind.CHOICE:
            specs.append((field.name, Literal[field.choices]))
        elif field.kind in (Kind.OPTIONAL_TEXT, Kind.OPTIONAL_INT):
            specs.append((field.name, _WIRE_TYPES[field.kind], None))
        else:
            specs.append((field.name, _WIRE_TYPES[field.kind]))
    return msgspec.defstruct(f"Wire{row.__name__}", specs, kw_only=True)


def fields_of_kind(row: Any, *kinds: Kind) -> tuple[str, ...]:
    """The names of ``row``'s fields of these kinds."""
    return tuple(field.name for field in row_fields(row) if field.kind in kinds)


def clock(text: str) -> dt.time:
    """A wire clock (already checked: ``HH:MM:SS[.fraction]``) as a ``time``, its fraction
    truncated to microseconds as the strict reader does."""
    if len(text) == 8:
        return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]))
    fraction = text[9:15].ljust(6, "0")
    return dt.time(int(text[:2]), int(text[3:5]), int(text[6:8]), int(fraction))


_FROM_WIRE: Mapping[Kind, Callable[[str], Any]] = {Kind.MONEY: Decimal, Kind.TIME: clock}


def from_wire(row: Any, item: msgspec.Struct) -> Any:
    """The row of a decoded wire struct (money and clocks converted).

    Raises:
        ValueError: a value does not convert.
    """
    values: dict[str, Any] = {}
    for field in row_fields(row):
        value = getattr(item, field.name)
        convert = _FROM_WIRE.get(field.kind)
        values[field.name] = convert(value) if convert is not None else value
    return row(**values)


class SourceRow:
    """Mixin of the row declarations: :meth:`from_json` and :meth:`to_json` by their fields."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def from_json(
        cls, obj: object, *, page_ctx: PageContext | None = None, row: int | None = None
    ) -> Self:
        """Validate one JSON row (:func:`row_from_json`).

        Args:
            obj: the decoded JSON object.
            page_ctx: the request it came from, named in errors.
            row: its 0-based index in the page, named in errors.

        Raises:
            SourceDataError: a field is missing, null where required, or malformed.
        """
        built: Self = row_from_json(cls, obj, page_ctx=page_ctx, index=row)
        return built

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON form of this row."""
        return row_to_json(self)
