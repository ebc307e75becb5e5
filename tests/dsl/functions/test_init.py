"""The registry's public surface and how the tables are assembled."""

import pytest

import dsl.functions as functions
from dsl.functions import GLOBALS, METHODS, Function, _tables
from dsl.functions.registry import function, method


def test_public_names_are_listed_sorted_and_present():
    assert functions.__all__ == sorted(functions.__all__)
    assert all(hasattr(functions, name) for name in functions.__all__)


def test_tables_are_read_only():
    with pytest.raises(TypeError):
        GLOBALS["size"] = GLOBALS["size"]  # type: ignore[index]


def test_a_name_registered_twice_is_refused():
    size = function("size", len, 1)
    with pytest.raises(RuntimeError, match="registered twice"):
        _tables([size, function("size", len, 1)])
    globals_, methods = _tables([size, method("size", len, 0)])
    assert globals_["size"].method is False and methods["size"].method is True


def test_functions_offered_in_both_styles_share_one_impl():
    for name in ("size", "matches"):
        assert GLOBALS[name].impl is METHODS[name].impl


def test_every_documented_function_is_registered():
    expected_globals = {
        "size", "matches", "dyn", "type", "int", "uint", "double", "string", "bytes", "bool",
        "timestamp", "duration", "strings.quote", "get", "round", "optional.of", "optional.none",
        "optional.ofNonZeroValue", "sets.contains", "sets.intersects", "sets.equivalent", "lists.range",
        "math.greatest", "math.least", "math.ceil", "math.floor", "math.round", "math.trunc",
        "math.abs", "math.sign", "math.isNaN", "math.isInf", "math.isFinite", "math.bitAnd",
        "math.bitOr", "math.bitXor", "math.bitNot", "math.bitShiftLeft", "math.bitShiftRight",
        "base64.encode", "base64.decode",
    }  # fmt: skip
    expected_methods = {
        "size", "contains", "startsWith", "endsWith", "matches", "charAt", "indexOf", "lastIndexOf",
        "lowerAscii", "upperAscii", "replace", "split", "substring", "trim", "join", "reverse",
        "format", "getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
        "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds", "hasValue",
        "value", "orValue", "or", "slice", "flatten", "distinct", "sort", "first", "last",
    }  # fmt: skip
    assert set(GLOBALS) == expected_globals
    assert set(METHODS) == expected_methods
    assert all(isinstance(fn, Function) for fn in (*GLOBALS.values(), *METHODS.values()))
