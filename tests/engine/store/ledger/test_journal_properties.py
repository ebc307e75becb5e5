"""Random sequences of balance operations keep every ledger invariant (hypothesis stateful)."""

from __future__ import annotations

import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from engine.store import operations as ops
from engine.store.effects import post_event_effects
from engine.store.errors import LedgerRejected
from engine.store.ledger.accounts import balances_of
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import Account, Posting
from engine.store.owner_reads import read_owner
from tests.databases import BACKENDS, NO_POSTGRES, close_database, open_database, postgres_url
from tests.engine.world import World, make_rule, store_event, typical_result

amounts = st.integers(min_value=1, max_value=5000).map(lambda cents: Decimal(cents).scaleb(-2))
who = st.sampled_from(["alice", "bob"])
references = st.sampled_from([None, "order-1", "order-2"])


def machine_for(backend: str):
    class LedgerMachine(RuleBasedStateMachine):
        """Keeps its own model of every participant's buckets and compares after each step."""

        def __init__(self) -> None:
            super().__init__()
            self.db, self.scratch = _fresh(backend)
            self.db.connect(reuse_if_open=True)
            self.world = World()
            self.rule = make_rule(self.world)
            self.model = {name: {"AVAILABLE": Decimal(0), "HELD": Decimal(0)} for name in ("alice", "bob")}
            self.negative_allowed = {"alice": False, "bob": False}
            self.held_refs = {"alice": {}, "bob": {}}  # reference -> amount HELD under it

        def teardown(self) -> None:
            self.db.close()
            close_database(self.db)  # pooled: really close, one database per example
            shutil.rmtree(self.scratch, ignore_errors=True)

        def _person(self, name):
            return getattr(self.world, name)

        def _base(self, name):
            return {"program_id": self.world.program.id, "asset_id": "PTS", "description": "prop"}

        def _expect(self, name, call, bucket_moves, reference=None):
            """Run `call`; if the model says it must fail, it must fail with insufficient_funds."""
            after = dict(self.model[name])
            for bucket, delta in bucket_moves.items():
                after[bucket] += delta
            would_overdraw = any(after[b] < 0 and delta < 0 for b, delta in bucket_moves.items())
            try:
                call()
            except LedgerRejected as exc:
                assert exc.code == "insufficient_funds" and would_overdraw
                return
            assert not would_overdraw
            self.model[name] = after
            if reference is not None and bucket_moves.get("HELD"):
                refs = self.held_refs[name]
                refs[reference] = refs.get(reference, Decimal(0)) + bucket_moves["HELD"]

        @rule(name=who, amount=amounts)
        def credit(self, name, amount):
            self._expect(
                name,
                lambda: ops.adjust_balance(
                    self.world.org.id, self._person(name).id, type="CREDIT", amount=amount, **self._base(name)
                ),
                {"AVAILABLE": amount},
            )

        @rule(name=who, amount=amounts, allow_negative=st.booleans())
        def debit(self, name, amount, allow_negative):
            call = lambda: ops.adjust_balance(
                self.world.org.id,
                self._person(name).id,
                type="DEBIT",
                amount=amount,
                allow_negative=allow_negative,
                **self._base(name),
            )
            if allow_negative:
                call()
                self.model[name]["AVAILABLE"] -= amount
                self.negative_allowed[name] = True
            else:
                self._expect(name, call, {"AVAILABLE": -amount})

        @rule(name=who, amount=amounts, reference=references)
        def hold(self, name, amount, reference):
            self._expect(
                name,
                lambda: ops.hold(
                    self.world.org.id, self._person(name).id, amount=amount, reference_id=reference, **self._base(name)
                ),
                {"AVAILABLE": -amount, "HELD": amount},
                reference,
            )

        @rule(name=who, amount=amounts, reference=references)
        def release(self, name, amount, reference):
            self._expect(
                name,
                lambda: ops.release(
                    self.world.org.id, self._person(name).id, amount=amount, reference_id=reference, **self._base(name)
                ),
                {"HELD": -amount, "AVAILABLE": amount},
                reference,
            )

        @rule(name=who, amount=amounts, bucket=st.sampled_from(["AVAILABLE", "HELD"]), reference=references)
        def forfeit(self, name, amount, bucket, reference):
            self._expect(
                name,
                lambda: ops.forfeit(
                    self.world.org.id,
                    self._person(name).id,
                    amount=amount,
                    bucket=bucket,
                    reference_id=reference,
                    **self._base(name),
                ),
                {bucket: -amount},
                reference,
            )

        @rule(name=who, amount=amounts)
        def event_credit(self, name, amount):
            event = store_event(self.world, self._person(name))
            outcome = post_event_effects(event.id, typical_result(self.rule, amount=str(amount)))
            assert outcome.status == "COMPLETED"
            self.model[name]["AVAILABLE"] += amount

        @invariant()
        def balances_match_the_model_and_the_postings(self):
            for name, buckets in self.model.items():
                stored = balances_of("PARTICIPANT", self._person(name).id).get(self.world.pts.id)
                assert (stored.available if stored else 0) == buckets["AVAILABLE"]
                assert (stored.held if stored else 0) == buckets["HELD"]
                assert buckets["HELD"] >= 0
                assert buckets["AVAILABLE"] >= 0 or self.negative_allowed[name]
            for account in Account.select():
                postings = Posting.select().where(Posting.account == account.id)
                assert account.balance == sum((p.amount for p in postings), Decimal(0))

        @invariant()
        def holds_by_reference_match_the_model(self):
            for name, refs in self.held_refs.items():
                expected = {ref: amount for ref, amount in refs.items() if amount > 0}
                held = read_owner("PARTICIPANT", self._person(name).id, {self.world.pts.id: "PTS"}, holds=True).holds
                assert held.get("PTS", {}) == expected

        @invariant()
        def the_ledger_verifies(self):
            report = verify()
            assert report.ok, report.mismatches

    return LedgerMachine


def _fresh(backend: str):
    """A new upgraded database per example (a SQLite file in a scratch directory, or an emptied
    PostgreSQL schema) and the scratch directory to remove afterwards."""
    scratch = Path(tempfile.mkdtemp(prefix="accrual-prop-"))
    db = open_database(backend, scratch)
    upgrade(db)
    return db, scratch


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_operation_sequences_keep_every_invariant(backend):
    if backend == "postgres" and postgres_url() is None:
        pytest.skip(NO_POSTGRES)
    run_state_machine_as_test(
        machine_for(backend),
        settings=settings(
            max_examples=40 if backend == "sqlite" else 15,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
