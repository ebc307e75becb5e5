"""The value model: CEL type names, type values and heterogeneous equality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dsl.values import CelType, Optional, UInt, cel_equals, map_lookup, type_name


def test_type_names() -> None:
    assert [type_name(v) for v in (True, 1, UInt(1), 1.0, "", b"", None, [], {})] == [
        "bool", "int", "uint", "double", "string", "bytes", "null_type", "list", "map"]  # fmt: skip
    assert type_name(datetime(2026, 1, 1, tzinfo=UTC)) == "google.protobuf.Timestamp"
    assert type_name(timedelta(0)) == "google.protobuf.Duration"
    assert type_name(CelType("int")) == "type" and type_name(Optional.none()) == "optional_type"


def test_type_values_compare_by_name() -> None:
    assert CelType("int") == CelType("int") and CelType("int") != CelType("uint")
    assert len({CelType("int"), CelType("int")}) == 1
    assert cel_equals(CelType("int"), CelType("int"))


def test_heterogeneous_equality() -> None:
    assert cel_equals(1, 1.0) and cel_equals(UInt(1), 1) and not cel_equals(True, 1)
    assert cel_equals([1, {"a": 2.0}], [1.0, {"a": 2}]) and not cel_equals([1], [1, 2])
    assert not cel_equals(float("nan"), float("nan"))
    assert cel_equals(Optional.of(1), Optional.of(1.0)) and not cel_equals(Optional.none(), Optional.of(1))


def test_map_lookup_across_numeric_kinds() -> None:
    assert map_lookup({1: "a"}, 1.0) == (True, "a") and map_lookup({1: "a"}, UInt(1)) == (True, "a")
    assert map_lookup({1: "a"}, True) == (False, None) and map_lookup({"a": 1}, []) == (False, None)
