"""The public surface of `dsl`: exactly what `__all__` lists, and nothing it lists is missing."""

from __future__ import annotations

import dsl


def test_all_lists_the_public_names() -> None:
    assert dsl.__all__ == sorted(dsl.__all__)
    assert all(hasattr(dsl, name) for name in dsl.__all__)


def test_the_documented_entry_point_works() -> None:
    expr = dsl.compile_expression("event.amount * 2.0", variables={"event"})
    assert expr.evaluate({"event": {"amount": 5.0}}) == 10.0
    assert issubclass(dsl.UInt, int)
