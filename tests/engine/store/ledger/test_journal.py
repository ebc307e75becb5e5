from __future__ import annotations

from decimal import Decimal

import pytest

from engine.errors import LedgerInvariantError
from engine.store.db import write_transaction
from engine.store.errors import LedgerRejected
from engine.store.ledger.hashchain import entry_document, entry_hash
from engine.store.ledger.journal import Ledger, Leg, parse_amount
from engine.store.models import JournalEntry, Posting


def legs(ledger, world, *amounts, asset=None):
    asset = asset or world.pts
    people = [world.alice, world.bob, world.alice]
    return [
        Leg(
            ledger.accounts.get("PARTICIPANT", people[n].id, asset, "AVAILABLE" if n < 2 else "HELD"),
            asset,
            Decimal(amount),
            allow_negative=True,
        )
        for n, amount in enumerate(amounts)
    ]


@pytest.mark.parametrize(
    ("amounts", "code"),
    [
        (("5",), "ledger_unbalanced"),
        (("5", "-4"), "ledger_unbalanced"),
        (("0", "0"), "ledger_zero_posting"),
        (("0.001", "-0.001"), "ledger_scale"),
    ],
)
def test_entries_that_break_an_invariant_are_never_written(world, amounts, code):
    with pytest.raises(LedgerInvariantError) as info, write_transaction():
        ledger = Ledger(world.org.id)
        ledger.post("ADJUST", legs(ledger, world, *amounts))
    assert info.value.code == code
    assert JournalEntry.select().count() == 0 and Posting.select().count() == 0


def test_a_posting_and_its_account_must_share_the_asset(world):
    with pytest.raises(LedgerInvariantError), write_transaction():
        ledger = Ledger(world.org.id)
        wrong = legs(ledger, world, "1", "-1")
        ledger.post("ADJUST", [Leg(wrong[0].account, world.gem, Decimal(1)), wrong[1]])


def test_three_leg_entries_balance_per_asset_and_chain(world):
    with write_transaction():
        ledger = Ledger(world.org.id)
        first = ledger.post("ADJUST", legs(ledger, world, "-3.00", "1.00", "2.00"))
        second = ledger.post("ADJUST", legs(ledger, world, "1.00", "-1.00"))
        ledger.finish()
    assert second.prev_hash == first.entry_hash and second.sequence == first.sequence + 1
    assert Posting.select().count() == 5


def test_the_in_transaction_recheck_catches_a_balance_written_behind_its_back(world):
    from engine.store.models import Account

    with pytest.raises(LedgerInvariantError) as info, write_transaction():
        ledger = Ledger(world.org.id)
        built = legs(ledger, world, "-1.00", "1.00")
        ledger.post("ADJUST", built)
        Account.update(balance=Decimal("5")).where(Account.id == built[1].account.id).execute()
        ledger.finish()
    assert info.value.code == "ledger_balance_mismatch"
    assert JournalEntry.select().count() == 0


def test_the_proof_holds_the_postings_to_what_the_database_answered(world):
    """`finish` proves the entries from the rows the database returned for its writes: a posting
    stored with another amount, or one missing, is caught."""
    with write_transaction():
        ledger = Ledger(world.org.id)
        ledger.post("ADJUST", legs(ledger, world, "-1.00", "1.00"))
        built = [(p["entry"], p["asset"], p["amount"], p["account"]) for p in ledger._postings]
        balances = list(ledger._balances.items())
        ledger._prove(built, balances)  # the rows as built: proven
        for postings in (built[:1], [built[0], (*built[1][:2], Decimal("0.99"), built[1][3])]):
            with pytest.raises(LedgerInvariantError) as info:
                ledger._prove(postings, balances)
            assert info.value.code == "ledger_postings_mismatch"


def test_parse_amount_accepts_exact_decimals_only(world):
    assert parse_amount("10.5", world.pts) == Decimal("10.50")
    assert parse_amount(3, world.gem) == Decimal(3)
    for bad, code in [
        ("1.5", "invalid_scale"),
        (True, "invalid_amount"),
        ("NaN", "invalid_amount"),
        ("Infinity", "invalid_amount"),
        ("", "invalid_amount"),
    ]:
        with pytest.raises(LedgerRejected) as info:
            parse_amount(bad, world.gem)
        assert info.value.code == code, bad


def test_amounts_have_the_one_integer_digit_cap_of_the_engine(world):
    """Regression: direct operations capped amounts at 20 integer digits, rules and the docs at 24."""
    from engine.limits import AMOUNT_INTEGER_DIGITS_MAX

    widest = "9" * AMOUNT_INTEGER_DIGITS_MAX
    assert parse_amount(widest, world.gem) == Decimal(widest)
    with pytest.raises(LedgerRejected) as info:
        parse_amount("1" + "0" * AMOUNT_INTEGER_DIGITS_MAX, world.gem)
    assert info.value.code == "invalid_amount"


def test_the_hash_built_from_new_rows_equals_the_hash_of_the_stored_rows(world):
    with write_transaction():
        ledger = Ledger(world.org.id)
        entry = ledger.post(
            "ADJUST",
            legs(ledger, world, "-3.00", "1.00", "2.00"),
            description='é "quoted"',
            reference_id="ref-1",
            rule_version=2,
        )
        ledger.finish()
    stored = JournalEntry.get_by_id(entry.id)
    postings = list(Posting.select().where(Posting.entry == entry.id))
    assert entry_hash(entry_document(stored, postings)) == stored.entry_hash == entry.entry_hash
    assert (stored.description, stored.reference_id, stored.rule_version) == ('é "quoted"', "ref-1", 2)


def test_an_unknown_entry_field_is_refused_before_anything_is_written(world):
    with pytest.raises(TypeError, match="colour"), write_transaction():
        ledger = Ledger(world.org.id)
        ledger.post("ADJUST", legs(ledger, world, "-1.00", "1.00"), colour="red")
    assert JournalEntry.select().count() == 0
