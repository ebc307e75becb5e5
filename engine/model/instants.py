"""Moments in request bodies and bundle files: RFC 3339 text with an offset, never a number.

The HTTP framework converts request bodies leniently, so a field typed `datetime` would also take
a Unix number (`1700000000`) and convert it. A field typed `Instant` is read as text of the RFC
3339 shape (anything else, a number included, is a 400 naming the field) and parsed after, by the
`__post_init__` of the Struct bases that declare `read_instants` (the bundle's, the automations',
the rewards' and the API's request bodies); type checkers see a `datetime`.

    class Window(msgspec.Struct):
        starts_at: Instant | None = None

        def __post_init__(self) -> None:
            read_instants(self)

    msgspec.convert({"starts_at": "2026-01-01T00:00:00Z"}, Window, strict=False).starts_at
    # datetime(2026, 1, 1, tzinfo=UTC); {"starts_at": 1700000000} is a ValidationError
"""

from __future__ import annotations

import functools
import typing
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

RFC3339 = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
InstantText = Annotated[str, msgspec.Meta(pattern=RFC3339, max_length=64, extra_json_schema={"format": "date-time"})]
_AWARE = Annotated[datetime, msgspec.Meta(tz=True)]

if TYPE_CHECKING:
    Instant = datetime
else:
    Instant = InstantText


def instant(value: object, field: str) -> datetime | None:
    """`value` (RFC 3339 text with an offset, an aware datetime or None) as a datetime; a
    `ValueError` naming `field` otherwise (a date that does not exist, such as month 13)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        try:
            return msgspec.convert(value, _AWARE)
        except msgspec.ValidationError:
            pass
    raise ValueError(f"{field} must be an RFC 3339 timestamp with an offset, e.g. 2026-01-01T00:00:00Z")


def read_instants(struct: msgspec.Struct) -> None:
    """Parse every `Instant` field of `struct` that holds text (Structs built in code may hold
    datetimes already; unset fields stay unset)."""
    for name, wire_name in instant_fields(type(struct)):
        value = getattr(struct, name)
        if isinstance(value, str):
            setattr(struct, name, instant(value, wire_name))


@functools.cache
def instant_fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, str], ...]:
    """(attribute, name on the wire) of each field of `cls` declared as an `Instant`."""
    hints = typing.get_type_hints(cls, include_extras=True)
    names = dict(zip(cls.__struct_fields__, cls.__struct_encode_fields__, strict=True))
    return tuple((name, names[name]) for name in cls.__struct_fields__ if _holds_instant(hints.get(name)))


def _holds_instant(annotation: Any) -> bool:
    if annotation == InstantText:
        return True
    return typing.get_origin(annotation) is not Annotated and any(
        _holds_instant(arg) for arg in typing.get_args(annotation)
    )
