from __future__ import annotations

from engine.cli.bench.ledger import Figure, measure, render


def test_bench_ledger_measures_posting_beside_raw_inserts_and_verifies():
    (figure,) = measure(12)
    assert figure.backend == "sqlite" and figure.events == 12 and figure.verified
    assert figure.events_per_second > 0 and figure.raw_per_second > 0 and figure.raw_same_count_per_second > 0
    # BEGIN, the event's reads and writes, the ledger's re-checks and COMMIT: far more than one
    assert 10 <= figure.statements <= 40
    # pinned, so a change that adds a statement to the hot path is noticed: BEGIN, the event with
    # the ledger head, the evaluation record, the participant, the asset, both accounts, the
    # entry, its postings, the balances, the counter (read, update), the tag, the re-check, the
    # head, the state history, the program's THRESHOLD automations watching the counter (A224), the
    # event's status, COMMIT
    assert figure.statements == 18
    assert 0 < figure.ratio == figure.events_per_second / figure.raw_per_second


def test_render_shows_every_figure():
    lines = render(
        [
            Figure("sqlite", 100, 900.0, 9000.0, 20, 3000.0, True),
            Figure("postgresql", 100, 300.0, 6000.0, 21, 600.0, False),
        ]
    )
    assert lines[1].split() == ["sqlite", "100", "900", "9,000", "0.10", "20", "3,000", "ok"]
    assert lines[2].split()[-1] == "MISMATCH"
