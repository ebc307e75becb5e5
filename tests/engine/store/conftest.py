"""Storage tests run on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os

import pytest

from engine.store.db import connect
from engine.store.migrations import upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def open_database(backend: str, tmp_path):
    """A fresh, upgraded database of the given backend; PostgreSQL gets an empty public schema."""
    if backend == "sqlite":
        return connect(f"sqlite:///{tmp_path / 'accrual.db'}")
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (tests/services/services.sh starts a server)")
    db = connect(url)
    with db.connection_context():
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return db


@pytest.fixture(params=BACKENDS)
def fresh_db(request, tmp_path):
    """A database with no schema yet."""
    db = open_database(request.param, tmp_path)
    yield db
    db.close_all() if hasattr(db, "close_all") else db.close()


@pytest.fixture
def db(fresh_db):
    """An upgraded database with an open connection for the test's thread."""
    upgrade(fresh_db)
    with fresh_db.connection_context():
        yield fresh_db


class World:
    """An organisation with one program, two assets (PTS unlimited, scale 2; GEM prefunded,
    scale 0) linked to it, and two participants."""

    def __init__(self) -> None:
        from engine.store.models import Asset, Organisation, Participant, Program, ProgramAsset

        self.org = Organisation.create(name="acme")
        self.program = Program.create(organisation=self.org, key="loyalty", name="Loyalty")
        self.pts = Asset.create(organisation=self.org, symbol="PTS", name="Points", scale=2)
        self.gem = Asset.create(organisation=self.org, symbol="GEM", name="Gems", scale=0, issuance_policy="PREFUNDED")
        for asset in (self.pts, self.gem):
            ProgramAsset.create(program=self.program, asset=asset)
        self.alice = Participant.create(organisation=self.org, external_id="alice")
        self.bob = Participant.create(organisation=self.org, external_id="bob")


@pytest.fixture
def world(db):
    return World()


def store_event(world, participant=None, *, key=None, data=None, **fields):
    """A PENDING event of `world.program` for `participant` (default alice)."""
    from datetime import UTC, datetime

    from engine.store.db import new_id
    from engine.store.models import EventRecord

    person = participant or world.alice
    fields = {"participant": person, "external_id": person.external_id, **fields}
    return EventRecord.create(
        organisation=world.org,
        program=world.program,
        idempotency_key=key or new_id(),
        payload_hash="0" * 64,
        event_data=data or {"type": "purchase"},
        event_timestamp=datetime(2026, 1, 1, 12, tzinfo=UTC),
        **fields,
    )


def make_rule(world, name="earn", order=None, budgets=None):
    """A stored rule of `world.program` with one CREDIT of PTS."""
    from engine.model.bundle import Credit, Rule
    from engine.store.catalog import create_rule

    rule = Rule(
        name=name, condition="true", order=order, budgets=budgets or [], actions=[Credit(asset_id="PTS", amount="10")]
    )
    return create_rule(world.org.id, world.program.id, rule)


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
    from datetime import UTC, datetime
    from decimal import Decimal

    from engine.model.result import BudgetUse, EvaluationResult, ResolvedAction, ResolvedTarget, RuleOutcome
    from engine.model.state import EntityState, ProgramState

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
        evaluated_at=datetime(2026, 1, 1, 12, tzinfo=UTC),
        rules=[outcome],
        actions=actions if status == "COMPLETED" else [],
        state_changes=[],
        budget_uses=[BudgetUse(rule=rule.name, asset="PTS", amount=Decimal(amount))] if budget else [],
        participant=EntityState(),
        program=ProgramState(),
        error_code=None if status == "COMPLETED" else "insufficient_funds",
        error_message=None if status == "COMPLETED" else "not enough",
    )
