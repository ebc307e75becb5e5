from __future__ import annotations

from click.testing import CliRunner

from engine.cli.bench.commands import bench
from engine.cli.bench.sweep import Figure, measure, render


def test_bench_sweep_expires_every_lot_beside_the_reference_update_and_verifies():
    (figure,) = measure(lots=30, per_holder=3)
    assert (figure.backend, figure.lots, figure.holders, figure.verified) == ("sqlite", 30, 10, True)
    assert figure.setup_s > 0 and figure.sweep_s > 0 and figure.update_s > 0
    assert figure.expired_per_second == 30 / figure.sweep_s and figure.updated_per_second == 30 / figure.update_s
    assert 0 < figure.ratio == figure.expired_per_second / figure.updated_per_second


def test_render_shows_every_figure():
    lines = render([Figure("sqlite", 20000, 2000, 12.0, 10.0, 0.5, True), Figure("postgresql", 20, 2, 1, 2, 1, False)])
    assert lines[0].split() == [
        "database",
        "lots",
        "holders",
        "setup",
        "s",
        "sweep",
        "s",
        "expired/s",
        "UPDATE",
        "rows/s",
        "ratio",
        "verify",
    ]
    assert lines[1].split() == ["sqlite", "20000", "2000", "12.0", "10.0", "2,000", "40,000", "0.0500", "ok"]
    assert lines[2].split()[-1] == "MISMATCH"


def test_the_command_prints_the_table():
    result = CliRunner().invoke(bench, ["sweep", "--lots", "12", "--per-holder", "4"], env={"TEST_POSTGRES_URL": ""})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[0] == "database" and lines[1].split()[:3] == ["sqlite", "12", "3"]
    assert lines[1].split()[-1] == "ok"
