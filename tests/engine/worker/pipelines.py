"""Small pipelines for the worker's own tests: they write a real ledger entry per event, so
"applied exactly once" is checked on the ledger itself (one journal entry per event id)."""

from __future__ import annotations

from decimal import Decimal

from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget
from engine.model.state import EntityState, ProgramState
from engine.store.db import utcnow
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.models import PARTICIPANT, Asset, EventRecord, Participant
from engine.worker.pipeline import Applied


class CreditOnePoint:
    """Credits 1 PTS to the event's participant, marks the event COMPLETED (as storage's
    `post_event_effects` does) and remembers the order it saw events in.
    `fail_with` makes it raise after writing (the processing transaction must roll that back)."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.seen: list[str] = []
        self.fail_with = fail_with

    def __call__(self, event: EventRecord) -> Applied:
        self.seen.append(event.id)
        person = Participant.get(
            (Participant.organisation == event.organisation_id) & (Participant.external_id == event.external_id)
        )
        asset = Asset.get((Asset.organisation == event.organisation_id) & (Asset.symbol == "PTS"))
        ledger = Ledger(event.organisation_id)
        movements.credit(
            ledger,
            asset,
            event.program_id,
            Entity(PARTICIPANT, person.id),
            Decimal(1),
            event_id=event.id,
            description="test credit",
        )
        ledger.finish()
        if self.fail_with is not None:
            raise self.fail_with
        action = ResolvedAction(
            rule="one_point",
            index=0,
            type="CREDIT",
            asset="PTS",
            amount=Decimal(1),
            target=ResolvedTarget(type="PARTICIPANT", role="participant"),
        )
        result = EvaluationResult(
            status="COMPLETED",
            evaluated_at=event.created_at,
            rules=[],
            actions=[action],
            state_changes=[],
            budget_uses=[],
            participant=EntityState(id=person.id, external_id=person.external_id),
            program=ProgramState(),
        )
        EventRecord.update(status="COMPLETED", processed_at=utcnow(), next_attempt_at=None).where(
            EventRecord.id == event.id
        ).execute()
        return Applied(result=result, status="COMPLETED")
