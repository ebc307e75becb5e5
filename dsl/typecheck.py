"""The type-inference pass: what type each sub-expression has, and every mistake that types
reveal before any event arrives. It runs when an expression is checked, never when it is
evaluated, so evaluation costs the same with or without it.

    >>> env = {"event": object_type("event", {"amount": DOUBLE})}
    >>> [e.code for e in check_types(parse("event.ammount > 5.0"), "event.ammount > 5.0", env)]
    ['DSL_UNKNOWN_FIELD']

Reported, each with its position in the source:
* `DSL_UNKNOWN_FIELD`: a field a closed shape (an `object_type`) does not have, with the nearest
  known field as the suggestion;
* `DSL_NO_MATCHING_OVERLOAD`: an operator or a function given types it has no overload for
  (`double > string`, `int + double`, `!` on a string, a timestamp accessor on a string);
* `DSL_INVALID_ARGUMENT`: a constant argument that can never work: a time zone, a regular
  expression, a `duration(...)` or `timestamp(...)` text.

A `dyn` operand (an unknown type) is never reported: the pass only speaks when it is sure.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable, Iterable, Mapping

from dsl import macros
from dsl.errors import DslError, DslTypeError
from dsl.functions import GLOBALS
from dsl.parser import positioned
from dsl.regex import compile_pattern
from dsl.suggest import nearest
from dsl.syntax import Node
from dsl.temporal import resolve_zone
from dsl.types import (
    BOOL,
    DURATION,
    DYN,
    GLOBAL_RESULTS,
    INT,
    NUMERIC,
    STRING_METHODS,
    TIMESTAMP,
    TIMESTAMP_ACCESSORS,
    CelType,
    element,
    list_of,
    literal_type,
    map_of,
    same,
    value_of,
)
from dsl.values import type_name

ARITHMETIC = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
ORDERING = {"lt": "<", "le": "<=", "gt": ">", "ge": ">="}
EQUALITY = {"eq": "==", "ne": "!="}
# (left, right) -> result of + and -, besides numbers of one kind
_TEMPORAL = {
    ("add", "timestamp", "duration"): TIMESTAMP,
    ("add", "duration", "timestamp"): TIMESTAMP,
    ("add", "duration", "duration"): DURATION,
    ("sub", "timestamp", "timestamp"): DURATION,
    ("sub", "timestamp", "duration"): TIMESTAMP,
    ("sub", "duration", "duration"): DURATION,
}
_CONSTANT_TEXT_CHECKS: dict[str, Callable[[str], object]] = {
    "timestamp": GLOBALS["timestamp"].impl,
    "duration": GLOBALS["duration"].impl,
}


def check_types(tree: Node, source: str, env: Mapping[str, CelType]) -> list[DslError]:
    """Every type error of the expression `tree` (parsed from `source`), given the types of its
    variables; an unknown variable is `dyn`."""
    checker = _Checker(source, env)
    checker.infer(tree)
    return checker.errors


class _Checker:
    def __init__(self, source: str, env: Mapping[str, CelType]) -> None:
        self.source, self.env = source, env
        self.scope: list[dict[str, CelType]] = []
        self.errors: list[DslError] = []

    def report(self, offset: int, message: str, code: str, suggestion: str | None = None) -> CelType:
        self.errors.append(positioned(DslTypeError, message, self.source, offset, code=code, suggestion=suggestion))
        return DYN

    def infer(self, node: Node) -> CelType:
        kind = node.kind
        if kind in ARITHMETIC:
            return self._arithmetic(node)
        if kind in ORDERING or kind in EQUALITY:
            return self._comparison(node)
        rule = _RULES.get(kind)
        if rule is None:
            for child in node.children():
                self.infer(child)
            return DYN
        return rule(self, node)

    # --- names and selections --------------------------------------------------------------------

    def _literal(self, node: Node) -> CelType:
        return literal_type(type_name(node.args[0]))

    def _ident(self, node: Node) -> CelType:
        name = node.args[0]
        for frame in reversed(self.scope):
            if name in frame:
                return frame[name]
        return self.env.get(name, DYN)

    def _select(self, node: Node) -> CelType:
        operand, field = node.args
        return self.field_of(self.infer(operand), field, node)

    def field_of(self, container: CelType, field: str, node: Node) -> CelType:
        if container.kind == "object":
            found = container.fields.get(field)
            if found is not None:
                return found
            known = ", ".join(sorted(container.fields)) or "none"
            return self.report(
                node.end - len(field),
                f"{container} has no field '{field}' (its fields: {known})",
                "DSL_UNKNOWN_FIELD",
                nearest(field, container.fields),
            )
        if container.kind == "map":
            return value_of(container)
        if container.known and container.kind != "null_type":
            return self.report(node.start, f"a value of type {container} has no field '{field}'", "DSL_NO_SUCH_FIELD")
        return DYN

    def _index(self, node: Node) -> CelType:
        container, key = self.infer(node.args[0]), node.args[1]
        self.infer(key)
        if container.kind == "object" and key.kind == "literal" and isinstance(key.args[0], str):
            return self.field_of(container, key.args[0], key)
        return value_of(container)

    def _optional(self, node: Node) -> CelType:
        for child in node.children():
            self.infer(child)
        return DYN

    # --- operators -------------------------------------------------------------------------------

    def _arithmetic(self, node: Node) -> CelType:
        left, right = self.infer(node.args[0]), self.infer(node.args[1])
        if not (left.known and right.known):
            return DYN
        if left.kind in NUMERIC and left == right and (node.kind != "mod" or left.kind != "double"):
            return left
        if node.kind == "add" and left == right and left.kind in ("string", "bytes", "list"):
            return left
        if node.kind == "add" and left.kind == right.kind == "list":
            return list_of(DYN)
        found = _TEMPORAL.get((node.kind, left.kind, right.kind))
        if found is not None:
            return found
        return self.overload(node, ARITHMETIC[node.kind], left, right)

    def _comparison(self, node: Node) -> CelType:
        left, right = self.infer(node.args[0]), self.infer(node.args[1])
        if not (left.known and right.known) or _comparable(node.kind, left, right):
            return BOOL
        operator = ORDERING.get(node.kind) or EQUALITY[node.kind]
        self.overload(node, operator, left, right)
        return BOOL

    def overload(self, node: Node, operator: str, left: CelType, right: CelType) -> CelType:
        hint = _literal_hint(node, left, right)
        message = f"no matching overload for '_{operator}_' applied to ({left}, {right})"
        return self.report(node.start, message + (f"; {hint}" if hint else ""), "DSL_NO_MATCHING_OVERLOAD")

    def _logical(self, node: Node) -> CelType:
        for operand in node.children():
            found = self.infer(operand)
            if found.known and found.kind != "bool":
                self.report(operand.start, f"expected a bool here, not {found}", "DSL_NO_MATCHING_OVERLOAD")
        return BOOL

    def _negate(self, node: Node) -> CelType:
        found = self.infer(node.args[0])
        if found.known and found.kind not in ("int", "double", "duration"):
            return self.report(
                node.start, f"no matching overload for '-_' applied to ({found})", "DSL_NO_MATCHING_OVERLOAD"
            )
        return found

    def _in(self, node: Node) -> CelType:
        self.infer(node.args[0])
        container = self.infer(node.args[1])
        if container.known and container.kind not in ("list", "map", "object"):
            self.report(node.args[1].start, f"'in' needs a list or a map, not {container}", "DSL_NO_MATCHING_OVERLOAD")
        return BOOL

    def _cond(self, node: Node) -> CelType:
        condition, then, otherwise = node.args
        found = self.infer(condition)
        if found.known and found.kind != "bool":
            self.report(condition.start, f"a condition must be a bool, not {found}", "DSL_NO_MATCHING_OVERLOAD")
        return same(self.infer(then), self.infer(otherwise))

    def _list(self, node: Node) -> CelType:
        found = [self.infer(item) for item in node.args[0]]
        return list_of(found[0] if found and all(t == found[0] for t in found) else DYN)

    def _map(self, node: Node) -> CelType:
        values = []
        for key, value, _ in node.args[0]:
            self.infer(key)
            values.append(self.infer(value))
        return map_of(DYN, values[0] if values and all(t == values[0] for t in values) else DYN)

    # --- calls -----------------------------------------------------------------------------------

    def _call(self, node: Node) -> CelType:
        name, args = node.args
        if name == "has" and len(args) == 1 and args[0].kind == "select":
            self.infer(args[0].args[0])  # the field itself may be absent: that is what has() asks
            return BOOL
        if name == "now" and not args:
            return self.env.get("now", TIMESTAMP)
        return self.function(name, [self.infer(arg) for arg in args], args)

    def function(self, name: str, types: list[CelType], args: tuple[Node, ...]) -> CelType:
        check = _CONSTANT_TEXT_CHECKS.get(name)
        if check is not None and len(args) == 1:
            self.constant_argument(args[0], check)
        if name == "matches" and len(args) == 2:
            self.constant_argument(args[1], compile_pattern)
        if name == "get" and len(types) == 3:
            return value_of(types[0]) if value_of(types[0]).known else types[2]
        if name in ("math.least", "math.greatest", "math.abs") and types and all(t == types[0] for t in types):
            return types[0] if types[0].kind != "list" else value_of(types[0])
        return GLOBAL_RESULTS.get(name, DYN)

    def constant_argument(
        self, arg: Node, check: Callable[[str], object], suggest: Callable[[], Iterable[str]] | None = None
    ) -> None:
        if arg.kind != "literal" or not isinstance(arg.args[0], str):
            return
        try:
            check(arg.args[0])
        except DslError as exc:
            suggestion = nearest(arg.args[0], suggest()) if suggest is not None else None
            self.report(arg.start + 1, exc.message, "DSL_INVALID_ARGUMENT", suggestion)

    def _method(self, node: Node) -> CelType:
        target, name, args, name_offset = node.args
        if name in macros.MACROS and args and args[0].kind == "ident" and macros.applies(name, args):
            return self._macro(node)
        namespace = target.dotted_name()
        if namespace is not None and f"{namespace}.{name}" in GLOBALS and not self._is_variable(namespace):
            return self.function(f"{namespace}.{name}", [self.infer(arg) for arg in args], args)
        receiver = self.infer(target)
        types = [self.infer(arg) for arg in args]
        if name in TIMESTAMP_ACCESSORS:
            if receiver.known and receiver.kind != "timestamp":
                message = f"no matching overload for '{name}' applied to ({receiver})"
                return self.report(name_offset, message, "DSL_NO_MATCHING_OVERLOAD")
            if args:
                self.constant_argument(args[0], resolve_zone, suggest=_time_zone_names)
            return INT
        if name in STRING_METHODS:
            if receiver.known and receiver.kind != "string":
                message = f"no matching overload for '{name}' applied to ({receiver})"
                return self.report(name_offset, message, "DSL_NO_MATCHING_OVERLOAD")
            if name == "matches" and args:
                self.constant_argument(args[0], compile_pattern)
            return STRING_METHODS[name]
        if name == "size":
            return INT
        del types
        return DYN

    def _is_variable(self, namespace: str) -> bool:
        root = namespace.split(".")[0]
        return root in self.env or any(root in frame for frame in self.scope)

    def _macro(self, node: Node) -> CelType:
        target, name, args, _ = node.args
        if name == "bind":  # cel.bind(x, init, body)
            init = self.infer(args[1])
            return self._within({args[0].args[0]: init}, args[2])
        container = self.infer(target)
        variables = [arg.args[0] for arg in args[: macros.variable_count(name, len(args))]]
        if len(variables) == 2:
            first = INT if container.kind == "list" else element(container)
            frame = {variables[0]: first, variables[1]: value_of(container)}
        else:
            frame = {variables[0]: element(container)} if variables else {args[0].args[0]: DYN}
        bodies = [self._within(frame, body) for body in args[len(frame) :]]
        if name in ("all", "exists", "exists_one", "existsOne"):
            return BOOL
        if name == "filter":
            return container if container.kind == "list" else list_of(DYN)
        if name in ("map", "transformList"):
            return list_of(bodies[-1] if bodies else DYN)
        return DYN

    def _within(self, frame: dict[str, CelType], body: Node) -> CelType:
        self.scope.append(frame)
        try:
            return self.infer(body)
        finally:
            self.scope.pop()


def _comparable(kind: str, left: CelType, right: CelType) -> bool:
    if left.kind in NUMERIC and right.kind in NUMERIC:
        return True
    if kind in ORDERING:
        return left.kind == right.kind and left.kind in ("string", "bytes", "bool", "timestamp", "duration")
    if "null_type" in (left.kind, right.kind):
        return True
    containers = {"map", "object"}
    return left.kind == right.kind or (left.kind in containers and right.kind in containers)


def _literal_hint(node: Node, left: CelType, right: CelType) -> str | None:
    """How to fix the common case: a number written as text, or an int beside a double."""
    for operand, other in ((node.args[1], left), (node.args[0], right)):
        if operand.kind != "literal":
            continue
        value = operand.args[0]
        if isinstance(value, str) and other.kind in NUMERIC and _is_number(value):
            written = f"{float(value)}" if other.kind == "double" else value
            return f'write {written} instead of "{value}"'
        if type(value) is int and other.kind == "double":
            return f"write {value}.0 instead of {value}"
    return None


@functools.cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_RULES: dict[str, Callable[[_Checker, Node], CelType]] = {
    "literal": _Checker._literal,
    "ident": _Checker._ident,
    "select": _Checker._select,
    "index": _Checker._index,
    "opt_select": _Checker._optional,
    "opt_index": _Checker._optional,
    "and": _Checker._logical,
    "or": _Checker._logical,
    "not": _Checker._logical,
    "neg": _Checker._negate,
    "in": _Checker._in,
    "cond": _Checker._cond,
    "list": _Checker._list,
    "map": _Checker._map,
    "call": _Checker._call,
    "method": _Checker._method,
}
