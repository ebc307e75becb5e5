"""The CEL encoders extension: `base64.encode(bytes) -> string` and `base64.decode(string) -> bytes`.

Encoding uses the standard alphabet with padding. Decoding accepts the standard alphabet with or
without the trailing `=` padding, as cel-go does; anything else is `DSL_INVALID_ARGUMENT`.

    >>> base64_decode("aGVsbG8")
    b'hello'
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dsl.functions.registry import Function, function, invalid_argument, no_overload
from dsl.limits import Budget, check_bytes, check_string_length, text_units


def base64_encode(budget: Budget, value: Any) -> str:
    if type(value) is not bytes:
        raise no_overload("base64.encode", value)
    check_string_length((len(value) + 2) // 3 * 4)
    budget.charge(text_units(4 * len(value)))
    return base64.b64encode(value).decode("ascii")


def base64_decode(budget: Budget, value: Any) -> bytes:
    if type(value) is not str:
        raise no_overload("base64.decode", value)
    budget.charge(text_units(4 * len(value)))
    # Unpadded input is accepted: restore the padding the length implies before strict decoding.
    padded = value + "=" * (-len(value) % 4)
    try:
        return check_bytes(base64.b64decode(padded.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise invalid_argument(f"{_excerpt(value)} is not valid base64") from None


def _excerpt(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


FUNCTIONS: tuple[Function, ...] = (
    function("base64.encode", base64_encode, 1, budget=True),
    function("base64.decode", base64_decode, 1, budget=True),
)
