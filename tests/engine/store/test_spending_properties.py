"""Random redemptions, reversals and transfers (hypothesis stateful), on a SIMPLE and a LOT asset:
each participant's balance stays what they earned, minus what they spent and gave, plus what was
restored and received; the catalog's counts stay exact; every refusal is one the model predicts;
`accrual verify` passes (lots adding up to balances included)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from engine.errors import EngineError
from engine.model.rewards import Reward
from engine.store.db import utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import Account, Asset, ProgramAsset, RewardRecord
from engine.store.redemptions import redeem, redeem_item, reverse
from engine.store.rewards import create_reward
from engine.store.transfers import Party, transfer
from tests.databases import BACKENDS, NO_POSTGRES, close_database, open_database, postgres_url
from tests.engine.world import World

PEOPLE = ("alice", "bob")
MAX_TOTAL, PER_PARTICIPANT, UNIT = 6, 4, Decimal(7)
amounts = st.integers(min_value=1, max_value=60).map(Decimal)


def machine_for(backend: str, mode: str):
    class SpendingMachine(RuleBasedStateMachine):
        """Its own model of balances, redemptions and the reward's units, compared after each step."""

        def __init__(self) -> None:
            super().__init__()
            self.scratch = Path(tempfile.mkdtemp(prefix="accrual-spend-"))
            self.db = open_database(backend, self.scratch)
            upgrade(self.db)
            self.db.connect(reuse_if_open=True)
            self.world = World()
            self.asset = Asset.create(organisation=self.world.org, symbol="CRED", name="Credits", scale=0,
                                      inventory_mode=mode)  # fmt: skip
            ProgramAsset.create(program=self.world.program, asset=self.asset)
            self.reward = create_reward(self.world.org.id, self.world.program.id, Reward(
                name="Seat", redemption_type="UNIT_BASED", asset_id="CRED", unit_cost=str(UNIT),
                max_total=MAX_TOTAL, max_per_participant=PER_PARTICIPANT))  # fmt: skip
            self.balance = dict.fromkeys(PEOPLE, Decimal(0))
            self.units = dict.fromkeys(PEOPLE, 0)
            self.redemptions: list[dict] = []  # {id, who, amount, reversed, quantity, reversed_quantity}
            self.day = 0

        def teardown(self) -> None:
            self.db.close()
            close_database(self.db)
            shutil.rmtree(self.scratch, ignore_errors=True)

        def _expect(self, allowed: bool, code: str, call):
            """Run `call`; when the model says it must be refused, it must be, with `code`."""
            try:
                result = call()
            except EngineError as exc:
                assert not allowed and exc.code == code, (exc.code, exc.message, allowed, code)
                return None
            assert allowed, f"expected {code}"
            return result

        @rule(who=st.sampled_from(PEOPLE), amount=amounts, days=st.integers(min_value=30, max_value=400))
        def earn(self, who, amount, days):
            """A credit as a rule makes it: on LOT assets a lot expiring in `days` (never within the run)."""
            self.day += 1
            with write_transaction():
                ledger = Ledger(self.world.org.id)
                entity = Entity("PARTICIPANT", getattr(self.world, who).id)
                expires = utcnow() + timedelta(days=days) if mode == "LOT" else None
                movements.credit(ledger, self.asset, self.world.program.id, entity, amount, expires_at=expires,
                                 description="earned")  # fmt: skip
                ledger.finish()
            self.balance[who] += amount

        @rule(who=st.sampled_from(PEOPLE), amount=amounts)
        def redeem_raw(self, who, amount):
            made = self._expect(amount <= self.balance[who], "insufficient_funds", lambda: redeem(
                self.world.org.id, getattr(self.world, who).id, program_id=self.world.program.id, asset_id="CRED",
                amount=amount, description="raw"))  # fmt: skip
            if made is not None:
                self.balance[who] -= amount
                self.redemptions.append({"id": made[0].id, "who": who, "amount": amount, "reversed": Decimal(0),
                                         "quantity": None, "reversed_quantity": 0})  # fmt: skip

        @rule(who=st.sampled_from(PEOPLE), quantity=st.integers(min_value=1, max_value=3))
        def redeem_seat(self, who, quantity):
            cost = UNIT * quantity
            if sum(self.units.values()) + quantity > MAX_TOTAL:
                allowed, code = False, "out_of_stock"
            elif self.units[who] + quantity > PER_PARTICIPANT:
                allowed, code = False, "redemption_limit_exceeded"
            else:
                allowed, code = cost <= self.balance[who], "insufficient_funds"
            made = self._expect(allowed, code, lambda: redeem_item(
                self.world.org.id, getattr(self.world, who).id, program_id=self.world.program.id,
                reward_id=self.reward.id, quantity=quantity))  # fmt: skip
            if made is not None:
                self.balance[who] -= cost
                self.units[who] += quantity
                self.redemptions.append({"id": made[0].id, "who": who, "amount": cost, "reversed": Decimal(0),
                                         "quantity": quantity, "reversed_quantity": 0})  # fmt: skip

        @precondition(lambda self: self.redemptions)
        @rule(data=st.data(), part=st.integers(min_value=0, max_value=40))
        def reverse_one(self, data, part):
            """Reverse a random redemption: by a random amount (raw) or quantity (a seat), 0 = the rest."""
            found = data.draw(st.sampled_from(self.redemptions))
            left = found["amount"] - found["reversed"]
            if found["quantity"] is None:
                value = left if part == 0 else Decimal(part)
                kwargs = {} if part == 0 else {"amount": value}
                units = 0
            else:
                units_left = found["quantity"] - found["reversed_quantity"]
                units = units_left if part == 0 else part % 4 + 1
                value = left if units == units_left else UNIT * units
                kwargs = {} if part == 0 else {"quantity": units}
            if left == 0:
                allowed, code = False, "redemption_fully_reversed"
            else:
                too_much = units > found["quantity"] - found["reversed_quantity"] if found["quantity"] else value > left
                allowed, code = not too_much, "reversal_exceeds_redemption"
            done = self._expect(
                allowed, code, lambda: reverse(self.world.org.id, found["id"], reason="refund", **kwargs)
            )
            if done is not None:
                found["reversed"] += value
                found["reversed_quantity"] += units
                self.balance[found["who"]] += value
                if found["quantity"] is not None:
                    self.units[found["who"]] -= units

        @rule(source=st.sampled_from(PEOPLE), amount=amounts)
        def give(self, source, amount):
            other = "bob" if source == "alice" else "alice"
            done = self._expect(amount <= self.balance[source], "insufficient_funds", lambda: transfer(
                self.world.org.id, program_id=self.world.program.id, asset_id="CRED", description="gift",
                source=Party("PARTICIPANT", id=getattr(self.world, source).id),
                recipients=[(Party("PARTICIPANT", external_id=other), amount)]))  # fmt: skip
            if done is not None:
                self.balance[source] -= amount
                self.balance[other] += amount

        @invariant()
        def balances_and_counts_match_the_model(self):
            for who in PEOPLE:
                person = getattr(self.world, who).id
                row = Account.get_or_none(
                    (Account.entity_id == person) & (Account.bucket == "AVAILABLE") & (Account.asset == self.asset.id)
                )
                assert (Decimal(0) if row is None else Decimal(row.balance)) == self.balance[who], who
            stored = RewardRecord.get_by_id(self.reward.id)
            held = sum(self.units.values())
            assert stored.redeemed_count == held
            assert stored.status == ("OUT_OF_STOCK" if held >= MAX_TOTAL else "ACTIVE")

        def check_ledger(self):
            report = verify()
            assert report.ok, report

    class Checked(SpendingMachine):
        def teardown(self) -> None:
            self.check_ledger()
            super().teardown()

    return Checked


@pytest.mark.parametrize("mode", ["SIMPLE", "LOT"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_spending_keeps_balances_counts_and_the_ledger_exact(backend, mode):
    if backend == "postgres" and postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    run_state_machine_as_test(
        machine_for(backend, mode),
        settings=settings(
            max_examples=25 if backend == "sqlite" else 10,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
