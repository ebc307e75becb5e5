"""Cursor pagination (D25): `{"data": [...], "pagination": {"has_more", "next_cursor"}}`.

Pages are keyset pages: a cursor holds the sort key and id of the last item shown, and the next
page starts strictly after it. Rows inserted or changed meanwhile never shift a page the way
`OFFSET` would, so walking the pages visits every row that existed when the walk began exactly
once. A cursor also names the listing and ordering it is made for (A52); using it with another
is a 400 `bad_request` rather than a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
import peewee
from litestar.params import QueryParameter

from api.errors import field_error

T = TypeVar("T")
M = TypeVar("M", bound=peewee.Model)

LIMIT_DEFAULT, LIMIT_MAX = 50, 200
# Query parameters of every list endpoint.
LimitParam = Annotated[int, QueryParameter(ge=1, le=LIMIT_MAX, description="Page size (1-200)")]
# An id filter: ids are UUIDs (engine.store.db.new_id), so anything else is a 400, not an empty list.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
IdFilter = Annotated[str | None, QueryParameter(pattern=UUID_PATTERN, description="A UUID")]
SortDirParam = Annotated[Literal["asc", "desc"], QueryParameter(description="Sort direction")]
CursorParam = Annotated[str | None, QueryParameter(description="`next_cursor` of the previous page")]


class PageInfo(msgspec.Struct, kw_only=True):
    has_more: bool
    next_cursor: str | None = None


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list. Example: `{"data": [...], "pagination": {"has_more": false, "next_cursor": null}}`."""

    data: list[T]
    pagination: PageInfo


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"dt"}:
        return datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and set(value) == {"dec"}:
        return Decimal(value["dec"])
    return value


def encode_cursor(ordering: str, values: Sequence[Any]) -> str:
    """An opaque cursor for the item whose sort values are `values`.

    Example: `encode_cursor("created_at:desc", [created_at, "evt_1"])` -> `"eyJvIjoi..."`.
    """
    raw = msgspec.json.encode({"o": ordering, "v": [_encode_value(v) for v in values]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: str) -> list[Any]:
    """The sort values a cursor holds; 400 `bad_request` for a malformed or foreign cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = msgspec.json.decode(raw)
        values = [_decode_value(v) for v in payload["v"]]
        made_for = payload["o"]
    except (binascii.Error, msgspec.DecodeError, KeyError, TypeError, ValueError) as exc:
        raise field_error("cursor", "malformed cursor") from exc
    if made_for != ordering or not isinstance(values, list):
        raise field_error("cursor", "cursor belongs to another listing or ordering")
    return values


def _after(fields: Sequence[peewee.Field], values: Sequence[Any], descending: bool) -> peewee.Expression:
    """Rows strictly after `values` in the (fields...) ordering: lexicographic keyset condition."""
    head, *rest = fields
    beyond = head < values[0] if descending else head > values[0]
    if not rest:
        return beyond
    return beyond | ((head == values[0]) & _after(rest, values[1:], descending))


def paginate(
    query: peewee.ModelSelect[M],
    *,
    keys: Sequence[peewee.Field],
    descending: bool,
    limit: int,
    cursor: str | None,
    listing: str,
    render: Callable[[M], T],
) -> Page[T]:
    """Run `query` as one keyset page ordered by `keys` (the last key must be unique, e.g. the id).

    Example: `paginate(EventRecord.select().where(...), keys=[EventRecord.created_at, EventRecord.id],
    descending=True, limit=50, cursor=None, listing="events", render=event_out)`.
    """
    ordering = f"{listing}:{','.join(f.name for f in keys)}:{'desc' if descending else 'asc'}"
    if cursor:
        values = decode_cursor(cursor, ordering)
        if len(values) != len(keys):
            raise field_error("cursor", "cursor belongs to another listing or ordering")
        query = query.where(_after(keys, values, descending))
    order = [k.desc() if descending else k.asc() for k in keys]
    rows = list(query.order_by(*order).limit(limit + 1))
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]
        next_cursor = encode_cursor(ordering, [last.__data__.get(k.name) for k in keys])
    return Page(data=[render(r) for r in rows], pagination=PageInfo(has_more=has_more, next_cursor=next_cursor))
