"""The rule language: CEL text compiled once into Python closures (docs/decisions.md, D5-D10).

>>> from dsl import compile_expression
>>> compile_expression("event.amount * 2.0", variables={"event"}).evaluate({"event": {"amount": 5.0}})
10.0

Bindings may also hold `DEADLINE`: the `time.monotonic()` by which the evaluation must end.
"""

from dsl.errors import (
    DslArityError,
    DslError,
    DslEvalError,
    DslFunctionError,
    DslLimitError,
    DslNameError,
    DslSyntaxError,
    DslTypeError,
)
from dsl.expression import Expression, compile_expression
from dsl.limits import DEADLINE
from dsl.parser import parse
from dsl.trace import Traced, TraceStep
from dsl.values import CelType, Optional, UInt

__all__ = [
    "CelType",
    "DEADLINE",
    "DslArityError",
    "DslError",
    "DslEvalError",
    "DslFunctionError",
    "DslLimitError",
    "DslNameError",
    "DslSyntaxError",
    "DslTypeError",
    "Expression",
    "Optional",
    "TraceStep",
    "Traced",
    "UInt",
    "compile_expression",
    "parse",
]
