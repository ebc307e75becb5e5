from __future__ import annotations

from decimal import Decimal

import pytest

from engine.store import groups
from engine.store import operations as ops
from engine.store.errors import Conflict, LedgerRejected, NotFound
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.verify import verify
from engine.store.models import Account, Asset, LotRecord, Organisation, Participant, ProgramAsset


def credit(world, amount="10", **extra):
    return ops.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id="PTS",
        type="CREDIT",
        amount=amount,
        description="goodwill",
        **extra,
    )


def test_credit_and_debit_move_value_through_system_issuance(world):
    result = credit(world, "10.5")
    assert result.balance.available == Decimal("10.50") and result.amount == Decimal("10.50")
    debit = ops.adjust_balance(
        world.org.id,
        world.alice.id,
        program_id=world.program.id,
        asset_id=world.pts.id,
        type="DEBIT",
        amount="0.50",
        description="fix",
    )
    assert debit.balance.available == Decimal("10.00")
    assert verify().ok


def test_debit_beyond_the_balance_needs_allow_negative(world):
    credit(world, "1")
    request = {"program_id": world.program.id, "asset_id": "PTS", "type": "DEBIT", "amount": "3", "description": "x"}
    with pytest.raises(LedgerRejected) as info:
        ops.adjust_balance(world.org.id, world.alice.id, **request)
    assert info.value.code == "insufficient_funds"
    result = ops.adjust_balance(world.org.id, world.alice.id, allow_negative=True, **request)
    assert result.balance.available == Decimal("-2.00")
    assert verify().ok


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("1.001", "invalid_scale"),
        ("0", "invalid_amount"),
        ("-1", "invalid_amount"),
        ("abc", "invalid_amount"),
        (1.5, "invalid_amount"),
        ("1e30", "invalid_amount"),
    ],
)
def test_bad_amounts_are_rejected_with_stable_codes(world, amount, code):
    with pytest.raises(LedgerRejected) as info:
        credit(world, amount)
    assert info.value.code == code


def test_max_transaction_amount_caps_each_movement(world):
    world.pts.max_transaction_amount = Decimal("5")
    world.pts.save()
    with pytest.raises(LedgerRejected) as info:
        credit(world, "5.01")
    assert info.value.code == "max_transaction_amount_exceeded"
    assert credit(world, "5").balance.available == Decimal("5.00")


def test_prefunded_credits_draw_from_the_wallet_and_fail_when_it_is_empty(world):
    request = {"program_id": world.program.id, "asset_id": "GEM", "type": "CREDIT", "amount": "3", "description": "x"}
    with pytest.raises(LedgerRejected) as info:
        ops.adjust_balance(world.org.id, world.alice.id, **request)
    assert info.value.code == "insufficient_wallet"
    funded = ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="5")
    assert funded.available == Decimal("5") and funded.message == "Program funded successfully"
    assert ops.adjust_balance(world.org.id, world.alice.id, **request).balance.available == Decimal("3")
    burned = ops.burn_program(world.org.id, world.program.id, asset_id="GEM", amount="2")
    assert burned.available == Decimal("0")
    with pytest.raises(LedgerRejected):
        ops.burn_program(world.org.id, world.program.id, asset_id="GEM", amount="1")
    with pytest.raises(LedgerRejected) as info:
        ops.fund_program(world.org.id, world.program.id, asset_id="PTS", amount="1")
    assert info.value.code == "asset_not_prefunded"
    assert verify().ok


def test_hold_release_forfeit_move_between_buckets(world):
    credit(world, "10")
    base = {"program_id": world.program.id, "asset_id": "PTS", "description": "order 1"}
    held = ops.hold(world.org.id, world.alice.id, amount="4", **base)
    assert (held.balance.available, held.balance.held) == (Decimal("6.00"), Decimal("4.00"))
    released = ops.release(world.org.id, world.alice.id, amount="1", **base)
    assert released.balance.held == Decimal("3.00") and released.operation == "RELEASE"
    forfeited = ops.forfeit(world.org.id, world.alice.id, bucket="HELD", **base)
    assert forfeited.amount_processed == Decimal("3.00") and forfeited.balance.held == Decimal("0.00")
    with pytest.raises(LedgerRejected) as info:
        ops.hold(world.org.id, world.alice.id, amount="100", **base)
    assert info.value.code == "insufficient_funds"
    assert verify().ok


