"""Every built-in function of the rule language, in two tables the compiler looks names up in.

`GLOBALS` holds global and namespaced functions by qualified name (`size`, `math.greatest`);
`METHODS` holds receiver-style functions by name (`x.size()` is `METHODS["size"]`, called with the
receiver first). A function offered in both styles has an entry in each. Impls check their
argument types at run time and raise `DslEvalError` with a refined code.

    >>> GLOBALS["size"].impl("abc")
    3
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from dsl.functions import conversions, core, encoders, lists, math, optional, scrip, sets, strings, timestamps
from dsl.functions.registry import Function

__all__ = [
    "Function",
    "GLOBALS",
    "METHODS",
]

_MODULES = (core, conversions, timestamps, strings, math, sets, optional, scrip, lists, encoders)


def _tables(functions: Iterable[Function]) -> tuple[dict[str, Function], dict[str, Function]]:
    globals_: dict[str, Function] = {}
    methods: dict[str, Function] = {}
    for fn in functions:
        table = methods if fn.method else globals_
        if fn.name in table:
            raise RuntimeError(f"built-in function {fn.name!r} is registered twice")
        table[fn.name] = fn
    return globals_, methods


_globals, _methods = _tables(fn for module in _MODULES for fn in module.FUNCTIONS)
GLOBALS: Mapping[str, Function] = MappingProxyType(_globals)
METHODS: Mapping[str, Function] = MappingProxyType(_methods)
