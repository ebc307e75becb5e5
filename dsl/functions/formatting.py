"""`string.format(list)`: printf-style substitution with the rules of cel-go's strings extension.

Clauses: `%s` (any value; lists and maps print their elements, map entries sorted by key),
`%d` (int, uint, double), `%f` / `%e` (int, uint, double; precision `%.2f`, default 6),
`%b` (int, uint, bool), `%x` / `%X` (int, uint, string, bytes), `%o` (int, uint), `%%` (a
percent sign). Doubles print their shortest exact digits without an exponent (`%s` of 2.5 is
"2.5"), and NaN / Infinity / -Infinity by name.

What a substitution prints and visits is charged to the evaluation's budget as it goes (a list
that holds one long string ten thousand times prints far more than it holds), and the result is
refused past the string limit (`dsl.limits`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import DslEvalError
from dsl.limits import SMALL_TEXT, Budget, check_string, check_string_length, text_units
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


def _string_clause(value: Any, budget: Budget) -> str:
    kind = type(value)
    if kind is str:
        if len(value) > SMALL_TEXT:
            budget.charge(text_units(len(value)))
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
        if len(value) > SMALL_TEXT:
            budget.charge(text_units(len(value)))
        return value.decode("utf-8", "replace")
    if kind is list:
        budget.charge(len(value) + 1)
        return "[" + ", ".join([_string_clause(item, budget) for item in value]) + "]"
    if kind is dict:
        budget.charge(2 * len(value) + 1)
        entries = sorted((_string_clause(k, budget), _string_clause(v, budget)) for k, v in value.items())
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


def _hex_clause(value: Any, upper: bool, budget: Budget) -> str:
    kind = type(value)
    if kind is int or kind is UInt:
        text = format(value, "x")
    elif kind is str:
        budget.charge(text_units(8 * len(value)))  # up to four bytes a character, two digits a byte
        text = value.encode("utf-8", "surrogatepass").hex()
    elif kind is bytes:
        budget.charge(text_units(2 * len(value)))
        text = value.hex()
    else:
        raise _wrong_type("hex", "integers, byte buffers, and strings", value)
    return text.upper() if upper else text


def _octal_clause(value: Any) -> str:
    if type(value) is int or type(value) is UInt:
        return format(value, "o")
    raise _wrong_type("octal", "integers", value)


_CLAUSES: dict[str, Callable[[Any, int, Budget], str]] = {
    "s": lambda value, _, budget: _string_clause(value, budget),
    "d": lambda value, _, budget: _decimal_clause(value),
    "f": lambda value, precision, _: _fixed_clause(value, precision),
    "e": lambda value, precision, _: _scientific_clause(value, precision),
    "b": lambda value, _, budget: _binary_clause(value),
    "x": lambda value, _, budget: _hex_clause(value, False, budget),
    "X": lambda value, _, budget: _hex_clause(value, True, budget),
    "o": lambda value, _, budget: _octal_clause(value),
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


def format_string(template: str, args: list[Any], budget: Budget | None = None) -> str:
    """Substitute `args` into `template`. Example: `format_string("%s: %.2f", ["pi", 3.14159])`
    is "pi: 3.14"."""
    budget = budget if budget is not None else Budget()
    if len(template) > SMALL_TEXT:
        budget.charge(text_units(len(template)))
    pieces: list[str] = []
    position, next_arg, length = 0, 0, 0
    while True:
        percent = template.find("%", position)
        if percent < 0:
            pieces.append(template[position:])
            return check_string("".join(pieces))
        budget.charge(2)  # a clause, written in Python
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
        pieces.append(clause(args[next_arg], precision, budget))
        length += len(pieces[-1])
        check_string_length(length)  # what the clauses print, as they print it
        position += 1
        next_arg += 1
