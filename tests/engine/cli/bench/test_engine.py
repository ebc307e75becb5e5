from click.testing import CliRunner

from engine.cli import main
from engine.cli.bench.engine import Row, build_bundle, measure, render, sample_events, sample_participant, without_index
from engine.evaluator.evaluate import evaluate_event
from engine.model.state import EvaluationInput
from engine.rules.program import compile_program


def test_programs_have_the_requested_size_and_mostly_guarded_rules():
    program = compile_program(build_bundle(100))
    assert len(program.rules) == 100
    assert len(program.unguarded) == 2  # vip_bonus and frequent read only state
    assert len(build_bundle(3).rules) == 3


def test_the_reference_without_index_gives_the_same_outcomes():
    program = compile_program(build_bundle(60))
    full = without_index(program)
    participant = sample_participant()
    for event in sample_events(12):
        indexed = evaluate_event(program, EvaluationInput(event=event, participant=participant))
        reference = evaluate_event(full, EvaluationInput(event=event, participant=participant))
        assert [(o.rule, o.status) for o in indexed.rules] == [(o.rule, o.status) for o in reference.rules]
        assert indexed.actions == reference.actions


def test_measure_and_render():
    rows = measure(sizes=(10, 20), events=10, repeats=1)
    assert [row.rules for row in rows] == [10, 20]
    assert all(row.indexed_us > 0 and row.full_us > 0 and row.matched >= 1 for row in rows)
    lines = render(rows)
    assert lines[0].split()[0] == "rules" and lines[1].split()[0] == "10"
    assert "1.0x" in lines[1]
    assert Row(rules=1, indexed_us=250.0, full_us=1.0, matched=0).events_per_second == 4000.0


def test_cli_rejects_bad_options():
    result = CliRunner().invoke(main, ["bench", "engine", "--events", "0"])
    assert result.exit_code == 2 and "--events" in result.output
