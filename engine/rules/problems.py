"""Problems found in a bundle file, each placed at a file, line and column with a stable code.

    >>> Problem(file="a.yaml", line=3, column=5, code="unknown_field", message="...").format()
    'a.yaml:3:5: error unknown_field: ...'

Codes (stable once published):

    errors     reading       file_unreadable, empty_bundle, yaml_syntax, yaml_too_large, yaml_tag,
                             yaml_key, yaml_merge_key, duplicate_key
               schema        unknown_field, missing_field, wrong_type, invalid_value, unknown_action_type
               names         duplicate_asset, duplicate_tier, duplicate_tier_level, duplicate_test_name,
                             unknown_asset, unknown_tier, unknown_tier_level, unknown_rule
               compiling     the codes of engine.rules.program (duplicate_rule_name, invalid_duration,
                             invalid_scale, LIMIT_*, ...) and of the rule language (DSL_SYNTAX, ...)
    warnings   octal_looking_number, unreachable_rule, duplicate_order, unused_asset,
               constant_condition, budget_without_credit
"""

from __future__ import annotations

import msgspec

from engine.rules.yaml_source import Path, Severity, YamlDocument


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One problem of a bundle file. `line` and `column` are 1-based."""

    file: str
    line: int
    column: int
    code: str
    message: str
    severity: Severity = "error"

    def format(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity} {self.code}: {self.message}"


class ProblemSink:
    """Collects problems and turns paths in the data (or offsets inside an expression) into
    positions in the file."""

    def __init__(self, filename: str, document: YamlDocument) -> None:
        self.filename, self.document = filename, document
        self.problems: list[Problem] = []
        # section -> file index of each item kept in the Bundle (pieces failing the schema are left out)
        self.origins: dict[str, list[int]] = {}

    @property
    def error_count(self) -> int:
        return sum(1 for problem in self.problems if problem.severity == "error")

    def at_line(self, line: int, column: int, code: str, message: str, *, severity: Severity = "error") -> None:
        problem = Problem(file=self.filename, line=line, column=column, code=code, message=message, severity=severity)
        if problem not in self.problems:
            self.problems.append(problem)

    def at(self, path: Path, code: str, message: str, *, severity: Severity = "error", key: bool = False) -> None:
        """A problem about the value at `path` (or about its key, with `key=True`)."""
        self._at_file_path(self.in_file(path), code, message, severity=severity, key=key)

    def _at_file_path(
        self, path: Path, code: str, message: str, *, severity: Severity = "error", key: bool = False
    ) -> None:
        position = self.document.key_positions.get(path) if key else None
        position = position or self.document.position(path)
        line, column = (position.line, position.column) if position else (1, 1)
        self.at_line(line, column, code, message, severity=severity)

    def expression_error(
        self, path: Path, error: object, *, mapped: bool = False, severity: Severity = "error"
    ) -> None:
        """A rule-language error inside the expression at `path`, placed where it is in the file.
        `mapped` says the path already uses the file's indexes (see `in_file`)."""
        path = path if mapped else self.in_file(path)
        code = str(getattr(error, "code", "DSL"))
        message = str(getattr(error, "message", error))
        suggestion = getattr(error, "suggestion", None)
        if suggestion:
            message += f" (did you mean '{suggestion}'?)"
        offset = _offset_in_expression(error, text_at(self.document.data, path))
        index = self.document.scalar_index(path, offset) if offset is not None else None
        if index is None:
            self._at_file_path(path, code, message, severity=severity)
            return
        line, column = self.document.line_column(index)
        self.at_line(line, column, code, message, severity=severity)

    def in_file(self, path: Path) -> Path:
        """A path into the Bundle (which lacks pieces failing the schema) as a path into the file."""
        kept = self.origins.get(path[0]) if len(path) > 1 and isinstance(path[0], str) else None
        if kept is not None and isinstance(path[1], int) and 0 <= path[1] < len(kept):
            return (path[0], kept[path[1]], *path[2:])
        return path

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line, p.column, p.severity != "error", p.code))


def text_at(data: object, path: Path) -> str | None:
    """The string at `path` in plain data (nested dicts and lists), or None."""
    for part in path:
        if isinstance(data, dict):
            if part not in data:
                return None
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and -len(data) <= part < len(data):
            data = data[part]
        else:
            return None
    return data if isinstance(data, str) else None


def _offset_in_expression(error: object, text: str | None) -> int | None:
    """The 0-based offset of an error in its expression: `offset` when given, else from line/column."""
    offset = getattr(error, "offset", None)
    if isinstance(offset, int):
        return offset
    line, column = getattr(error, "line", None), getattr(error, "column", None)
    if text is None or not isinstance(line, int) or not isinstance(column, int):
        return None
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return None
    return sum(len(previous) + 1 for previous in lines[: line - 1]) + column - 1
