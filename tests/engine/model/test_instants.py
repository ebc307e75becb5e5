"""Moments read as RFC 3339 text with an offset, even where conversion is lenient."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from msgspec import UNSET, UnsetType

from engine.model.instants import Instant, instant, instant_fields, read_instants


class Window(msgspec.Struct, kw_only=True):
    starts_at: Instant | None = None
    ends_at: Instant | UnsetType = msgspec.field(default=UNSET, name="endsAt")
    label: str = ""

    def __post_init__(self) -> None:
        read_instants(self)


def test_text_with_an_offset_becomes_an_aware_datetime():
    window = msgspec.convert({"starts_at": "2026-01-01T01:00:00+01:00"}, Window, strict=False)
    assert window.starts_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert window.ends_at is UNSET


@pytest.mark.parametrize("value", [1700000000, 1700000000.5, "1700000000", "2026-01-01T00:00:00", "2026-01-01"])
def test_a_number_or_text_without_an_offset_is_refused_even_by_lenient_conversion(value):
    with pytest.raises(msgspec.ValidationError, match="starts_at"):
        msgspec.convert({"starts_at": value}, Window, strict=False)


def test_a_date_that_does_not_exist_names_the_field_by_its_wire_name():
    with pytest.raises(msgspec.ValidationError, match="endsAt must be an RFC 3339 timestamp"):
        msgspec.convert({"endsAt": "2026-13-01T00:00:00Z"}, Window)


def test_only_instant_fields_are_read_and_structs_built_in_code_keep_their_datetimes():
    assert instant_fields(Window) == (("starts_at", "starts_at"), ("ends_at", "endsAt"))
    moment = datetime(2026, 5, 1, tzinfo=UTC)
    assert Window(starts_at=moment).starts_at is moment
    assert instant(None, "x") is None
    with pytest.raises(ValueError, match="x must be"):
        instant(datetime(2026, 5, 1), "x")  # naive
