"""The playground's event and participant panes: text in, engine inputs out, or problems that say
where (pane, line, column) the text is wrong.

The event pane is JSON shaped like the body of `POST /v1/events` (only the fields a dry run
needs); the participant pane is YAML or JSON shaped like a test case's `participant`
(`engine.model.bundle.StateInput`), or, when the event has a recipient (D17) or rules read the program's
state, a mapping with `participant`, `recipient` and `program` keys as in a test case.

Nothing here evaluates anything: YAML is read as bundle files are (`engine.rules.yaml_source`: safe,
bounded, YAML 1.2 scalars, so a test case saved from here reads back the same), JSON with the
standard decoder, and the result is validated against msgspec Structs.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any

import msgspec
import yaml

from engine.evaluator.cases import DEFAULT_EVENT_TIMESTAMP
from engine.model.bundle import GroupInput, ProgramStateInput, StateInput
from engine.rules.yaml_source import parse_yaml

PANE_CHARS_MAX = 1_000_000  # one pasted pane; the bundle loader has its own, tighter bounds
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")
_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<name>[^`]+)`")

AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class PaneProblem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong in one pane, at a 1-based line and column."""

    pane: str  # bundle | event | participant
    line: int
    column: int
    code: str
    message: str
    severity: str = "error"  # error | warning | notice (the input was read, differently than written)


class PlaygroundEvent(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The event pane. `received_at` (the server's receive time, D16) defaults to the
    event's own timestamp, as in test cases."""

    event_timestamp: AwareDatetime
    event_data: dict[str, Any] = msgspec.field(default_factory=dict)
    received_at: AwareDatetime | None = None


class StatePane(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The participant pane in full: the sender, the recipient if any, the program's state, and
    the group the event names (`group_id` in its data) if any (A255)."""

    participant: StateInput = msgspec.field(default_factory=StateInput)
    recipient: StateInput | None = None
    program: ProgramStateInput = msgspec.field(default_factory=ProgramStateInput)
    group: GroupInput | None = None


# An event pane with none of these keys holds the event data alone.
ENVELOPE_KEYS = frozenset(PlaygroundEvent.__struct_fields__)
DEFAULT_TIMESTAMP = DEFAULT_EVENT_TIMESTAMP.isoformat().replace("+00:00", "Z")  # as in test cases

# A pane with one of these top-level keys is the full form; otherwise it is one participant.
STATE_PANE_KEYS = frozenset(StatePane.__struct_fields__)


class PaneError(Exception):
    """A pane could not be read; carries the problem to show beside it."""

    def __init__(self, problem: PaneProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def parse_event(text: str) -> PlaygroundEvent:
    """Read the event pane.

    >>> parse_event('{"event_timestamp": "2026-01-01T12:00:00Z", "event_data": {"amount": 5}}')
    PlaygroundEvent(event_timestamp=datetime.datetime(2026, 1, 1, 12, 0, tzinfo=...), ...)
    """
    return read_event(text)[0]


def read_event(text: str) -> tuple[PlaygroundEvent, PaneProblem | None]:
    """Read the event pane, which may also hold the event data alone (`{"type": "purchase"}`):
    that runs as the `event_data` of an event at the default time, with a notice that says so.

    >>> read_event('{"type": "purchase"}')[1].code
    'playground_bare_event'
    """
    raw = _event_json(text)
    if isinstance(raw, dict) and raw and not ENVELOPE_KEYS & raw.keys():
        envelope = {"event_timestamp": DEFAULT_TIMESTAMP, "event_data": raw}
        notice = PaneProblem(
            pane="event",
            line=1,
            column=1,
            code="playground_bare_event",
            message=f"the pane holds only event data; it ran as the `event_data` of an event at {DEFAULT_TIMESTAMP}",
            severity="notice",
        )
        return _convert("event", text, envelope, PlaygroundEvent), notice
    return _convert("event", text, raw, PlaygroundEvent), None


def wrap_event(text: str) -> str:
    """The pane's bare event data inside the envelope, as JSON (the notice's "fill in" button).

    >>> print(wrap_event('{"type": "purchase"}'))
    {
      "event_timestamp": "2026-01-01T12:00:00Z",
      "event_data": {
        "type": "purchase"
      }
    }
    """
    raw = _event_json(text)
    if isinstance(raw, dict) and ENVELOPE_KEYS & raw.keys():
        return text
    return json.dumps({"event_timestamp": DEFAULT_TIMESTAMP, "event_data": raw}, indent=2, ensure_ascii=False)


def _event_json(text: str) -> Any:
    _check_size("event", text)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PaneError(
            PaneProblem(pane="event", line=exc.lineno, column=exc.colno, code="playground_json", message=exc.msg)
        ) from exc
    except RecursionError as exc:
        message = "the JSON is nested too deeply"
        raise PaneError(PaneProblem(pane="event", line=1, column=1, code="playground_json", message=message)) from exc
    return raw


def parse_participant(text: str) -> StatePane:
    """Read the participant pane (YAML, so JSON works too). An empty pane is a new participant.

    >>> parse_participant("tags: [vip]\\ncounters: {visits: 3}").participant.tags
    ['vip']
    >>> parse_participant("participant: {tags: [vip]}\\nprogram: {wallet: {CASH: 100}}").program.wallet
    {'CASH': 100}
    """
    _check_size("participant", text)
    document = parse_yaml(text)
    for issue in document.issues:
        if issue.severity == "error":
            raise PaneError(
                PaneProblem(
                    pane="participant", line=issue.line, column=issue.column, code=issue.code, message=issue.message
                )
            )
    raw = {} if document.data is None else document.data
    if isinstance(raw, dict) and STATE_PANE_KEYS & raw.keys():
        return _convert("participant", text, raw, StatePane)
    return StatePane(participant=_convert("participant", text, raw, StateInput))


def _check_size(pane: str, text: str) -> None:
    if len(text) > PANE_CHARS_MAX:
        raise PaneError(
            PaneProblem(
                pane=pane,
                line=1,
                column=1,
                code="playground_too_large",
                message=f"{len(text)} characters exceed the limit of {PANE_CHARS_MAX}",
            )
        )


def _convert(pane: str, text: str, raw: Any, kind: type) -> Any:
    try:
        return msgspec.convert(raw, kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        line, column = locate(text, message)
        raise PaneError(
            PaneProblem(pane=pane, line=line, column=column, code="playground_invalid", message=message)
        ) from exc


def locate(text: str, message: str) -> tuple[int, int]:
    """Line and column of the node a msgspec validation message points at (`- at `$.a.b``),
    found in the YAML (or JSON) node tree of `text`; (1, 1) when it cannot be found.

    >>> locate("a:\\n  b: x\\n", "Expected `int`, got `str` - at `$.a.b`")
    (2, 6)
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return 1, 1
    if node is None:
        return 1, 1
    match = _PATH.search(message)
    for key, index in _PATH_PART.findall(match.group("path")) if match else []:
        child = _child(node, key, int(index) if index else None)
        if child is None:
            break
        node = child
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown and isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if key_node.value == unknown.group("name"):
                node = key_node
                break
    return node.start_mark.line + 1, node.start_mark.column + 1


def _child(node: yaml.Node, key: str, index: int | None) -> yaml.Node | None:
    if index is not None and isinstance(node, yaml.SequenceNode):
        return node.value[index] if index < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node
    return None
