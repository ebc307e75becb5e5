"""One dry run: the three panes in, what would happen out, nothing written anywhere.

The bundle goes through the same loader as `accrual check` and `accrual apply`, the participant
through the same state builder as `accrual test`, and the event through the same
`evaluate_event` the worker calls (D30). This module only reads the panes, calls those
functions and collects what to show; it decides nothing about rules itself.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from typing import Any

import msgspec
import yaml

from engine.errors import EngineError
from engine.evaluator.case_inputs import group_state_from_input
from engine.evaluator.cases import DEFAULT_EVENT_TIMESTAMP, program_state_from_input, state_from_input
from engine.evaluator.evaluate import evaluate_event
from engine.limits import check_event_data
from engine.model.bundle import Bundle
from engine.model.result import EvaluationResult
from engine.model.state import EntityState, EvaluationInput, EventInput, GroupState, ProgramState
from engine.rules.loader import LoadedBundle, load_bundle_text
from engine.rules.yaml_source import YamlDocument, parse_yaml
from playground.inputs import PaneError, PaneProblem, PlaygroundEvent, StatePane, parse_participant, read_event
from playground.trace import Locate

BUNDLE_FILENAME = "playground.yaml"
# A lone rule is wrapped into a bundle; the assets it names get this scale (cents-like).
SINGLE_RULE_ASSET_SCALE = 2
# Loaded bundles by text: typing in the event or participant pane re-runs the same bundle, which
# is then not parsed and compiled again (compile once, evaluate many). Bounded, per process.
LOADED_CACHE_SIZE = 16
_PROGRAM_KEY = re.compile(r"^program\s*:", re.MULTILINE)
_RULE_KEY = re.compile(r"^condition\s*:", re.MULTILINE)


class RunForm(msgspec.Struct, kw_only=True):
    """What the page posts: the text of the three panes."""

    bundle: str = ""
    event: str = ""
    participant: str = ""


class DryRun(msgspec.Struct, kw_only=True):
    """Everything the result pane shows. `result` is None when an input has an error."""

    problems: list[PaneProblem]
    bundle: Bundle | None = None
    event: PlaygroundEvent | None = None
    state_input: StatePane | None = None
    before: EntityState | None = None
    recipient_before: EntityState | None = None
    program_before: ProgramState | None = None
    group_before: GroupState | None = None  # the group the event names, as the pane gives it
    result: EvaluationResult | None = None
    single_rule: bool = False
    document: YamlDocument | None = None  # the bundle as read, to place trace spans in the pane


def dry_run(form: RunForm) -> DryRun:
    """Load, build the state, evaluate with a trace; every problem is collected, none raised.

    >>> dry_run(RunForm(bundle=text, event='{"event_timestamp": "2026-01-01T12:00:00Z"}')).result.status
    'COMPLETED'
    """
    bundle_text, event_text, participant_text = (_lines(t) for t in (form.bundle, form.event, form.participant))
    single_rule = is_single_rule(bundle_text)
    loaded = load_cached(wrap_single_rule(bundle_text) if single_rule else bundle_text)
    problems = [_bundle_problem(p, single_rule) for p in loaded.problems]
    run = DryRun(problems=problems, bundle=loaded.bundle, single_rule=single_rule, document=loaded.document)
    try:
        run.event, notice = read_event(event_text)
        if notice is not None:
            problems.append(notice)
        check_event_data(run.event.event_data)
    except PaneError as exc:
        problems.append(exc.problem)
    except EngineError as exc:
        problems.append(PaneProblem(pane="event", line=1, column=1, code=exc.code, message=exc.message))
    try:
        run.state_input = parse_participant(participant_text)
    except PaneError as exc:
        problems.append(exc.problem)
    bundle = loaded.bundle  # set whenever the program is
    if loaded.program is None or bundle is None or run.event is None or run.state_input is None:
        return run
    states = run.state_input
    try:
        run.before = state_from_input(states.participant, bundle)
        if states.recipient is not None:
            run.recipient_before = state_from_input(states.recipient, bundle)
        run.program_before = program_state_from_input(states.program, bundle)
        if states.group is not None:
            run.group_before = group_state_from_input(
                states.group, run.event.event_data, bundle, as_of=DEFAULT_EVENT_TIMESTAMP
            )
    except EngineError as exc:
        problems.append(PaneProblem(pane="participant", line=1, column=1, code=exc.code, message=exc.message))
        return run
    event = EventInput(
        event_data=run.event.event_data,
        event_timestamp=run.event.event_timestamp,
        received_at=run.event.received_at or run.event.event_timestamp,
    )
    # evaluate_event works on its own copy, so `before` keeps the state ahead of the event for the
    # side-by-side view.
    run.result = evaluate_event(
        loaded.program,
        EvaluationInput(
            event=event,
            participant=run.before,
            recipient=run.recipient_before,
            program_state=run.program_before,
            group=run.group_before,
        ),
        trace=True,
    )
    return run


def condition_locator(run: DryRun, rule_name: str) -> Locate | None:
    """Where each character of a rule's condition is in the bundle pane (1-based line and
    column), so the page can highlight a trace row's span in the editor."""
    document = run.document
    rules = document.data.get("rules") if document is not None and isinstance(document.data, dict) else None
    if document is None or not isinstance(rules, list):
        return None
    index = next((i for i, r in enumerate(rules) if isinstance(r, dict) and r.get("name") == rule_name), None)
    if index is None:
        return None
    path = ("rules", index, "condition")
    line_shift, column_shift = (1, 2) if run.single_rule else (0, 0)
    starts = _line_starts(document.source)

    def locate(offset: int) -> tuple[int, int] | None:
        found = document.scalar_index(path, offset)
        if found is None:
            return None
        line = bisect.bisect_right(starts, found) - 1
        return max(line + 1 - line_shift, 1), max(found - starts[line] + 1 - column_shift, 1)

    return locate


