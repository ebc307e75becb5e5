"""The engine: rules as data, the pure evaluator, the ledger, storage and the worker.

The names here are the pure core a program embeds: load a bundle file, evaluate an event against
it, run its test cases. Storage (`engine.store`), the queue (`engine.queue`), webhooks, the
worker and the command line (`engine.webhooks`, `engine.worker`, `engine.cli`) are imported by
their own names.

    >>> import engine
    >>> loaded = engine.load_bundle("rules_examples/coffee_stamps.yaml")
    >>> inputs = engine.EvaluationInput(event=event, participant=engine.EntityState(external_id="u1"))
    >>> engine.evaluate_event(loaded.program, inputs).status
    'COMPLETED'
"""

from engine.errors import EngineError, EvaluationError, LedgerInvariantError, LimitExceeded, RuleFileError
from engine.evaluator.cases import TestCaseResult, run_test_cases
from engine.evaluator.evaluate import evaluate_event
from engine.model.bundle import Bundle
from engine.model.result import EvaluationResult, ResolvedAction, RuleOutcome, RuleStatus
from engine.model.state import (
    Balance,
    BudgetState,
    CounterState,
    EntityState,
    EvaluationInput,
    EventInput,
    ProgramState,
    TierState,
)
from engine.rules.loader import LoadedBundle, load_bundle, load_bundle_text
from engine.rules.program import CompiledProgram, ProgramCompileError, compile_program

__all__ = [
    "Balance",
    "BudgetState",
    "Bundle",
    "CompiledProgram",
    "CounterState",
    "EngineError",
    "EntityState",
    "EvaluationError",
    "EvaluationInput",
    "EvaluationResult",
    "EventInput",
    "LedgerInvariantError",
    "LimitExceeded",
    "LoadedBundle",
    "ProgramCompileError",
    "ProgramState",
    "ResolvedAction",
    "RuleFileError",
    "RuleOutcome",
    "RuleStatus",
    "TestCaseResult",
    "TierState",
    "compile_program",
    "evaluate_event",
    "load_bundle",
    "load_bundle_text",
    "run_test_cases",
]