def test_idempotency_key_replays_the_answer_and_rejects_a_different_request(world):
    credit(world, "10")
    base = {"program_id": world.program.id, "asset_id": "PTS", "description": "order 1", "idempotency_key": "k1"}
    first = ops.hold(world.org.id, world.alice.id, amount="4", **base)
    again = ops.hold(world.org.id, world.alice.id, amount="4", **base)
    assert again == first
    with pytest.raises(Conflict) as info:
        ops.hold(world.org.id, world.alice.id, amount="5", **base)
    assert info.value.code == "idempotency_conflict"
    assert ops.hold(
        world.org.id, world.alice.id, amount="1", **{**base, "idempotency_key": "k2"}
    ).balance.held == Decimal("5.00")


def test_inactive_participants_and_foreign_ids(world):
    Participant.update(status="SUSPENDED").where(Participant.id == world.alice.id).execute()
    with pytest.raises(Conflict) as info:
        credit(world)
    assert info.value.code == "participant_inactive"
    Participant.update(status="CLOSED").where(Participant.id == world.alice.id).execute()
    with pytest.raises(LedgerRejected) as info:  # forfeit is allowed on CLOSED; here there is nothing
        ops.forfeit(
            world.org.id,
            world.alice.id,
            program_id=world.program.id,
            asset_id="PTS",
            bucket="AVAILABLE",
            description="close",
        )
    assert info.value.code == "insufficient_funds"
    other = Organisation.create(name="other")
    with pytest.raises(NotFound):
        ops.adjust_balance(
            other.id,
            world.bob.id,
            program_id=world.program.id,
            asset_id="PTS",
            type="CREDIT",
            amount="1",
            description="x",
        )


def test_concurrent_requests_with_one_idempotency_key_hold_once(world, db):
    import threading

    credit(world, "10")
    base = {"program_id": world.program.id, "asset_id": "PTS", "description": "order 9", "idempotency_key": "same"}
    answers, errors = [], []

    def send():
        try:
            with db.connection_context():
                answers.append(ops.hold(world.org.id, world.alice.id, amount="2", **base))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({answer.journal_entry_id for answer in answers}) == 1
    assert ops.release(
        world.org.id, world.alice.id, program_id=world.program.id, asset_id="PTS", description="r"
    ).amount_processed == Decimal("2.00")


def test_on_applied_sees_each_fresh_change_inside_its_transaction(world):
    seen: list[ops.Applied] = []
    credit(world, "10", on_applied=seen.append)
    base = {"program_id": world.program.id, "asset_id": "PTS", "description": "order 2", "on_applied": seen.append}
    ops.hold(world.org.id, world.alice.id, amount="4", reference_id="o2", idempotency_key="h", **base)
    ops.hold(world.org.id, world.alice.id, amount="4", reference_id="o2", idempotency_key="h", **base)  # replay
    ops.release(world.org.id, world.alice.id, **base)
    ops.forfeit(world.org.id, world.alice.id, bucket="AVAILABLE", amount="1", **base)
    ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="5", on_applied=seen.append)
    ops.burn_program(world.org.id, world.program.id, asset_id="GEM", amount="2", on_applied=seen.append)
    assert [(a.operation, a.amount, a.bucket, a.reference_id) for a in seen] == [
        ("CREDIT", Decimal("10.00"), "AVAILABLE", None),
        ("HOLD", Decimal("4.00"), "HELD", "o2"),
        ("RELEASE", Decimal("4.00"), "AVAILABLE", None),
        ("FORFEIT", Decimal("1.00"), "AVAILABLE", None),
        ("FUND", Decimal("5"), None, None),
        ("BURN", Decimal("2"), None, None),
    ]
    assert all(a.participant.id == world.alice.id for a in seen[:4]) and seen[4].participant is None
    assert seen[1].result.balance.held == Decimal("4.00") and seen[5].result.available == Decimal("3")
    assert {a.program.id for a in seen} == {world.program.id} and seen[4].asset.symbol == "GEM"


