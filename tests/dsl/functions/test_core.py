import pytest

from dsl.errors import DslEvalError
from dsl.functions import GLOBALS, METHODS, Function
from dsl.values import UInt
from tests.dsl.functions import invoke


def test_registry_tables_hold_functions_under_their_names():
    for table, is_method in ((GLOBALS, False), (METHODS, True)):
        for name, fn in table.items():
            assert isinstance(fn, Function)
            assert fn.name == name and fn.method is is_method
            assert fn.arities and all(n >= 0 for n in fn.arities)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", 0), ("ÿ", 1), ("πέντε", 5), ("🐱😀", 2), (b"abc", 3), ([1, [2]], 2), ({"a": 1}, 1)],
)
def test_size_counts_code_points_bytes_and_elements(value, expected):
    assert invoke(GLOBALS["size"], value) == expected
    assert invoke(METHODS["size"], value) == expected


@pytest.mark.parametrize("value", [1, UInt(1), 1.0, None, True])
def test_size_of_a_scalar_has_no_overload(value):
    with pytest.raises(DslEvalError) as err:
        invoke(GLOBALS["size"], value)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


@pytest.mark.parametrize(
    ("name", "text", "arg", "expected"),
    [
        ("contains", "abababc", "ababc", True),
        ("contains", "", "", True),
        ("contains", "hello", "ol", False),
        ("startsWith", "завтра", "за", True),
        ("startsWith", "", "foo", False),
        ("endsWith", "🐱😀😛", "😛", True),
        ("endsWith", "foobar", "foo", False),
        ("matches", "mañana", "a+ñ+a+", True),
        ("matches", "🐱😀😀", "(a|😀){2}", True),
        ("matches", "", "foo|bar", False),
        ("matches", "cows", "", True),
    ],
)
def test_string_predicates(name, text, arg, expected):
    assert invoke(METHODS[name], text, arg) is expected


@pytest.mark.parametrize("name", ["contains", "startsWith", "endsWith", "matches"])
def test_string_predicates_reject_non_strings(name):
    with pytest.raises(DslEvalError) as err:
        invoke(METHODS[name], b"abc", "a")
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"
    with pytest.raises(DslEvalError):
        invoke(METHODS[name], "abc", 1)


def test_matches_exists_as_a_global_function():
    assert invoke(GLOBALS["matches"], "hubba", "ubb") is True


def test_dyn_is_the_identity():
    value = [1, "a"]
    assert invoke(GLOBALS["dyn"], value) is value


def test_type_returns_the_cel_type_of_a_value():
    type_of = GLOBALS["type"].impl
    assert type_of(7) == type_of(8) != type_of(UInt(7))
    assert type_of([1]) == type_of(["a"])
    assert type_of({1: "a"}) == type_of({"a": 1})
    assert type_of(type_of(7)) == type_of(type_of(UInt(7)))
    assert repr(type_of(1.5)) == "double"
