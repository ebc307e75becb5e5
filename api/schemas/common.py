"""Field types shared by the request and response Structs of every resource."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

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
    """Base of request bodies: unknown fields are a 400, not silently dropped."""


class Response(msgspec.Struct, kw_only=True):
    """Base of response bodies."""
