"""Ledger histories written at chosen times, for the report tests.

    history = History(World())
    history.post("CREDIT", "PTS", "10", at=datetime(2026, 3, 1, 9, tzinfo=UTC))   # issuance -> alice
    history.expected(asset_id, start, end)   # the model's member flows over [start, end)

Entries are real journal entries (`Ledger.post` through `move`); only their ids, which carry the
time they were written (UUIDv7), are made at the chosen time.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pytest

from engine.store.db import write_transaction
from engine.store.ledger import journal
from engine.store.ledger.journal import Ledger
from engine.store.ledger.moves import Entity, move, system
from engine.store.models import (
    AVAILABLE,
    HELD,
    PARTICIPANT,
    SYSTEM_BREAKAGE,
    SYSTEM_ISSUANCE,
    SYSTEM_REDEMPTION,
)

# action -> (source, destination, category of the members' change): who gives and who gets.
MOVES = {
    "CREDIT": ("issuance", "alice", "issued"),
    "DEBIT": ("alice", "issuance", "adjusted"),
    "REDEMPTION": ("alice", "redemption", "redeemed"),
    "REVERSAL": ("redemption", "alice", "redeemed"),
    "EXPIRY": ("alice", "breakage", "expired"),
    "FORFEIT": ("bob", "breakage", "forfeited"),
    "TRANSFER": ("alice", "bob", "adjusted"),
    "HOLD": ("alice", "alice_held", "adjusted"),
}
_counter = itertools.count()


def id_at(moment: datetime) -> str:
    """A UUIDv7 id of `moment`'s millisecond, unique and increasing within the process."""
    millis = int(moment.timestamp() * 1000)
    tail = (next(_counter) << 40) | int.from_bytes(os.urandom(5), "big")
    value = millis << 80 | 0x7 << 76 | (tail >> 62 & 0xFFF) << 64 | 0b10 << 62 | (tail & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass(frozen=True)
class Posted:
    at: datetime
    asset_id: str
    category: str
    delta: Decimal  # the members' signed change


class History:
    def __init__(self, world) -> None:
        self.world = world
        self.posted: list[Posted] = []
        self.entities = {
            "issuance": (system(SYSTEM_ISSUANCE), AVAILABLE),
            "redemption": (system(SYSTEM_REDEMPTION), AVAILABLE),
            "breakage": (system(SYSTEM_BREAKAGE), AVAILABLE),
            "alice": (Entity(PARTICIPANT, world.alice.id), AVAILABLE),
            "alice_held": (Entity(PARTICIPANT, world.alice.id), HELD),
            "bob": (Entity(PARTICIPANT, world.bob.id), AVAILABLE),
        }

    def post(self, action: str, symbol: str, amount: str, *, at: datetime) -> None:
        source, destination, category = MOVES[action]
        asset = self.world.pts if symbol == "PTS" else self.world.gem
        value = Decimal(amount)
        with pytest.MonkeyPatch.context() as patch, write_transaction():
            patch.setattr(journal, "new_id", lambda: id_at(at))
            ledger = Ledger(self.world.org.id)
            move(
                ledger,
                action,
                asset,
                value,
                self.entities[source],
                self.entities[destination],
                allow_negative=True,
                program_id=self.world.program.id,
            )
            ledger.finish()
        member_sides = {"alice", "bob", "alice_held"}
        delta = (value if destination in member_sides else 0) - (value if source in member_sides else 0)
        self.posted.append(Posted(at, asset.id, category, Decimal(delta)))

    def net(self, asset_id: str, start: datetime | None, end: datetime | None) -> Decimal:
        return sum(
            (
                p.delta
                for p in self.posted
                if p.asset_id == asset_id and (start is None or p.at >= start) and (end is None or p.at < end)
            ),
            Decimal(0),
        )

    def outflow(self, asset_id: str, category: str, start: datetime | None, end: datetime | None) -> Decimal:
        """What left members in `category` (positive), or for issued/adjusted the signed change."""
        total = sum(
            (
                p.delta
                for p in self.posted
                if p.asset_id == asset_id
                and p.category == category
                and (start is None or p.at >= start)
                and (end is None or p.at < end)
            ),
            Decimal(0),
        )
        return total if category in ("issued", "adjusted") else -total
