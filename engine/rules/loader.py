"""Load a program bundle file: YAML -> checked `Bundle` -> `CompiledProgram`, with every problem.

Loading never stops at the first problem. It reads the YAML (`engine.rules.yaml_source`), checks the
schema piece by piece (the program, each asset, tier, rule, action and test case) so that one
wrong piece does not hide the others, checks names across pieces (`engine.rules.references`), compiles
every expression, and, when all that passed, runs the static analysis (`engine.rules.analysis`). Each
problem carries the file, line and column it is about and a stable code.
"""

from __future__ import annotations

import difflib
from pathlib import Path as FilePath

import msgspec

from engine.errors import EngineError
from engine.model.bundle import Bundle
from engine.model.calendar import time_zone_problem
from engine.rules import analysis, references
from engine.rules.automations import compile_automations
from engine.rules.event_types import declared_event_types
from engine.rules.problems import Problem, ProblemSink
from engine.rules.problems import text_at as _text_at
from engine.rules.program import CompiledProgram, ProgramCompileError, compile_program
from engine.rules.schema_check import SchemaChecker
from engine.rules.type_check import check_program_types
from engine.rules.yaml_source import YamlDocument, parse_yaml

__all__ = ["LoadedBundle", "Problem", "load_bundle", "load_bundle_text"]

_REFERENCE_CODES = frozenset({"unknown_asset", "unknown_tier", "unknown_tier_level"})


class LoadedBundle(msgspec.Struct, kw_only=True):
    """What loading a bundle gave.

    `bundle` is None only when the file is not a YAML mapping with a valid `program`; otherwise it
    holds every piece that passed the schema check. `program` is set only when there is no error.
    """

    filename: str
    bundle: Bundle | None
    program: CompiledProgram | None = None
    problems: list[Problem] = msgspec.field(default_factory=list)
    document: YamlDocument | None = None  # for tools that map positions further (the playground)

    @property
    def ok(self) -> bool:
        return not any(problem.severity == "error" for problem in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "warning"]


def load_bundle(path: str | FilePath) -> LoadedBundle:
    """Read and load a bundle file. An unreadable file is a `file_unreadable` problem, not an exception.

    Example: `load_bundle("rules_examples/coffee_stamps.yaml").ok` is True.
    """
    filename = str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problem = Problem(
            file=filename, line=1, column=1, code="file_unreadable", message=f"cannot read the file: {reason}"
        )
        return LoadedBundle(filename=filename, bundle=None, problems=[problem])
    return load_bundle_text(text, filename=filename)


def load_bundle_text(text: str, filename: str = "<bundle>") -> LoadedBundle:
    """Load a bundle from YAML text.

    Example:
        >>> loaded = load_bundle_text("program: {key: demo, name: Demo}\\n")
        >>> loaded.ok, loaded.bundle.program.key
        (True, 'demo')
    """
    document = parse_yaml(text)
    sink = ProblemSink(filename, document)
    for issue in document.issues:
        sink.at_line(issue.line, issue.column, issue.code, issue.message, severity=issue.severity)
    if document.data is None and not document.issues:
        sink.at_line(1, 1, "empty_bundle", "the file is empty; a bundle needs at least a `program` section")
    bundle, program = None, None
    if document.data is not None and not _has_fatal_yaml_issue(document):
        checker = SchemaChecker(document, sink)
        bundle = checker.check()
        # the bundle may lack pieces that failed the check: map its indexes back to the file's
        sink.origins = checker.origins
        if bundle is not None:
            references.check(bundle, sink, declared=checker.declared)
            _check_declarations(bundle, sink)
            program = _compile(bundle, sink, _dropped_names(bundle, checker.declared))
            if program is not None:
                _check_types(program, sink)
            _check_automations(bundle, sink)
        if not checker.program_ok:
            bundle = None
    loaded = LoadedBundle(filename=filename, bundle=bundle, document=document, program=program)
    if bundle is not None and program is not None and sink.error_count == 0:
        analysis.analyze(bundle, program, sink)
    loaded.problems = sink.sorted()
    if not loaded.ok:
        loaded.program = None
    return loaded


def _check_declarations(bundle: Bundle, sink: ProblemSink) -> None:
    """The `events:` declarations and the program's time zone (D32)."""
    _, problems = declared_event_types(bundle.events)
    for problem in problems:
        sink.at(("events", *problem.path), problem.code, problem.message)
    zone_problem = time_zone_problem(bundle.program.timezone)
    if zone_problem is not None:
        sink.at(("program", "timezone"), "unknown_timezone", zone_problem)


def _check_automations(bundle: Bundle, sink: ProblemSink) -> None:
    """Each automation's trigger, scope, schedule and expressions (`engine.rules.automations`)."""
    _, problems = compile_automations(bundle.automations, bundle.program.timezone)
    for problem in problems:
        sink.expression_error(problem.path, problem.error)
    names = [automation.name for automation in bundle.automations]
    for index, case in enumerate(bundle.automation_tests):
        if case.automation not in names:
            hint = difflib.get_close_matches(case.automation, names, n=1)
            message = f"unknown automation {case.automation!r}" + (f"; did you mean '{hint[0]}'?" if hint else "")
            sink.at(("automation_tests", index, "automation"), "unknown_automation", message)


def _check_types(program: CompiledProgram, sink: ProblemSink) -> None:
    report = check_program_types(program)
    for problem in report.errors:
        sink.expression_error(problem.path, problem.error)
    for problem in report.warnings:
        sink.expression_error(problem.path, problem.error, severity="warning")


def _has_fatal_yaml_issue(document: YamlDocument) -> bool:
    return any(issue.code in ("yaml_syntax", "yaml_too_large") for issue in document.issues)


def _dropped_names(bundle: Bundle, declared: dict[str, set[str]]) -> set[str]:
    """Asset symbols and tier keys the file declares in pieces that failed the schema check."""
    kept = {asset.symbol for asset in bundle.assets} | {tier.key for tier in bundle.tiers}
    return (declared.get("assets", set()) | declared.get("tiers", set())) - kept


def _compile(bundle: Bundle, sink: ProblemSink, dropped: set[str]) -> CompiledProgram | None:
    try:
        return compile_program(bundle)
    except ProgramCompileError as exc:
        for problem in exc.problems:
            path = sink.in_file(tuple(problem.path))
            # naming an asset or tier whose own declaration is wrong is not a second problem
            if problem.error.code in _REFERENCE_CODES and _text_at(sink.document.data, path) in dropped:
                continue
            sink.expression_error(path, problem.error, mapped=True)
        return None
    except EngineError as exc:  # a bound of engine/limits.py, such as the number of rules
        sink.at(("rules",), exc.code, exc.message)
        return None
