"""A small organisation for storage, worker and webhook tests, and the rows and results they use.

`World()` needs a database bound to the models (the `db` fixture of tests/engine/conftest.py, or
one the test opened itself); the `world` fixture builds one for each test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.model.bundle import Budget, Credit, Debit, Rule
from engine.model.result import BudgetUse, EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome
from engine.model.state import EntityState, ProgramState
from engine.queue import enqueue_event
from engine.store.catalog import create_rule
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.models import Asset, EventRecord, Organisation, Participant, Program, ProgramAsset

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)


class World:
    """An organisation with one ACTIVE program, two assets linked to it (PTS unlimited, scale
    `pts_scale`; GEM prefunded, scale 0) and two participants, alice and bob."""

    def __init__(self, *, pts_scale: int = 2) -> None:
        self.org = Organisation.create(name="acme")
        self.program = Program.create(organisation=self.org, key="loyalty", name="Loyalty")
        self.pts = Asset.create(organisation=self.org, symbol="PTS", name="Points", scale=pts_scale)
        self.gem = Asset.create(organisation=self.org, symbol="GEM", name="Gems", scale=0, issuance_policy="PREFUNDED")
        for asset in (self.pts, self.gem):
            ProgramAsset.create(program=self.program, asset=asset)
        self.alice = Participant.create(organisation=self.org, external_id="alice")
        self.bob = Participant.create(organisation=self.org, external_id="bob")

    def rule(
        self,
        name: str = "earn",
        *,
        condition: str = "true",
        amount: str = "event.amount",
        action: str = "CREDIT",
        order: int | None = None,
        budgets: list[Budget] | None = None,
    ):
        """A stored rule of the program moving `amount` PTS (CREDIT or DEBIT)."""
        kind = Credit if action == "CREDIT" else Debit
        rule = Rule(
            name=name,
            condition=condition,
            order=order,
            budgets=budgets or [],
            actions=[kind(asset_id="PTS", amount=amount)],
        )
        return create_rule(self.org.id, self.program.id, rule)

    def event(self, external_id: str = "alice", *, key: str, at: datetime | None = None, enqueue: bool = True, **data):
        """Ingest an event the way the API does: row and wake-up in one transaction."""
        with write_transaction():
            row = EventRecord.create(
                organisation=self.org,
                program=self.program,
                external_id=external_id,
                idempotency_key=key,
                payload_hash=key,
                event_data=data or {"amount": 1.0},
                event_timestamp=at or datetime(2026, 1, 1, tzinfo=UTC),
                created_at=utcnow(),
                updated_at=utcnow(),
            )
            if enqueue:
                enqueue_event(row.id)
        return row


def store_event(world: World, participant=None, *, key=None, data=None, **fields):
    """A PENDING event of `world.program` for `participant` (default alice), stored without a wake-up."""
    person = participant or world.alice
    fields = {"participant": person, "external_id": person.external_id, **fields}
    return EventRecord.create(
        organisation=world.org,
        program=world.program,
        idempotency_key=key or new_id(),
        payload_hash="0" * 64,
        event_data=data or {"type": "purchase"},
        event_timestamp=AT,
        **fields,
    )


def make_rule(world: World, name="earn", order=None, budgets=None):
    """A stored rule of `world.program` with one CREDIT of 10 PTS."""
    return world.rule(name, amount="10", order=order, budgets=budgets)


def typical_result(
    rule,
    *,
    amount="10",
    participant_role="participant",
    status="COMPLETED",
    budget=None,
    counter_key="purchases",
    tag="buyer",
):
    """What the engine returns for one matched rule: a credit, a counter increment and a tag."""
    target = ResolvedTarget(type="PARTICIPANT", role=participant_role)
    actions = [
        ResolvedAction(
            rule=rule.name,
            index=0,
            type="CREDIT",
            target=target,
            asset="PTS",
            amount=Decimal(amount),
            bucket="AVAILABLE",
        ),
        ResolvedAction(rule=rule.name, index=1, type="COUNTER", target=target, key=counter_key, value="1"),
        ResolvedAction(rule=rule.name, index=2, type="TAG", target=target, tag=tag),
    ]
    outcome = RuleOutcome(
        rule=rule.name, order=rule.order, status="MATCHED", rule_id=rule.id, rule_version=rule.version, actions=actions
    )
    return EvaluationResult(
        status=status,
        evaluated_at=AT,
        rules=[outcome],
        actions=actions if status == "COMPLETED" else [],
        state_changes=[],
        budget_uses=[BudgetUse(rule=rule.name, asset="PTS", amount=Decimal(amount))] if budget else [],
        participant=EntityState(),
        program=ProgramState(),
        error_code=None if status == "COMPLETED" else "insufficient_funds",
        error_message=None if status == "COMPLETED" else "not enough",
    )
