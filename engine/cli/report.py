"""What `accrual check` and `accrual test` print: plain lines that read well in a terminal and in
CI logs, each problem prefixed with `file:line:col:` so editors and CI annotate the right place.

    rules_examples/coffee.yaml:14:18: error DSL_UNKNOWN_NAME: unknown variable 'evnt' (did you mean 'event'?)
        condition: evnt.type == "purchase"
                   ^
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from engine.evaluator.automation_cases import run_automation_tests
from engine.evaluator.cases import run_test_cases
from engine.rules.loader import LoadedBundle, load_bundle
from engine.rules.problems import Problem

Style = Callable[..., str]  # click.style-compatible: style(text, fg=..., bold=...)


def plain(text: str, **_: object) -> str:
    return text


@dataclass
class Report:
    """Lines to print and the exit code the command should end with."""

    lines: list[str] = field(default_factory=list)
    exit_code: int = 0


def check_files(paths: Iterable[str], *, strict: bool = False, style: Style = plain) -> Report:
    """Load and analyse each file. Exit code 1 when any file has an error (or, with `strict`, a
    warning); every problem of every file is listed either way."""
    report, errors, warnings, files = Report(), 0, 0, 0
    for path in paths:
        files += 1
        loaded = load_bundle(path)
        report.lines.extend(problem_lines(loaded, style))
        errors, warnings = errors + len(loaded.errors), warnings + len(loaded.warnings)
    failed = errors > 0 or (strict and warnings > 0)
    report.exit_code = 1 if failed else 0
    summary = f"checked {files} file{'s' * (files != 1)}: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
    if strict and warnings and not errors:
        summary += " (--strict: warnings fail the check)"
    report.lines.append(style(summary, fg="red" if failed else "green", bold=True))
    return report


def run_test_files(paths: Iterable[str], *, verbose: bool = False, style: Style = plain) -> Report:
    """Run each file's test cases. Exit code 1 when a file does not load or a case fails."""
    report, passed, failed, broken = Report(), 0, 0, 0
    for path in paths:
        loaded = load_bundle(path)
        report.lines.extend(problem_lines(loaded, style, warnings=False))
        if not loaded.ok:
            broken += 1
            continue
        results = run_test_cases(loaded) + run_automation_tests(loaded)
        if not results:
            report.lines.append(style(f"{path}: no test cases", fg="yellow"))
        for result in results:
            if result.passed:
                passed += 1
                if verbose:
                    report.lines.append(f"{style('PASS', fg='green')} {path}: {result.name}")
                continue
            failed += 1
            report.lines.append(f"{style('FAIL', fg='red', bold=True)} {_where(loaded, result.name)}: {result.name}")
            report.lines.extend(f"    {line}" for line in result.diff)
    report.exit_code = 1 if failed or broken else 0
    summary = f"{_count(passed, 'test')} passed, {failed} failed"
    if broken:
        summary += f", {_count(broken, 'file')} with errors"
    report.lines.append(style(summary, fg="red" if report.exit_code else "green", bold=True))
    return report


def problem_lines(loaded: LoadedBundle, style: Style = plain, *, warnings: bool = True) -> list[str]:
    """Each problem as `file:line:col: severity CODE: message`, then its source line and a caret."""
    lines: list[str] = []
    source = loaded.document.source.splitlines() if loaded.document is not None else []
    for problem in loaded.problems:
        if problem.severity == "warning" and not warnings:
            continue
        lines.append(_headline(problem, style))
        if 0 < problem.line <= len(source):
            text = source[problem.line - 1]
            lines.append(f"    {text}")
            lines.append("    " + _caret_padding(text, problem.column) + style("^", fg="cyan"))
    return lines


def _headline(problem: Problem, style: Style) -> str:
    colour = "red" if problem.severity == "error" else "yellow"
    where = f"{problem.file}:{problem.line}:{problem.column}:"
    return (
        f"{style(where, bold=True)} {style(problem.severity, fg=colour, bold=True)} {problem.code}: {problem.message}"
    )


def _caret_padding(text: str, column: int) -> str:
    # keep tabs so the caret lines up under the same character in any terminal
    return "".join(char if char == "\t" else " " for char in text[: max(column - 1, 0)])


def _where(loaded: LoadedBundle, case_name: str) -> str:
    """`file:line` of a test case's name, so a failure points at its case."""
    document = loaded.document
    if document is None:
        return loaded.filename
    for section in ("tests", "automation_tests"):
        cases = document.data.get(section) if isinstance(document.data, dict) else None
        for index, case in enumerate(cases if isinstance(cases, list) else []):
            if isinstance(case, dict) and case.get("name") == case_name:
                position = document.position((section, index))
                if position is not None:
                    return f"{loaded.filename}:{position.line}"
    return loaded.filename


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"
