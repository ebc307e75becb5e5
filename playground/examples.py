"""The example picker: the programs of `rules_examples/`, each opened with its first test case as
the sample event and participant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import yaml

from engine.evaluator.cases import DEFAULT_EVENT_TIMESTAMP

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "rules_examples"
EMPTY_EVENT = {"event_timestamp": "2026-01-01T12:00:00Z", "event_data": {}}


class Panes(msgspec.Struct, kw_only=True):
    """The text of the three panes."""

    bundle: str
    event: str
    participant: str


class ExampleNotFound(Exception):
    code = "playground_example_not_found"


def example_names(directory: Path = EXAMPLES_DIR) -> list[str]:
    """The example files' stems, sorted.

    >>> example_names()[:1]
    ['airline_miles']
    """
    return sorted(path.stem for path in directory.glob("*.yaml"))


def load_example(name: str, directory: Path = EXAMPLES_DIR) -> Panes:
    """The panes for one example. Only names listed by `example_names` are opened, so a name
    is never turned into an arbitrary path."""
    if name not in example_names(directory):
        raise ExampleNotFound(f"no example named {name!r}")
    text = (directory / f"{name}.yaml").read_text(encoding="utf-8")
    return panes_for_bundle(text)


def panes_for_bundle(text: str) -> Panes:
    """The bundle text with its first test case (if any) as the event and participant."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    tests = data.get("tests") if isinstance(data, dict) else None
    first = tests[0] if isinstance(tests, list) and tests and isinstance(tests[0], dict) else {}
    return Panes(bundle=text, event=event_text(first), participant=state_text(first))


def event_text(case: dict[str, Any]) -> str:
    """The event pane for a test case (its event_data, event_timestamp and received_at)."""
    if not case:
        return json.dumps(EMPTY_EVENT, indent=2)
    event: dict[str, Any] = {"event_timestamp": _timestamp(case.get("event_timestamp") or DEFAULT_EVENT_TIMESTAMP)}
    if case.get("received_at"):
        event["received_at"] = _timestamp(case["received_at"])
    event["event_data"] = case.get("event") or {}
    return json.dumps(event, indent=2, default=str)


def state_text(case: dict[str, Any]) -> str:
    """The participant pane for a test case: its participant alone, or the full form with
    `participant`, `recipient`, `program` and `group` when the case has one of the last three."""
    states = {key: case[key] for key in ("participant", "recipient", "program", "group") if case.get(key)}
    if set(states) <= {"participant"}:
        states = states.get("participant") or {"tags": []}
    return yaml.safe_dump(states, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _timestamp(value: Any) -> str:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.isoformat().replace("+00:00", "Z")
    return str(value)
