from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner

from engine.cli import main
from engine.store import operations as ops
from engine.store.db import connect
from engine.store.ledger.hashchain import GENESIS
from engine.store.ledger.verify import verify
from engine.store.models import Account, JournalEntry, LedgerHead, Posting
from tests.engine.world import World


def seed(world, count=3):
    for n in range(count):
        ops.adjust_balance(
            world.org.id,
            world.alice.id,
            program_id=world.program.id,
            asset_id="PTS",
            type="CREDIT",
            amount=str(n + 1),
            description=f"seed {n}",
        )
    return list(JournalEntry.select().order_by(JournalEntry.sequence))


def codes(report):
    return sorted({m.code for m in report.mismatches})


def test_an_intact_ledger_verifies_and_chains_from_genesis(world):
    entries = seed(world)
    report = verify()
    assert report.ok and (report.entries, report.postings) == (3, 6)
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    assert LedgerHead.get_by_id(world.org.id).last_hash == entries[-1].entry_hash


def test_a_tampered_posting_breaks_its_hash_and_the_balance(world):
    entries = seed(world)
    posting = Posting.select().where(Posting.entry == entries[1].id, Posting.amount > 0).get()
    Posting.update(amount=Decimal("99.00")).where(Posting.id == posting.id).execute()
    assert codes(verify()) == ["balance_mismatch", "hash_mismatch", "unbalanced"]


def test_a_rewritten_entry_breaks_the_chain_after_it(world):
    entries = seed(world)
    JournalEntry.update(description="changed", entry_hash="f" * 64).where(JournalEntry.id == entries[0].id).execute()
    report = verify()
    assert codes(report) == ["chain_broken", "hash_mismatch"]
    assert {m.entry_id for m in report.mismatches} == {entries[0].id, entries[1].id}


def test_a_deleted_entry_and_a_drifted_balance_are_named(world):
    entries = seed(world)
    Posting.delete().where(Posting.entry == entries[2].id).execute()
    JournalEntry.delete().where(JournalEntry.id == entries[2].id).execute()
    assert "head_mismatch" in codes(verify()) and "balance_mismatch" in codes(verify())


def test_cli_verify_prints_what_it_checked_and_exits_1_on_a_mismatch(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    empty = runner.invoke(main, ["verify", "--database-url", url])
    assert empty.exit_code == 1 and "accrual db upgrade" in empty.output
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    database = connect(url)
    with database.connection_context():
        world = World()
        seed(world)
    ok = runner.invoke(main, ["verify", "--database-url", url])
    assert ok.exit_code == 0, ok.output
    assert "3 journal entries, 6 postings" in ok.output
    with database.connection_context():
        Account.update(balance=Decimal("1000")).where(Account.entity_id == world.alice.id).execute()
    bad = runner.invoke(main, ["verify", "--database-url", url])
    assert bad.exit_code == 1 and "MISMATCH balance_mismatch" in bad.output
    again = runner.invoke(main, ["db", "upgrade", "--database-url", url])
    assert again.exit_code == 0 and "schema is current" in again.output
    unsupported = runner.invoke(main, ["db", "upgrade", "--database-url", "mysql://x@y/z"])
    assert unsupported.exit_code == 1 and "unsupported_database_url" in unsupported.output
