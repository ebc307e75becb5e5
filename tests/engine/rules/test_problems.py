from dsl.errors import DslNameError
from engine.rules.problems import Problem, ProblemSink
from engine.rules.yaml_source import parse_yaml

SOURCE = "rules:\n  - name: a\n  - name: b\n    condition: >-\n      x &&\n        yy\n"


def sink():
    return ProblemSink("f.yaml", parse_yaml(SOURCE))


def test_format_reads_file_line_column_severity_code():
    problem = Problem(
        file="f.yaml", line=2, column=7, code="unused_asset", message="no rule uses 'X'", severity="warning"
    )
    assert problem.format() == "f.yaml:2:7: warning unused_asset: no rule uses 'X'"


def test_the_same_problem_is_kept_once():
    problems = sink()
    problems.at(("rules", 0, "name"), "X", "m")
    problems.at(("rules", 0, "name"), "X", "m")
    assert len(problems.problems) == 1 and problems.error_count == 1


def test_paths_into_the_bundle_map_back_to_the_file():
    problems = sink()
    problems.origins = {"rules": [1]}  # the bundle kept only the file's second rule
    assert problems.in_file(("rules", 0, "condition")) == ("rules", 1, "condition")
    problems.at(("rules", 0, "name"), "X", "m")
    assert (problems.problems[0].line, problems.problems[0].column) == (3, 11)


def test_expression_error_by_offset_or_by_line_and_column():
    by_offset = sink()
    by_offset.expression_error(
        ("rules", 1, "condition"), DslNameError("unknown variable 'yy'", offset=7, suggestion="x")
    )
    [problem] = by_offset.problems
    assert (problem.line, problem.column, problem.code) == (6, 9, "DSL_UNKNOWN_NAME")
    assert problem.message == "unknown variable 'yy' (did you mean 'x'?)"
    by_line = sink()
    by_line.expression_error(("rules", 1, "condition"), DslNameError("unknown variable 'yy'", line=2, column=3))
    assert (by_line.problems[0].line, by_line.problems[0].column) == (6, 9)


def test_expression_error_without_a_position_points_at_the_field():
    problems = sink()
    problems.expression_error(("rules", 1, "condition"), DslNameError("oops"))
    assert (problems.problems[0].line, problems.problems[0].column) == (4, 16)


def test_sorted_puts_errors_before_warnings_on_one_place():
    problems = sink()
    problems.at_line(3, 1, "W", "w", severity="warning")
    problems.at_line(3, 1, "E", "e")
    problems.at_line(1, 1, "F", "f", severity="warning")
    assert [p.code for p in problems.sorted()] == ["F", "E", "W"]
