"""Tests of the built-in functions. `invoke` calls one directly, as the compiler does: with a
fresh budget first when the function charges one."""

from __future__ import annotations

from typing import Any

from dsl.functions import Function
from dsl.limits import Budget


def invoke(function: Function, *args: Any) -> Any:
    """Example: `invoke(METHODS["split"], "a,b", ",")`."""
    return function.impl(Budget(), *args) if function.needs_budget else function.impl(*args)
