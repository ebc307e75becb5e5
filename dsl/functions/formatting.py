"""`string.format(list)`: printf-style substitution with the rules of cel-go's strings extension.

Clauses: `%s` (any value; lists and maps print their elements, map entries sorted by key),
`%d` (int, uint, double), `%f` / `%e` (int, uint, double; precision `%.2f`, default 6),
`%b` (int, uint, bool), `%x` / `%X` (int, uint, string, bytes), `%o` (int, uint), `%%` (a
percent sign). Doubles print their shortest exact digits without an exponent (`%s` of 2.5 is
"2.5"), and NaN / Infinity / -Infinity by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import DslEvalError
from dsl.temporal import format_duration, format_timestamp
from dsl.values import CelType, UInt, type_name

PRECISION_MAX = 100  # digits after the point for %f and %e; bounds the result's size


def _invalid(message: str) -> DslEvalError:
    return DslEvalError(message, code="DSL_INVALID_ARGUMENT")


def _wrong_type(clause: str, accepted: str, value: Any) -> DslEvalError:
    return DslEvalError(
        f"error during formatting: {clause} clause can only be used on {accepted}, was given {type_name(value)}",
        code="DSL_NO_MATCHING_OVERLOAD",
    )


def _special_double(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return None


def fixed_shortest(value: float) -> str:
    """The shortest digits that read back as `value`, never in exponent form.

    Example: `fixed_shortest(1e20)` is "100000000000000000000" (Go's `FormatFloat(x, 'f', -1)`).
    """
    special = _special_double(value)
    if special is not None:
        return special
    return format(Decimal(repr(value)).normalize(), "f")


def _string_clause(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is UInt:
        return str(int(value))
    if kind is float:
        return fixed_shortest(value)
    if value is None:
        return "null"
    if kind is bytes:
        return value.decode("utf-8", "replace")
    if kind is list:
        return "[" + ", ".join(map(_string_clause, value)) + "]"
    if kind is dict:
        entries = sorted((_string_clause(k), _string_clause(v)) for k, v in value.items())
        return "{" + ", ".join(f"{k}: {v}" for k, v in entries) + "}"
    if kind is timedelta:
        return format_duration(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if kind is CelType:
        return value.name
    raise _wrong_type(
        "string", "strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps", value
    )


def _decimal_clause(value: Any) -> str:
    kind = type(value)
    if kind is int or kind is UInt:
        return str(int(value))
    if kind is float:
        return fixed_shortest(value)
    raise _wrong_type("decimal", "integers", value)


def _number(clause: str, value: Any) -> float:
    kind = type(value)
    if kind is float or kind is int or kind is UInt:
        return float(value)
    raise _wrong_type(clause, "doubles", value)


def _fixed_clause(value: Any, precision: int) -> str:
    number = _number("fixed-point", value)
    return _special_double(number) or f"{number:.{precision}f}"


def _scientific_clause(value: Any, precision: int) -> str:
    number = _number("scientific", value)
    return _special_double(number) or f"{number:.{precision}e}"


def _binary_clause(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "1" if value else "0"
    if kind is int or kind is UInt:
        return format(value, "b")
    raise _wrong_type("binary", "integers and bools", value)


def _hex_clause(value: Any, upper: bool) -> str:
    kind = type(value)
    if kind is int or kind is UInt:
        text = format(value, "x")
    elif kind is str:
        text = value.encode("utf-8", "surrogatepass").hex()
    elif kind is bytes:
        text = value.hex()
    else:
        raise _wrong_type("hex", "integers, byte buffers, and strings", value)
    return text.upper() if upper else text


def _octal_clause(value: Any) -> str:
    if type(value) is int or type(value) is UInt:
        return format(value, "o")
    raise _wrong_type("octal", "integers", value)


_CLAUSES: dict[str, Callable[[Any, int], str]] = {
    "s": lambda value, _: _string_clause(value),
    "d": lambda value, _: _decimal_clause(value),
    "f": _fixed_clause,
    "e": _scientific_clause,
    "b": lambda value, _: _binary_clause(value),
    "x": lambda value, _: _hex_clause(value, upper=False),
    "X": lambda value, _: _hex_clause(value, upper=True),
    "o": lambda value, _: _octal_clause(value),
}


def _read_precision(template: str, position: int) -> tuple[int, int]:
    """Parse `.digits` at `position`; return (precision, position after it)."""
    end = position + 1
    while end < len(template) and "0" <= template[end] <= "9":
        end += 1
    if end == position + 1:
        raise _invalid("could not parse formatting clause: missing precision after '.'")
    precision = int(template[position + 1 : end])
    if precision > PRECISION_MAX:
        raise _invalid(f"formatting precision {precision} exceeds the limit of {PRECISION_MAX}")
    return precision, end


def format_string(template: str, args: list[Any]) -> str:
    """Substitute `args` into `template`. Example: `format_string("%s: %.2f", ["pi", 3.14159])`
    is "pi: 3.14"."""
    pieces: list[str] = []
    position, next_arg = 0, 0
    while True:
        percent = template.find("%", position)
        if percent < 0:
            pieces.append(template[position:])
            return "".join(pieces)
        pieces.append(template[position:percent])
        position = percent + 1
        if template[position : position + 1] == "%":
            pieces.append("%")
            position += 1
            continue
        precision = 6
        if template[position : position + 1] == ".":
            precision, position = _read_precision(template, position)
        verb = template[position : position + 1]
        clause = _CLAUSES.get(verb)
        if clause is None:
            shown = verb or "end of string"
            raise _invalid(f'could not parse formatting clause: unrecognized formatting clause "{shown}"')
        if next_arg >= len(args):
            raise _invalid(f"index {next_arg} out of range")
        pieces.append(clause(args[next_arg], precision))
        position += 1
        next_arg += 1
