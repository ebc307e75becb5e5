from __future__ import annotations

from click.testing import CliRunner

from engine.cli.bench.backtest import Figure, measure, render
from engine.cli.bench.commands import bench


def test_bench_backtest_replays_a_recorded_history_beside_the_pure_rate(tmp_path):
    figure = measure(events=40, directory=tmp_path)
    assert figure.events == 40 and figure.reproduced and figure.changed_events > 0
    assert figure.record_s > 0 and figure.replay_s > 0 and figure.pure_s > 0
    assert figure.ratio == figure.replayed_per_second / figure.evaluated_per_second


def test_render_shows_every_figure():
    header, row = render(
        Figure(events=2000, record_s=17.7, replay_s=2.0, pure_s=0.4, reproduced=False, changed_events=9)
    )
    assert header.split()[:4] == ["events", "record", "s", "replay"]
    assert row.split() == ["2000", "17.7", "2.00", "1,000", "5,000", "0.20", "NO", "9"]


def test_the_command_prints_the_table():
    result = CliRunner().invoke(bench, ["backtest", "--events", "12"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split()[0] == "12"
