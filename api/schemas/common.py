"""Field types shared by the request and response Structs of every resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from engine.model.instants import read_instants

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
Description = Annotated[str, msgspec.Meta(max_length=1000)]
OpDescription = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
# An RFC 3339 timestamp with its offset: a naive time is ambiguous for an event's `now`.
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
# A positive decimal string such as "100.00" (D19: amounts are strings, never floats).
AmountText = Annotated[str, msgspec.Meta(pattern=r"^[0-9]+(\.[0-9]+)?$", max_length=60)]
SignedAmountText = Annotated[str, msgspec.Meta(pattern=r"^-?[0-9]+(\.[0-9]+)?$", max_length=60)]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are a 400, not silently dropped; a moment is an
    `Instant` (RFC 3339 text with an offset: a Unix number is a 400 naming the field)."""

    def __post_init__(self) -> None:
        read_instants(self)


class Response(msgspec.Struct, kw_only=True):
    """Base of response bodies."""


TIMESTAMP_HELP = "RFC 3339 timestamp with offset, e.g. 2026-01-01T00:00:00Z"


def parse_timestamp(field: str, value: str | None) -> datetime | None:
    """A query parameter as an aware datetime; 400 for anything but RFC 3339 with an offset.

    Query values are parsed here rather than by the framework, which would also take a bare number
    such as `0.5` for a Unix time. Example: `parse_timestamp("from", "2026-01-01T00:00:00Z")`.
    """
    from api.errors import field_error

    if value is None:
        return None
    try:
        moment = msgspec.json.decode(msgspec.json.encode(value), type=Timestamp)
    except msgspec.ValidationError as exc:
        raise field_error(field, f"{field} must be an RFC 3339 timestamp with an offset") from exc
    return moment
