"""Random sequences of LOT movements and clock steps keep every lot invariant and the exact spending
order (hypothesis stateful), through `engine.store.ledger.movements` on a real database.

A plain model of each holder's lots, written here and independent of `engine.model.lots`, predicts
every entry a step posts (its action and amount, and the lots it took), the lots a hold or release
moved, each lot's remaining value and status, and each bucket's balance. After every step the
stored journal, `lot_take` rows, lots and balances must say exactly that, the read-time view of
the balances must agree with the model settled at the clock, and `accrual verify` must pass.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from operator import attrgetter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from engine.model.lots import ANY, LotFilter
from engine.store.db import write_transaction
from engine.store.errors import LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.journal import Ledger
from engine.store.ledger.lots import balances_as_of
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import (
    Account,
    Asset,
    JournalEntry,
    LotRecord,
    LotTake,
    Organisation,
    Participant,
    Posting,
    Program,
    ProgramAsset,
)
from engine.store.sweeps import settle_due_lots
from tests.databases import BACKENDS, NO_POSTGRES, close_database, open_database, postgres_url
from tests.engine.store.ledger.lot_model import (
    Expected,
    ModelHolder,
    ModelLot,
    Refused,
    move,
    repay_overdraft,
    settle,
    spendable,
    take,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = ("alice", "bob")
# A stored lot's columns, in the order of `ModelLot.view()`.
COLUMNS = "amount remaining status created_at expires_at matures_at reference_id provisional source_lot_id"
STORED = attrgetter(*COLUMNS.split())

who = st.sampled_from(["alice", "alice", "alice", "bob"])  # mostly one holder, so its lots pile up
credited = st.integers(min_value=1, max_value=40)
# Spends are drawn as a share (in percent) of what the bucket's lots hold, so most succeed; above
# 100 they ask for more than there is.
shares = st.integers(min_value=1, max_value=125)
references = st.sampled_from([None, "r1", "r2"])
expiry_hours = st.sampled_from([None, None, None, -24, 0, 24, 72, 240, 720])  # relative to the clock
maturity_hours = st.sampled_from([None, None, None, None, -24, 0, 24, 72])


# --- the machine -------------------------------------------------------------------------------


def machine_for(backend: str, order: str):
    class LotMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.scratch = Path(tempfile.mkdtemp(prefix="accrual-lots-prop-"))
            self.db = open_database(backend, self.scratch)
            upgrade(self.db)
            self.db.connect(reuse_if_open=True)
            self.org = Organisation.create(name="acme")
            self.program = Program.create(organisation=self.org, key="loyalty", name="Loyalty")
            self.asset = Asset.create(
                organisation=self.org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT", spending_order=order
            )
            ProgramAsset.create(program=self.program, asset=self.asset)
            self.people = {name: Participant.create(organisation=self.org, external_id=name) for name in NAMES}
            self.model = {name: ModelHolder() for name in NAMES}
            self.now = T0

        def teardown(self) -> None:
            self.db.close()
            close_database(self.db)
            shutil.rmtree(self.scratch, ignore_errors=True)

        # --- running a step and reading what it did ----------------------------------------------

        def entity(self, name: str) -> Entity:
            return Entity("PARTICIPANT", self.people[name].id)

        def step(self, name, predict, act) -> None:
            """Run `act(ledger, entity)` in one transaction; `predict(holder)` says on a copy of the
            model what it must post (and which lots a hold or release moves) or how it is refused."""
            trial = copy.deepcopy(self.model[name])
            try:
                expected, moved = predict(trial)
                refusal = None
            except Refused as exc:
                refusal = exc.code
            before = self.last_sequence()
            try:
                with write_transaction():
                    ledger = Ledger(self.org.id)
                    entry = act(ledger, self.entity(name))
                    ledger.finish()
            except LedgerRejected as exc:
                assert refusal == exc.code, f"refused with {exc.code} ({exc.message}); the model expected {refusal}"
                assert self.last_sequence() == before
                return
            assert refusal is None, f"the model expected {refusal}"
            self.model[name] = trial
            self.learn_new_lots(name)
            assert self.posted_since(before) == {name: self.described(expected)}
            if moved is not None:
                reported = [(take.lot_id, take.amount) for take in ledger.lots.processed.get(entry.id, [])]
                assert reported == [(lot.key, part) for lot, part in moved]

        def movement(self, function, *args, **fields):
            """`function(ledger, asset, program, entity, *args, as_of=<the clock>, **fields)`."""
            return lambda ledger, entity: function(
                ledger, self.asset, self.program.id, entity, *args, as_of=self.now, **fields
            )

        def last_sequence(self) -> int:
            last = JournalEntry.select(JournalEntry.sequence).order_by(JournalEntry.sequence.desc()).first()
            return last.sequence if last else 0

        def posted_since(self, sequence: int) -> dict[str, list[tuple]]:
            """Entries after `sequence` by holder name: (action, amount, lot_take rows)."""
            names = {person.id: name for name, person in self.people.items()}
            found: dict[str, list[tuple]] = {}
            entries = JournalEntry.select().where(JournalEntry.sequence > sequence).order_by(JournalEntry.sequence)
            for entry in entries:
                postings = list(Posting.select().where(Posting.entry == entry.id))
                (holder,) = {names[p.entity_id] for p in postings if p.entity_type == "PARTICIPANT"}
                amount = sum(p.amount for p in postings if p.amount > 0)
                takes = LotTake.select().where(LotTake.entry_id == entry.id).order_by(LotTake.position)
                found.setdefault(holder, []).append(
                    (entry.action_type, amount, tuple((row.lot_id, row.amount) for row in takes))
                )
            return found

        @staticmethod
        def described(expected: list[Expected]) -> list[tuple]:
            return [(e.action, e.amount, tuple((lot.key, part) for lot, part in e.takes)) for e in expected]

        def stored_lots(self, name: str) -> list[LotRecord]:
            return list(LotRecord.select().where(LotRecord.entity_id == self.people[name].id))

        def learn_new_lots(self, name: str) -> None:
            """Give the lots the last step made (a credit's lot, a split part) their stored ids."""
            known = {lot.key for lot in self.model[name].lots}
            new = [row for row in self.stored_lots(name) if row.id not in known]
            pending = [lot for lot in self.model[name].lots if lot.key == "new" or lot.key.startswith("split:")]
            assert len(new) == len(pending), (new, pending)
            for lot in pending:
                origin = lot.key.removeprefix("split:") if lot.key != "new" else None
                (row,) = [row for row in new if row.source_lot_id == origin]
                lot.key = row.id

        def share_of(self, name: str, bucket: str, share: int, reference: str | None = None) -> int:
            """`share` percent of what `name`'s lots in `bucket` hold at the clock, at least 1."""
            holder = copy.deepcopy(self.model[name])
            settle(holder, self.now)
            there = sum(lot.remaining for lot in spendable(holder, order, bucket, reference))
            return max(1, there * share // 100)

        # --- the movements --------------------------------------------------------------------

        @initialize(
            opening=st.lists(
                st.tuples(who, credited, st.booleans(), references, expiry_hours, maturity_hours), max_size=6
            )
        )
        def opening_lots(self, opening):
            for lot in opening:
                self.credit(*lot)

        @rule(
            name=who,
            amount=credited,
            held=st.booleans(),
            reference=references,
            expires=expiry_hours,
            matures=maturity_hours,
        )
        def credit(self, name, amount, held, reference, expires, matures):
            expires_at = None if expires is None else self.now + timedelta(hours=expires)
            matures_at = None if matures is None else self.now + timedelta(hours=matures)
            bucket = "HELD" if held else "AVAILABLE"
            now = self.now

            def predict(holder: ModelHolder):
                done = settle(holder, now)
                status = "DEFERRED" if matures_at is not None and matures_at > now else bucket
                overdraft = max(-holder.balance[status], 0) if status != "DEFERRED" else 0
                remaining = amount - min(amount, overdraft)
                holder.lots.append(
                    ModelLot(
                        key="new",
                        amount=amount,
                        remaining=remaining,
                        status=status if remaining else "CONSUMED",
                        created=now,
                        expires=expires_at,
                        matures=matures_at,
                        reference=reference if status == "HELD" else None,
                        provisional=status == "HELD",
                    )
                )
                holder.balance[status] += amount
                return [*done, Expected("CREDIT", amount)], None

            self.step(
                name,
                predict,
                self.movement(
                    movements.credit,
                    Decimal(amount),
                    bucket,
                    expires_at=expires_at,
                    matures_at=matures_at,
                    description="credit",
                    reference_id=reference if held else None,
                ),
            )

        @rule(name=who, share=shares, allow_negative=st.booleans())
        def debit(self, name, share, allow_negative):
            self.spend(name, self.share_of(name, "AVAILABLE", share), allow_negative)

        @rule(name=who, beyond=st.integers(min_value=1, max_value=10))
        def overdraw(self, name, beyond):
            """Spend every lot and `beyond` more: an overdraft the next value in repays."""
            self.spend(name, self.share_of(name, "AVAILABLE", 100) + beyond, allow_negative=True)

        def spend(self, name: str, amount: int, allow_negative: bool) -> None:
            def predict(holder: ModelHolder):
                done = settle(holder, self.now)
                lots = spendable(holder, order, "AVAILABLE")
                if sum(lot.remaining for lot in lots) < amount and not allow_negative:
                    raise Refused("insufficient_funds")
                takes = take(lots, amount)
                holder.balance["AVAILABLE"] -= amount
                return [*done, Expected("DEBIT", amount, takes)], None

            self.step(
                name,
                predict,
                self.movement(movements.debit, Decimal(amount), allow_negative=allow_negative, description="debit"),
            )

        @rule(name=who, share=shares, reference=references)
        def hold(self, name, share, reference):
            amount = self.share_of(name, "AVAILABLE", share)

            def predict(holder: ModelHolder):
                done = settle(holder, self.now)
                lots = spendable(holder, order, "AVAILABLE")
                if sum(lot.remaining for lot in lots) < amount:
                    raise Refused("insufficient_funds")
                moved = move(holder, lots, amount, "HELD", reference)
                holder.balance["AVAILABLE"] -= amount
                holder.balance["HELD"] += amount
                return [*done, Expected("HOLD", amount)], moved

            self.step(
                name,
                predict,
                self.movement(movements.hold, Decimal(amount), description="hold", reference_id=reference),
            )

        @rule(name=who, share=st.none() | shares, reference=references)
        def release(self, name, share, reference):
            amount = None if share is None else self.share_of(name, "HELD", share, reference)

            def predict(holder: ModelHolder):
                done = settle(holder, self.now)
                lots = spendable(holder, order, "HELD", reference)
                there = sum(lot.remaining for lot in lots)
                wanted = there if amount is None else amount
                if there < wanted:
                    raise Refused("insufficient_funds")
                if wanted == 0:
                    raise Refused("invalid_amount")
                moved = move(holder, lots, wanted, "AVAILABLE", None)
                repay_overdraft(holder, moved)
                holder.balance["HELD"] -= wanted
                holder.balance["AVAILABLE"] += wanted
                return [*done, Expected("RELEASE", wanted)], moved

            only = ANY if reference is None else LotFilter(reference_id=reference)
            self.step(
                name,
                predict,
                self.movement(
                    movements.release,
                    None if amount is None else Decimal(amount),
                    only=only,
                    description="release",
                    reference_id=reference,
                ),
            )

        @rule(name=who, share=shares, bucket=st.sampled_from(["AVAILABLE", "HELD"]), reference=references)
        def forfeit(self, name, share, bucket, reference):
            by_reference = reference if bucket == "HELD" else None
            amount = self.share_of(name, bucket, share, by_reference)

            def predict(holder: ModelHolder):
                done = settle(holder, self.now)
                lots = spendable(holder, order, bucket, by_reference)
                if sum(lot.remaining for lot in lots) < amount:
                    raise Refused("insufficient_funds")
                takes = take(lots, amount)
                holder.balance[bucket] -= amount
                return [*done, Expected("FORFEIT", amount, takes)], None

            only = ANY if by_reference is None else LotFilter(reference_id=by_reference)
            self.step(
                name,
                predict,
                self.movement(
                    movements.forfeit,
                    Decimal(amount),
                    bucket,
                    only=only,
                    description="forfeit",
                    reference_id=by_reference,
                ),
            )

        @rule(name=who, reference=st.sampled_from(["r1", "r2"]))
        def void_hold(self, name, reference):
            def predict(holder: ModelHolder):
                done = settle(holder, self.now)
                lots = spendable(holder, order, "HELD", reference, provisional=True)
                total = sum(lot.remaining for lot in lots)
                if total <= 0:
                    raise Refused("hold_not_found")
                takes = take(lots, total)
                holder.balance["HELD"] -= total
                return [*done, Expected("VOID_HOLD", total, takes)], None

            self.step(
                name,
                predict,
                self.movement(movements.void_hold, None, description="void", reference_id=reference),
            )

        # --- the clock ------------------------------------------------------------------------

        @rule(hours=st.sampled_from([1, 6, 24, 72, 240]), sweep=st.booleans())
        def advance(self, hours, sweep):
            """Move the clock; the balances read at the new time already leave out what expired and
            count what matured (read-time check); a sweep then settles exactly that."""
            self.now += timedelta(hours=hours)
            settled = {name: copy.deepcopy(holder) for name, holder in self.model.items()}
            due = {name: settle(holder, self.now) for name, holder in settled.items()}
            for name, holder in settled.items():
                stored = balances_of("PARTICIPANT", self.people[name].id, [self.asset.id])
                viewed = balances_as_of("PARTICIPANT", self.people[name].id, stored, self.now).get(self.asset.id)
                seen = (viewed.available, viewed.held, viewed.deferred) if viewed else (0, 0, 0)
                assert seen == tuple(holder.balance[bucket] for bucket in ("AVAILABLE", "HELD", "DEFERRED")), name
            if not sweep:
                return
            before = self.last_sequence()
            swept = settle_due_lots(self.now)
            assert swept.holders == sum(1 for done in due.values() if done)
            self.model = settled
            assert self.posted_since(before) == {name: self.described(done) for name, done in due.items() if done}
            assert settle_due_lots(self.now).holders == 0  # nothing is due twice

        # --- after every step -----------------------------------------------------------------

        @invariant()
        def lots_and_balances_match_the_model(self):
            for name, holder in self.model.items():
                stored = {row.id: row for row in self.stored_lots(name)}
                assert sorted(stored) == sorted(lot.key for lot in holder.lots)
                for lot in holder.lots:
                    assert STORED(stored[lot.key]) == lot.view(), lot
                accounts = Account.select().where(
                    (Account.entity_id == self.people[name].id) & (Account.asset == self.asset.id)
                )
                balances = {account.bucket: account.balance for account in accounts}
                for bucket, amount in holder.balance.items():
                    assert balances.get(bucket, 0) == amount, (name, bucket)
                assert holder.balance["HELD"] >= 0 and holder.balance["DEFERRED"] >= 0

        @invariant()
        def the_ledger_verifies(self):
            report = verify()
            assert report.ok, report.mismatches

    return LotMachine


def test_a_release_into_an_overdrawn_balance_repays_the_overdraft_from_the_released_lots():
    """Found by the machine: a release moved the held lots whole into an AVAILABLE bucket below
    zero, so its open lots held more than its balance."""
    machine = machine_for("sqlite", "FIFO")()
    try:
        machine.credit("alice", 1, held=False, reference=None, expires=None, matures=None)
        machine.hold("alice", share=100, reference=None)
        machine.debit("alice", share=100, allow_negative=True)  # AVAILABLE is 0: 1 below zero
        machine.release("alice", share=None, reference=None)
        machine.lots_and_balances_match_the_model()
        machine.the_ledger_verifies()
        (lot,) = LotRecord.select()
        assert (lot.status, lot.remaining) == ("CONSUMED", 0)
    finally:
        machine.teardown()


@pytest.mark.parametrize("order", ["FIFO", "EXPIRING_FIRST"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_lot_movements_and_clock_steps_keep_every_invariant(backend, order):
    if backend == "postgres" and postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    run_state_machine_as_test(
        machine_for(backend, order),
        settings=settings(
            max_examples=25 if backend == "sqlite" else 10,
            stateful_step_count=40,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