def test_a_failing_hook_rolls_the_change_back(world):
    class Refused(Exception):
        pass

    def refuse(applied: ops.Applied) -> None:
        raise Refused(applied.operation)

    credit(world, "10")
    with pytest.raises(Refused):
        credit(world, "5", on_applied=refuse)
    base = {"program_id": world.program.id, "asset_id": "PTS", "description": "order 3"}
    with pytest.raises(Refused):
        ops.hold(world.org.id, world.alice.id, amount="4", idempotency_key="k", on_applied=refuse, **base)
    with pytest.raises(Refused):
        ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="5", on_applied=refuse)
    # Nothing of the refused calls stayed, not even the idempotency record: the key is still free.
    held = ops.hold(world.org.id, world.alice.id, amount="1", idempotency_key="k", **base)
    assert (held.balance.available, held.balance.held) == (Decimal("9.00"), Decimal("1.00"))
    assert ops.fund_program(world.org.id, world.program.id, asset_id="GEM", amount="1").available == Decimal("1")
    assert verify().ok


# --- a group as the owner: its accounts are kept per program ---------------------------------------


@pytest.fixture
def group(world):
    return groups.create_group(world.org.id, "Smiths", [groups.Member(world.alice.id, "ADMIN")])


def group_op(world, group, operation, **request):
    fields = {"program_id": world.program.id, "asset_id": "PTS", "description": "family", **request}
    return getattr(ops, operation)(world.org.id, group.id, owner_type="GROUP", **fields)


def test_a_group_is_adjusted_held_released_and_forfeited_in_its_program(world, group):
    credited = group_op(world, group, "adjust_balance", type="CREDIT", amount="50")
    assert credited.message == "Group balance adjusted successfully" and credited.balance.available == Decimal("50.00")
    assert group_op(world, group, "hold", amount="20").balance.held == Decimal("20.00")
    assert group_op(world, group, "release", amount="5").balance.available == Decimal("35.00")
    assert group_op(world, group, "forfeit", amount="10", bucket="AVAILABLE").balance.available == Decimal("25.00")
    assert balances_of("GROUP", group.id, None, world.program.id)[world.pts.id].held == Decimal("15.00")
    assert balances_of("GROUP", group.id) == {}  # never organisation-wide, unlike a participant's
    assert balances_of("PARTICIPANT", world.alice.id) == {}  # the members' own balances are untouched
    assert verify().ok


def test_held_group_funds_are_not_forfeited_until_released(world, group):
    group_op(world, group, "adjust_balance", type="CREDIT", amount="5", bucket="HELD")
    with pytest.raises(LedgerRejected) as info:
        group_op(world, group, "forfeit", bucket="HELD")
    assert info.value.code == "bad_request"


def test_an_archived_or_foreign_group_is_not_changed(world, group):
    with pytest.raises(NotFound):
        ops.hold(world.org.id, world.alice.id, owner_type="GROUP", program_id=world.program.id, asset_id="PTS",
                 description="x")  # fmt: skip
    groups.archive_group(world.org.id, group.id)
    with pytest.raises(Conflict) as info:
        group_op(world, group, "adjust_balance", type="CREDIT", amount="5")
    assert info.value.code == "group_archived"


def test_group_operations_on_a_lot_asset_move_the_groups_lots(world, group):
    miles = Asset.create(organisation=world.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=world.program, asset=miles)
    group_op(world, group, "adjust_balance", asset_id="MILES", type="CREDIT", amount="30")
    held = group_op(world, group, "hold", asset_id="MILES", amount="12", reference_id="trip")
    assert [lot.amount for lot in held.lots_processed] == [Decimal(12)]
    released = group_op(world, group, "release", asset_id="MILES", reference_id="trip")
    assert released.amount_processed == Decimal(12)
    lots = LotRecord.select().where(LotRecord.entity_type == "GROUP", LotRecord.entity_id == group.id)
    assert sum(lot.remaining for lot in lots) == Decimal(30)
    assert verify().ok


def test_verify_covers_group_accounts(world, group):
    group_op(world, group, "adjust_balance", type="CREDIT", amount="7")
    account = Account.get((Account.entity_type == "GROUP") & (Account.entity_id == group.id))
    Account.update(balance=account.balance + 1).where(Account.id == account.id).execute()
    assert [m.code for m in verify().mismatches] == ["balance_mismatch"]
