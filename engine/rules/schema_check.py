"""Check a bundle's plain data against the msgspec schema, reporting every problem at once.

msgspec stops at the first problem of a value, so the check is piecewise: the program, each asset,
tier, rule, action and test case is converted on its own. Inside a piece, a wrong key is removed
and the conversion retried, so one typo does not hide the next. Each msgspec path
(`$.budgets[0].limit`) is mapped back to the node's line and column.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import msgspec
from msgspec import inspect

from engine.model.automation import AutomationSpec, AutomationTestCase
from engine.model.bundle import ACTION_TYPES, Action, Asset, Bundle, ProgramSettings, Rule, TestCase, TierType
from engine.model.instants import RFC3339
from engine.model.rewards import Reward
from engine.rules.problems import ProblemSink
from engine.rules.yaml_source import Path, YamlDocument

_ATTEMPTS_MAX = 50  # conversions per piece; each removes one wrong key
_PLACEHOLDER_ACTION = {"type": "TAG", "tag": "placeholder"}
_ERROR_RE = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_PATH_PART_RE = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_YAML_1_1_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}
_KIND_NAMES = {
    "str": "text",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "empty",
}


class SchemaChecker:
    """Converts a YAML document's data into a `Bundle`, reporting problems into a sink.

    Example: `SchemaChecker(parse_yaml(text), sink).check()` returns the `Bundle` of every piece
    that passed (None when the top level or `program` is unusable).
    """

    def __init__(self, document: YamlDocument, sink: ProblemSink) -> None:
        self.document, self.sink = document, sink
        self.origins: dict[str, list[int]] = {}  # section -> file index of each kept item
        self.complete = False  # True when the program, every asset and every tier passed
        self.program_ok = False
        # every name the file declares, also of pieces failing the check: "rules", "assets", "tiers"
        self.declared: dict[str, set[str]] = {}

    def check(self) -> Bundle | None:
        """The Bundle of every piece that fits the schema. With a wrong `program` the Bundle
        carries a stand-in program (and `program_ok` is False) so the other checks still run."""
        data = self.document.data
        if not isinstance(data, dict):
            self.sink.at(
                (), "wrong_type", "a bundle is a mapping with the keys program, assets, tiers, rewards, rules and tests"
            )
            return None
        known = [field.name for field in msgspec.structs.fields(Bundle)]
        for key in data:
            if key not in known:
                self.sink.at((key,), "unknown_field", _unknown_field_message(key, known), key=True)
        program = None
        if "program" not in data:
            self.sink.at((), "missing_field", "the bundle has no `program` section (key and name of the program)")
        else:
            program = self.convert(data["program"], ProgramSettings, ("program",))
        assets = self._pieces(data, "assets", Asset)
        tiers = self._pieces(data, "tiers", TierType)
        rewards = self._pieces(data, "rewards", Reward)
        rules = self._pieces(data, "rules", Rule)
        tests = self._pieces(data, "tests", TestCase)
        automations = self._pieces(data, "automations", AutomationSpec)
        automation_tests = self._pieces(data, "automation_tests", AutomationTestCase)
        events = self._events(data)
        for section, key in (("rules", "name"), ("assets", "symbol"), ("tiers", "key"), ("rewards", "name")):
            raws = self._list(data, section)
            self.declared[section] = {
                raw[key] for raw in raws if isinstance(raw, dict) and isinstance(raw.get(key), str)
            }
        self.program_ok = program is not None
        program = program or ProgramSettings(key="invalid", name="invalid")
        self.complete = self.program_ok and _whole(data, "assets", assets) and _whole(data, "tiers", tiers)
        return Bundle(
            program=program,
            assets=assets,
            tiers=tiers,
            rewards=rewards,
            rules=rules,
            tests=tests,
            events=events,
            automations=automations,
            automation_tests=automation_tests,
        )

    def _events(self, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """`events:` as a mapping of event type names to field mappings; what the field types say
        is checked by `engine.rules.event_types`."""
        value = data.get("events") or {}
        if not isinstance(value, dict):
            self.sink.at(("events",), "wrong_type", "`events` maps event type names to their fields")
            return {}
        kept = {}
        for name, fields in value.items():
            if not isinstance(fields, dict):
                self.sink.at(("events", name), "wrong_type", f"event type {name!r} maps field names to types")
            else:
                kept[str(name)] = fields
        return kept

    def convert(self, value: Any, type_: Any, path: Path) -> Any:
        """Convert one piece; None (with problems reported) when it does not fit the schema."""
        data, reported = _copy_plain(value), False
        removed: set[Path] = set()
        for _ in range(_ATTEMPTS_MAX):
            try:
                result = msgspec.convert(data, type_)
            except msgspec.ValidationError as exc:
                reported = True
                relative = self._report(str(exc), type_, data, path, removed)
                if relative is None or not _remove(data, relative):
                    return None
                removed.add(path + relative)
            else:
                return None if reported else result
        return None

    def _list(self, data: dict[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.sink.at((key,), "wrong_type", f"`{key}` must be a list (each item starts with `- `)")
            return []
        return value

    def _pieces(self, data: dict[str, Any], key: str, type_: Any) -> list[Any]:
        raws = self._list(data, key)
        try:  # a section that fits as a whole (nearly always) needs one conversion, not one a piece
            kept = msgspec.convert(_copy_plain(raws), list[type_])
        except msgspec.ValidationError:
            pass  # find and report every wrong piece, one by one
        else:
            self.origins[key] = list(range(len(raws)))
            return kept
        kept, self.origins[key] = [], []
        for index, raw in enumerate(raws):
            piece = self._rule(raw, index) if type_ is Rule else self.convert(raw, type_, (key, index))
            if piece is not None:
                kept.append(piece)
                self.origins[key].append(index)
        return kept

    def _rule(self, raw: Any, index: int) -> Rule | None:
        """A rule with each action checked on its own, so every wrong action is reported."""
        path: Path = ("rules", index)
        raw_actions = raw.get("actions") if isinstance(raw, dict) else None
        if not isinstance(raw_actions, list) or not raw_actions:
            return self.convert(raw, Rule, path)
        actions = [self.convert(action, Action, (*path, "actions", k)) for k, action in enumerate(raw_actions)]
        # the rule's own fields are checked with stand-in actions; its real ones were checked above
        rule = self.convert({**raw, "actions": [_PLACEHOLDER_ACTION] * len(raw_actions)}, Rule, path)
        if rule is None or any(action is None for action in actions):
            return None
        return msgspec.structs.replace(rule, actions=actions)

    def _report(self, error: str, type_: Any, data: Any, path: Path, removed: set[Path]) -> Path | None:
        """Report one msgspec error; return the relative path of the value to drop before retrying."""
        match = _ERROR_RE.match(error)
        message, (relative, in_map) = (
            (match["message"], _parse_path(match["path"] or "")) if match else (error, ((), False))
        )
        if in_map:  # inside a map's values: msgspec does not say which key
            self.sink.at(path + relative, "wrong_type", f"{_humane(message)} (in one of this mapping's values)")
            return None
        full = path + relative
        field = _backquoted(message)
        if message.startswith("Object contains unknown field"):
            known = _field_names(type_, data, relative)
            self.sink.at((*full, field), "unknown_field", _unknown_field_message(field, known), key=True)
            return (*relative, field)
        if message.startswith("Object missing required field"):
            if (*full, field) not in removed:  # not merely the wrong value removed a moment ago
                self.sink.at(full, "missing_field", f"missing required field `{field}`")
            return None
        value = _get(data, relative)
        if relative and relative[-1] == "type" and message.startswith("Invalid value"):
            self.sink.at(
                full, "unknown_action_type", f"unknown action type {value!r}; one of: {', '.join(ACTION_TYPES)}"
            )
            return None
        code = "wrong_type" if message.startswith("Expected `") and ", got `" in message else "invalid_value"
        self.sink.at(full, code, _explain(message, value, _type_at(type_, data, relative)))
        return relative


def _whole(data: dict[str, Any], key: str, kept: list[Any]) -> bool:
    raw = data.get(key) or []
    return isinstance(raw, list) and len(raw) == len(kept)


def _explain(message: str, value: Any, info: Any) -> str:
    text = _humane(message)
    if _is_instant(info):
        return f"expected an RFC 3339 timestamp with an offset, such as 2026-01-01T00:00:00Z, got {value!r}"
    if isinstance(info, inspect.LiteralType):
        return f"{value!r} is not allowed here; one of: {', '.join(map(str, info.values))}"
    if isinstance(value, str) and value.lower() in _YAML_1_1_BOOLEANS and "bool" in message:
        return f"{text}: write true or false ('{value}' is text in YAML 1.2, which bundle files follow)"
    if isinstance(value, bool) and "Expected `str" in message:
        return f'{text}: quote it ("{str(value).lower()}") to write text or a CEL expression'
    if isinstance(value, (int, float)) and not isinstance(value, bool) and "Expected `str" in message:
        return f'{text}: quote the value ("{value}") so it stays text, as amounts and keys are'
    if value is None and "got `null`" in message:
        return f"{text}: the value is empty"
    return text


def _is_instant(info: Any) -> bool:
    """A field read as `engine.model.instants.Instant` (RFC 3339 text), alone or optional."""
    kinds = info.types if isinstance(info, inspect.UnionType) else (info,)
    kinds = tuple(kind.type if isinstance(kind, inspect.Metadata) else kind for kind in kinds)
    return any(isinstance(kind, inspect.StrType) and kind.pattern == RFC3339 for kind in kinds)


def _humane(message: str) -> str:
    message = re.sub(
        r"`([\w |]+)`", lambda m: " or ".join(_KIND_NAMES.get(k.strip(), k.strip()) for k in m[1].split("|")), message
    )
    return message[:1].lower() + message[1:]


def _unknown_field_message(field: str, known: list[str]) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field):
        # `{amount: round(x, 2)}`: in a flow mapping the comma ends the value and `2)` becomes a key
        return (
            f"unknown field '{field}', which does not look like a field name: inside `{{ ... }}` a comma "
            "ends a value, so quote an expression that holds a comma or write the mapping in block style"
        )
    close = difflib.get_close_matches(field, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else f"; known fields: {', '.join(sorted(known))}"
    return f"unknown field '{field}'{hint}"


def _backquoted(message: str) -> str:
    found = re.search(r"`([^`]*)`", message)
    return found[1] if found else ""


def _parse_path(text: str) -> tuple[Path, bool]:
    """msgspec's `$.rules[0].name` as a path; True when it goes on into an unnamed map value."""
    parts: list[str | int] = []
    for match in _PATH_PART_RE.finditer(text):
        if match[0] == "[...]":
            return tuple(parts), True
        parts.append(match[1] if match[1] is not None else int(match[2]))
    return tuple(parts), False


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _copy_plain(value: Any) -> Any:
    """A copy of YAML's plain data to remove wrong keys from. The same as `copy.deepcopy` for
    dicts, lists and scalars (the reader never shares a list or dict between two places), at a
    fraction of its cost."""
    kind = type(value)
    if kind is dict:
        return {key: _copy_plain(item) for key, item in value.items()}
    if kind is list:
        return [_copy_plain(item) for item in value]
    return value


