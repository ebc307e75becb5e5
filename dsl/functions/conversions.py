"""Type conversions: `int`, `uint`, `double`, `string`, `bytes`, `bool`, with CEL's range rules.

Doubles convert to integers by truncation and only when strictly inside the target range
(`int(9223372036854775807.0)` is a range error because that double is 2**63). Strings parse as
Go's strconv does: base 10 integers, Go float syntax (including "inf" and "NaN"), and the boolean
spellings 1/t/true/TRUE/True and 0/f/false/FALSE/False.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import shown
from dsl.functions.registry import Function, function, invalid_argument, no_overload, out_of_range
from dsl.limits import SMALL_TEXT, Budget, check_bytes, text_units
from dsl.temporal import EPOCH, format_duration, format_timestamp, total_microseconds
from dsl.values import CelType, UInt

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1
_TWO_63, _TWO_64 = 2.0**63, 2.0**64
NUMBER_TEXT_MAX = 1_000  # characters of a number written as text

_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_UINT_TEXT = re.compile(r"[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_HEX_FLOAT_TEXT = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?[0-9]+")
_SPECIAL_FLOATS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}
_BOOL_TEXT = {
    "1": True, "t": True, "true": True, "TRUE": True, "True": True,
    "0": False, "f": False, "false": False, "FALSE": False, "False": False,
}  # fmt: skip


def to_int(value: Any) -> int:
    """`int(2.9)` is 2, `int('-42')` is -42, `int(timestamp)` is seconds since the epoch."""
    kind = type(value)
    if kind is int:
        return value
    if kind is UInt:
        if value > INT64_MAX:
            raise out_of_range(f"uint {int(value)} does not fit in an int")
        return int(value)
    if kind is float:
        if not -_TWO_63 < value < _TWO_63:  # also rejects NaN
            raise out_of_range(f"double {shown(value)} does not fit in an int")
        return int(value)
    if kind is str:
        return _parse_integer(value, _INT_TEXT, INT64_MIN, INT64_MAX, "int")
    if isinstance(value, datetime):
        return total_microseconds(value - EPOCH) // 1_000_000
    raise no_overload("int", value)


def to_uint(value: Any) -> UInt:
    """`uint(42)`, `uint(3.9)` is 3u, `uint(-1)` is a range error."""
    kind = type(value)
    if kind is UInt:
        return value
    if kind is int:
        if not 0 <= value <= UINT64_MAX:
            raise out_of_range(f"int {value} does not fit in a uint")
        return UInt(value)
    if kind is float:
        if not -1.0 < value < _TWO_64:
            raise out_of_range(f"double {shown(value)} does not fit in a uint")
        return UInt(int(value))
    if kind is str:
        return UInt(_parse_integer(value, _UINT_TEXT, 0, UINT64_MAX, "uint"))
    raise no_overload("uint", value)


def _parse_integer(text: str, syntax: re.Pattern[str], low: int, high: int, kind: str) -> int:
    _check_number_text(text, kind)
    if syntax.fullmatch(text) is None:
        raise invalid_argument(f"cannot convert {shown(text)} to {kind}")
    number = int(text)
    if not low <= number <= high:
        raise out_of_range(f"{shown(text)} is out of the {kind} range")
    return number


def to_double(value: Any) -> float:
    """`double(1)` is 1.0, `double('6.02e23')`, `double('-inf')`."""
    kind = type(value)
    if kind is float:
        return value
    if kind is int or kind is UInt:
        return float(value)
    if kind is str:
        return _parse_double(value)
    raise no_overload("double", value)


def _check_number_text(text: str, kind: str) -> None:
    """A number written with more than NUMBER_TEXT_MAX characters is refused unread."""
    if len(text) > NUMBER_TEXT_MAX:
        raise invalid_argument(f"cannot convert a text of {len(text)} characters to {kind}")


def _parse_double(text: str) -> float:
    _check_number_text(text, "double")
    unsigned = text[1:] if text[:1] in ("+", "-") else text
    special = _SPECIAL_FLOATS.get(unsigned.lower())
    if special is not None:
        return -special if text[0] == "-" else special
    if _FLOAT_TEXT.fullmatch(text):
        number = float(text)
    elif _HEX_FLOAT_TEXT.fullmatch(text):
        number = float.fromhex(text)
    else:
        raise invalid_argument(f"cannot convert {shown(text)} to double")
    if math.isinf(number):
        raise out_of_range(f"{shown(text)} is out of the double range")
    return number


def to_string(budget: Budget, value: Any) -> str:
    """`string(1.5)` is "1.5", `string(1e100)` is "1e+100", `string(b'abc')` is "abc"."""
    kind = type(value)
    if kind is str:
        return value
    if kind is bytes and len(value) > SMALL_TEXT:
        budget.charge(text_units(len(value)))
    formatter = _STRING_FORMATS.get(kind)
    if formatter is not None:
        return formatter(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise no_overload("string", value)


def _bytes_to_string(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_argument("bytes are not valid UTF-8 and cannot become a string") from None


def format_double(value: float) -> str:
    """A double as Go's `%g` prints it: shortest digits, exponent form below 1e-4 and from 1e6
    (`1e+06`, `1.5e-05`), `NaN`, `+Inf`, `-Inf`. Example: `format_double(123.456)` is "123.456"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)  # a finite value's; NaN and the infinities returned above
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    if not digits:
        return "-0" if sign else "0"
    exponent += len(digit_tuple) - len(digits)  # account for the stripped zeros
    point = len(digits) + exponent  # position of the decimal point within `digits`
    scientific = point - 1
    prefix = "-" if sign else ""
    if scientific < -4 or scientific >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if scientific < 0 else '+'}{abs(scientific):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


_STRING_FORMATS: dict[type, Callable[[Any], str]] = {
    int: str,
    UInt: lambda value: str(int(value)),
    bool: lambda value: "true" if value else "false",
    float: format_double,
    bytes: _bytes_to_string,
    timedelta: format_duration,
    CelType: lambda value: value.name,
}


def to_bytes(budget: Budget, value: Any) -> bytes:
    """`bytes('ÿ')` is b'\\xc3\\xbf' (the UTF-8 encoding)."""
    kind = type(value)
    if kind is bytes:
        return value
    if kind is str:
        if len(value) > SMALL_TEXT:
            budget.charge(text_units(4 * len(value)))
        try:
            return check_bytes(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise invalid_argument("string contains an unpaired surrogate") from None
    raise no_overload("bytes", value)


def to_bool(value: Any) -> bool:
    """`bool('true')`, `bool('0')`; other spellings such as 'TrUe' are invalid."""
    kind = type(value)
    if kind is bool:
        return value
    if kind is str:
        parsed = _BOOL_TEXT.get(value)
        if parsed is None:
            raise invalid_argument(f"cannot convert {shown(value)} to bool")
        return parsed
    raise no_overload("bool", value)


FUNCTIONS: tuple[Function, ...] = (
    function("int", to_int, 1, cost=10),
    function("uint", to_uint, 1, cost=10),
    function("double", to_double, 1, cost=30),
    function("string", to_string, 1, budget=True, cost=30),
    function("bytes", to_bytes, 1, budget=True),
    function("bool", to_bool, 1),
)