@functools.lru_cache(maxsize=LOADED_CACHE_SIZE)
def _line_starts(source: str) -> list[int]:
    """The index where each line of the pane starts (split and sum run in C: a 100-rule bundle
    takes well under a millisecond, against several for a loop over its characters)."""
    return [0, *itertools.accumulate(len(line) + 1 for line in source.split("\n"))]


@functools.lru_cache(maxsize=LOADED_CACHE_SIZE)
def load_cached(text: str) -> LoadedBundle:
    """`load_bundle_text` of the pane, remembered for the next keystroke in another pane. The
    loaded bundle and its compiled program are only read afterwards, never changed."""
    return load_bundle_text(text, BUNDLE_FILENAME)


def is_single_rule(text: str) -> bool:
    """A pane holding one rule (a `condition:` at the top level and no `program:`)."""
    return not _PROGRAM_KEY.search(text) and bool(_RULE_KEY.search(text))


def wrap_single_rule(text: str) -> str:
    """A bundle around one rule. The rule's lines move one line down and two columns right,
    which `_bundle_problem` undoes, so problems still point into the pane as typed."""
    lines = text.splitlines() or [""]
    body = "\n".join(["- " + lines[0]] + ["  " + line if line else line for line in lines[1:]])
    assets = [{"symbol": symbol, "name": symbol, "scale": SINGLE_RULE_ASSET_SCALE} for symbol in _asset_symbols(text)]
    tail = yaml.safe_dump({"program": {"key": "playground", "name": "Playground"}, "assets": assets}, sort_keys=False)
    return f"rules:\n{body}\n{tail}"


def _asset_symbols(text: str) -> list[str]:
    rule = parse_yaml(text).data  # None on a syntax error, which the loader reports with its position
    actions = rule.get("actions") if isinstance(rule, dict) else None
    symbols: list[str] = []
    for action in actions if isinstance(actions, list) else []:
        symbol = action.get("asset_id") if isinstance(action, dict) else None
        if isinstance(symbol, str) and re.fullmatch(r"[A-Za-z0-9]{1,16}", symbol) and symbol not in symbols:
            symbols.append(symbol)
    return symbols


def _bundle_problem(problem: Any, single_rule: bool) -> PaneProblem:
    line, column = problem.line or 1, problem.column or 1
    if single_rule:
        line, column = max(line - 1, 1), max(column - 2, 1)
    return PaneProblem(
        pane="bundle",
        line=line,
        column=column,
        code=problem.code,
        message=problem.message,
        severity=problem.severity,
    )


def _lines(text: str) -> str:
    """Browsers post textarea line breaks as CRLF; the panes count lines by LF."""
    return text.replace("\r\n", "\n")
