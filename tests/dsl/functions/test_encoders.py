import pytest

from dsl import compile_expression
from dsl.errors import DslEvalError, DslLimitError
from dsl.functions import GLOBALS
from dsl.limits import BYTES_LENGTH_MAX, STRING_LENGTH_MAX
from tests.dsl.functions import invoke


def run(source: str):
    return compile_expression(source).evaluate({})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("base64.encode(b'loyal')", "bG95YWw="),
        ("base64.encode(b'')", ""),
        ("base64.encode(b'\\xff\\x00')", "/wA="),
        ("base64.decode('bG95YWw=')", b"loyal"),
        ("base64.decode('bG95YWw')", b"loyal"),  # the padding may be left out
        ("base64.decode('/wA')", b"\xff\x00"),
        ("base64.decode('')", b""),
        ("base64.decode(base64.encode(b'points: 12'))", b"points: 12"),
    ],
)
def test_encode_and_decode(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("text", ["b", "bG9=YWw", "bG95 YWw", "bG95YWw===", "ünicode", "bG95YWw-"])
def test_text_that_is_not_base64_is_an_invalid_argument(text):
    with pytest.raises(DslEvalError) as caught:
        invoke(GLOBALS["base64.decode"], text)
    assert caught.value.code == "DSL_INVALID_ARGUMENT"
    assert "is not valid base64" in str(caught.value)


@pytest.mark.parametrize("source", ["base64.encode('text')", "base64.decode(b'bG95YWw=')", "base64.encode(1)"])
def test_wrong_argument_types_have_no_overload(source):
    with pytest.raises(DslEvalError) as caught:
        run(source)
    assert caught.value.code == "DSL_NO_MATCHING_OVERLOAD"


def test_results_respect_the_size_limits():
    with pytest.raises(DslLimitError) as caught:
        invoke(GLOBALS["base64.encode"], b"x" * (STRING_LENGTH_MAX // 4 * 3 + 3))
    assert caught.value.code == "DSL_LIMIT_STRING"
    with pytest.raises(DslLimitError) as caught:
        invoke(GLOBALS["base64.decode"], "eHh4" * (BYTES_LENGTH_MAX // 3 + 1))
    assert caught.value.code == "DSL_LIMIT_BYTES"
