from __future__ import annotations

import pytest

from engine.cli.bench.ledger import Figure, measure, render
from tests.databases import NO_POSTGRES, postgres_url


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
    assert figure.statements == 17
    assert figure.round_trips == figure.statements  # SQLite has no pipeline: one statement, one trip
    assert 0 < figure.ratio == figure.events_per_second / figure.raw_per_second


def test_render_shows_every_figure():
    lines = render(
        [
            Figure("sqlite", 100, 900.0, 9000.0, 20, 3000.0, True, 20),
            Figure("postgresql", 100, 300.0, 6000.0, 21, 600.0, False, 12),
        ]
    )
    assert lines[1].split() == ["sqlite", "100", "900", "9,000", "0.10", "20", "20", "3,000", "ok"]
    assert lines[2].split()[-3:] == ["12", "600", "MISMATCH"]


@pytest.mark.postgres
def test_postgresql_sends_an_event_s_final_writes_in_one_round_trip():
    url = postgres_url()
    if url is None:
        pytest.skip(NO_POSTGRES)
    (_, figure) = measure(12, url)
    assert figure.backend == "postgresql" and figure.verified
    # the evaluation record, the entry, its postings, the balances, the re-check, the head, the
    # state history and the event's status: eight statements, one round trip
    assert figure.round_trips == figure.statements - 6
