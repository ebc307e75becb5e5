"""What one journal entry did to the value members hold: the categories of the liability report.

Members are participants and groups: the value they hold of an asset, in every bucket (AVAILABLE,
HELD, DEFERRED), is what the program owes (its liability). An entry changes it by the sum of its
postings on members' accounts (its *member delta*, per asset); moves inside members (HOLD,
RELEASE, MATURITY, transfers) change nothing. Each entry's delta falls in one category (A185):

    issued     CREDIT: value that reaches members from SYSTEM_ISSUANCE or a program wallet
    redeemed   value that members spend on rewards: entries that move it to or from
               SYSTEM_REDEMPTION, and entries of the REDEMPTION and REVERSAL types whatever their
               target (a reversal gives value back, so it lowers the redeemed figure)
    expired    EXPIRY: lots past their expiry, to SYSTEM_BREAKAGE
    forfeited  FORFEIT: value taken away, to SYSTEM_BREAKAGE
    adjusted   everything else: DEBIT, VOID_HOLD and any later movement type

so that, over any period, closing = opening + issued - redeemed - expired - forfeited + adjusted,
where `redeemed`, `expired` and `forfeited` are stated as the positive amounts that left.

    >>> category_of("FORFEIT", ["SYSTEM_BREAKAGE"])
    'forfeited'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from engine.store.models import GROUP, PARTICIPANT, SYSTEM_REDEMPTION

MEMBER_ENTITIES = (PARTICIPANT, GROUP)
ISSUED, REDEEMED, EXPIRED, FORFEITED, ADJUSTED = "issued", "redeemed", "expired", "forfeited", "adjusted"
CATEGORIES = (ISSUED, REDEEMED, EXPIRED, FORFEITED, ADJUSTED)
REDEMPTION_TYPES = frozenset({"REDEMPTION", "REVERSAL"})
ZERO = Decimal(0)


def category_of(action_type: str, counterparties: Iterable[str]) -> str:
    """The category of an entry of `action_type` whose non-member postings are on the entities
    `counterparties` (entity ids: SYSTEM_* names, program or other ids)."""
    if action_type in REDEMPTION_TYPES or SYSTEM_REDEMPTION in counterparties:
        return REDEEMED
    if action_type == "CREDIT":
        return ISSUED
    if action_type == "EXPIRY":
        return EXPIRED
    if action_type == "FORFEIT":
        return FORFEITED
    return ADJUSTED


@dataclass
class Flows:
    """The members' signed change per category (a redemption is a negative `redeemed` delta)."""

    deltas: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(CATEGORIES, ZERO))

    def add(self, category: str, delta: Decimal) -> None:
        self.deltas[category] += delta

    def merge(self, other: Flows) -> None:
        for category, delta in other.deltas.items():
            self.deltas[category] += delta

    @property
    def net(self) -> Decimal:
        return sum(self.deltas.values(), ZERO)

    # The report's figures: outflows as the positive amounts that left members.
    @property
    def issued(self) -> Decimal:
        return self.deltas[ISSUED]

    @property
    def redeemed(self) -> Decimal:
        return -self.deltas[REDEEMED]

    @property
    def expired(self) -> Decimal:
        return -self.deltas[EXPIRED]

    @property
    def forfeited(self) -> Decimal:
        return -self.deltas[FORFEITED]

    @property
    def adjusted(self) -> Decimal:
        return self.deltas[ADJUSTED]


@dataclass(frozen=True)
class PostingRow:
    """One posting with what its entry says: the input of `entry_deltas`."""

    entry_id: str
    program_id: str
    action_type: str
    asset_id: str
    entity_type: str
    entity_id: str
    amount: Decimal


@dataclass(frozen=True)
class EntryDelta:
    entry_id: str
    program_id: str
    asset_id: str
    category: str
    delta: Decimal


def entry_deltas(postings: Iterable[PostingRow]) -> list[EntryDelta]:
    """Each entry's member delta per asset with its category; entries that leave members'
    holdings unchanged yield nothing. Postings of one entry must be adjacent."""
    result: list[EntryDelta] = []
    group: list[PostingRow] = []
    for posting in postings:
        if group and posting.entry_id != group[0].entry_id:
            result.extend(_one_entry(group))
            group = []
        group.append(posting)
    if group:
        result.extend(_one_entry(group))
    return result


def _one_entry(postings: list[PostingRow]) -> list[EntryDelta]:
    first = postings[0]
    counterparties = [p.entity_id for p in postings if p.entity_type not in MEMBER_ENTITIES]
    category = category_of(first.action_type, counterparties)
    deltas: dict[str, Decimal] = {}
    for posting in postings:
        if posting.entity_type in MEMBER_ENTITIES:
            deltas[posting.asset_id] = deltas.get(posting.asset_id, ZERO) + posting.amount
    return [
        EntryDelta(first.entry_id, first.program_id, asset_id, category, delta)
        for asset_id, delta in deltas.items()
        if delta != 0
    ]
