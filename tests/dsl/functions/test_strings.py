import pytest

from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import GLOBALS, METHODS
from dsl.limits import LIST_LENGTH_MAX, STRING_LENGTH_MAX
from tests.dsl.functions import invoke


def call(name, *args):
    return invoke(METHODS[name], *args)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("charAt", ("tacocat", 3), "o"),
        ("charAt", ("tacocat", 7), ""),
        ("charAt", ("©αT", 1), "α"),
        ("indexOf", ("tacocat", ""), 0),
        ("indexOf", ("tacocat", "ac"), 1),
        ("indexOf", ("tacocat", "none"), -1),
        ("indexOf", ("tacocat", "", 3), 3),
        ("indexOf", ("tacocat", "at", 3), 5),
        ("indexOf", ("ta©o©αT", "©", 3), 4),
        ("indexOf", ("ta©o©αT", "©α", 5), -1),
        ("indexOf", ("", "a"), -1),
        ("lastIndexOf", ("", "@@"), -1),
        ("lastIndexOf", ("tacocat", ""), 7),
        ("lastIndexOf", ("tacocat", "at"), 5),
        ("lastIndexOf", ("tacocat", "", 3), 3),
        ("lastIndexOf", ("tacocat", "a", 3), 1),
        ("lastIndexOf", ("ta©o©αT", "©", 3), 2),
        ("lastIndexOf", ("ta©o©αT", "©α", 4), 4),
        ("lastIndexOf", ("bananananana", "nana", 7), 6),
        ("lastIndexOf", ("hello wello", "hello wello"), 0),
        ("lowerAscii", ("TacoCÆt Xii",), "tacocÆt xii"),
        ("upperAscii", ("tacoCαt",), "TACOCαT"),
        ("replace", ("{0} days {0} hours", "{0}", "2"), "2 days 2 hours"),
        ("replace", ("{0} days {0} hours", "{0}", "2", 1), "2 days {0} hours"),
        ("replace", ("hello hello", "he", "we", 0), "hello hello"),
        ("replace", ("hello hello", "he", "we", -1), "wello wello"),
        ("replace", ("1 ©αT taco", "αT", "o©α"), "1 ©o©α taco"),
        ("replace", ("ab", "", "-"), "-a-b-"),
        ("split", ("hello world", " "), ["hello", "world"]),
        ("split", ("hello world events!", " ", 0), []),
        ("split", ("hello world events!", " ", 1), ["hello world events!"]),
        ("split", ("hello world events!", " ", 2), ["hello", "world events!"]),
        ("split", ("o©o©o©o", "©", -1), ["o", "o", "o", "o"]),
        ("split", ("abc", ""), ["a", "b", "c"]),
        ("split", ("abc", "", 2), ["a", "bc"]),
        ("substring", ("tacocat", 4), "cat"),
        ("substring", ("tacocat", 7), ""),
        ("substring", ("tacocat", 0, 4), "taco"),
        ("substring", ("ta©o©αT", 2, 6), "©o©α"),
        ("substring", ("ta©o©αT", 7, 7), ""),
        ("trim", (" \f\n\r\t\vtext  ",), "text"),
        ("trim", ("\u0085\u00a0\u1680text\u2000\u2009\u200a\u2028\u2029\u202f\u205f\u3000",), "text"),
        ("trim", ("\u180etext\u200b\u200c\u200d\u2060\ufeff",), "\u180etext\u200b\u200c\u200d\u2060\ufeff"),
        ("trim", ("\x1ctext",), "\x1ctext"),
        ("join", (["x", "y"],), "xy"),
        ("join", (["x", "y"], "-"), "x-y"),
        ("join", ([], "-"), ""),
        ("reverse", ("gums",), "smug"),
        ("reverse", ("©αT",), "Tα©"),
        ("reverse", ([1, "a"],), ["a", 1]),
    ],
)
def test_string_extension(name, args, expected):
    assert call(name, *args) == expected


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("charAt", ("tacocat", 30)),
        ("charAt", ("tacocat", -1)),
        ("indexOf", ("tacocat", "a", 30)),
        ("indexOf", ("tacocat", "a", -1)),
        ("lastIndexOf", ("tacocat", "a", -1)),
        ("lastIndexOf", ("tacocat", "a", 30)),
        ("substring", ("tacocat", 40)),
        ("substring", ("tacocat", -1)),
        ("substring", ("tacocat", 1, 50)),
        ("substring", ("tacocat", 49, 50)),
        ("substring", ("tacocat", 4, 3)),
    ],
)
def test_out_of_range_indices_are_invalid_arguments(name, args):
    with pytest.raises(DslEvalError) as err:
        call(name, *args)
    assert err.value.code == "DSL_INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("charAt", (42, 2)),
        ("charAt", ("hello", True)),
        ("indexOf", (24, "2")),
        ("indexOf", ("hello", True)),
        ("indexOf", ("42", "4", "0")),
        ("lastIndexOf", ("42", 4)),
        ("lowerAscii", (b"A",)),
        ("upperAscii", (1,)),
        ("replace", ("42", 2, 1)),
        ("replace", ("42", "2", "1", "1")),
        ("split", (42, "2")),
        ("split", ("42", "2", 1.0)),
        ("substring", ("42", "1")),
        ("trim", (None,)),
        ("join", (["a", 1],)),
        ("join", ("ab",)),
        ("join", (["a"], 1)),
        ("reverse", (b"ab",)),
        ("format", (1, [])),
        ("format", ("%s", "x")),
    ],
)
def test_wrong_types_have_no_overload(name, args):
    with pytest.raises(DslEvalError) as err:
        call(name, *args)
    assert err.value.code == "DSL_NO_MATCHING_OVERLOAD"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("first\nsecond", '"first\\nsecond"'),
        ("bell\a", '"bell\\a"'),
        ("\bbackspace", '"\\bbackspace"'),
        ("\fform \r\t\v", '"\\fform \\r\\t\\v"'),
        ('mid " quote', '"mid \\" quote"'),
        ("ends with \\", '"ends with \\\\"'),
        ("завтра🐱", '"завтра🐱"'),
        ("", '""'),
        ("bad \udc00", '"bad \ufffd"'),
    ],
)
def test_quote(text, quoted):
    assert invoke(GLOBALS["strings.quote"], text) == quoted


def test_results_over_the_string_limit_are_refused_before_they_are_built():
    text = "a" * 1000
    with pytest.raises(DslLimitError) as err:
        call("replace", text, "a", "b" * 101)
    assert err.value.code == "DSL_LIMIT_STRING"
    with pytest.raises(DslLimitError):
        call("join", ["x" * 1000] * (STRING_LENGTH_MAX // 1000 + 1))
    with pytest.raises(DslLimitError) as err:
        call("split", "," * LIST_LENGTH_MAX, ",")
    assert err.value.code == "DSL_LIMIT_LIST"