def _remove(data: Any, path: Path) -> bool:
    if not path:
        return False
    parent = _get(data, path[:-1])
    if isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _type_at(type_: Any, data: Any, path: Path) -> Any:
    """The msgspec type info of the value at `path`, following tagged unions by the data's tag."""
    info: inspect.Type | None = inspect.type_info(type_)
    for depth, part in enumerate(path):
        info = _narrow(info, _get(data, path[:depth]))
        if isinstance(info, inspect.StructType) and isinstance(part, str):
            info = next((f.type for f in info.fields if f.encode_name == part), None)
        elif isinstance(info, (inspect.ListType, inspect.SetType)) and isinstance(part, int):
            info = info.item_type
        elif isinstance(info, inspect.DictType):
            info = info.value_type
        else:
            return None
    return _narrow(info, _get(data, path))


def _narrow(info: Any, value: Any) -> Any:
    """Pick the union member a value is meant to be: the struct whose tag it carries, or the only
    struct / list member."""
    if not isinstance(info, inspect.UnionType):
        return info
    members = [t for t in info.types if not isinstance(t, inspect.NoneType)]
    structs = [t for t in members if isinstance(t, inspect.StructType)]
    if isinstance(value, dict):
        for struct in structs:
            if struct.tag_field and value.get(struct.tag_field) == struct.tag:
                return struct
        if len(structs) == 1:
            return structs[0]
    return members[0] if len(members) == 1 else info


def _field_names(type_: Any, data: Any, path: Path) -> list[str]:
    info = _type_at(type_, data, path)
    if isinstance(info, inspect.StructType):
        return [field.encode_name for field in info.fields]
    return []
