"""Programs and recorded events for the replay's tests, built in memory (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from engine.model.history import RecordedEvent, RecordedRule
from engine.model.state import Balance, EntityState, ProgramState
from engine.replay.world import ReplayWorld
from engine.rules.loader import load_bundle_text
from engine.rules.program import CompiledProgram

T0 = datetime(2026, 11, 1, tzinfo=UTC)
BUNDLE = """
program: {{key: shop, name: Shop}}
assets:
  - {{symbol: PTS, name: Points, scale: 2}}
  - {{symbol: MILES, name: Miles, scale: 0, inventory_mode: LOT}}
tiers:
  - key: status
    levels:
      - {{key: base, rank: 0}}
      - {{key: gold, rank: 1}}
rules:
  - name: visit
    order: 10
    condition: "true"
    actions:
      - {{type: COUNTER, key: visits, value: 1}}
  - name: earn
    order: 20
    condition: "has(event.amount)"
    actions:
      - {{type: CREDIT, asset_id: PTS, amount: "event.amount * {multiplier}"}}
  - name: gold
    order: 30
    condition: 'get(participant.counters, "visits", 0.0) >= {visits}.0'
    actions:
      - {{type: SET_TIER, tier: status, level: gold}}
"""


def program(multiplier: str = "1.0", visits: int = 2) -> CompiledProgram:
    loaded = load_bundle_text(BUNDLE.format(multiplier=multiplier, visits=visits))
    assert loaded.program is not None, loaded.problems
    return loaded.program


def event(number: int, participant: str = "p-alice", amount: float | None = 10.0, **fields) -> RecordedEvent:
    """A recorded event a minute after the last; `fields` override what was recorded (by default
    COMPLETED with `visit` and `earn` matched)."""
    at = T0 + timedelta(minutes=number)
    earned = {"type": "CREDIT", "asset": "PTS", "amount": str(amount)}
    given = {
        "status": "COMPLETED",
        "rules": [
            RecordedRule(rule="visit", status="MATCHED", actions=[{"type": "COUNTER"}]),
            RecordedRule(rule="earn", status="MATCHED", actions=[earned]),
        ],
        **fields,
    }
    return RecordedEvent(
        id=f"e{number:03d}",
        participant_id=participant,
        event_data={} if amount is None else {"amount": amount},
        event_timestamp=at,
        received_at=at,
        processed_at=at + timedelta(seconds=1),
        **given,
    )


def recorded_by(baseline: CompiledProgram, events: list[RecordedEvent]) -> list[RecordedEvent]:
    """`events` with the outcome `baseline` gives them stored, as the worker would have."""
    world = ReplayWorld(baseline, seed=seed, program_state=ProgramState())
    for recorded in events:
        result = world.evaluate(recorded)
        recorded.status, recorded.error_code = str(result.status), result.error_code
        recorded.rules = [
            RecordedRule(rule=outcome.rule, status=str(outcome.status), actions=msgspec.to_builtins(outcome.actions))
            for outcome in result.rules
            if outcome.status != "NOT_MATCHED"
        ]
    return events


def seed(participant_id: str) -> EntityState:
    """Everyone starts with 5 PTS, no counters."""
    return EntityState(
        id=participant_id,
        external_id=participant_id.removeprefix("p-"),
        balances={"PTS": Balance(available=Decimal("5.00"))},
    )
