"""`accrual tiers preview` and `POST /v1/programs/{id}/tiers/preview`: who tier types as they would
be written move up or down against the members' counters now, with nothing written (A138).

    report = preview_program(program_id, bundle.tiers, limit=100)
    report.members, report.counts["status"]["DOWN"], report.moves[:3]

The program's enrolled members are read in pages of `PAGE` (their levels and the counters the
tiers' criteria name, in one query each per page), so a program of 100,000 members is read in
100 short reads, never held in one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from engine.model.bundle import TierType
from engine.model.state import counter_reset_due
from engine.model.tier_preview import LevelPreview, preview_level
from engine.store.db import utcnow
from engine.store.models import PARTICIPANT, Enrolment, Participant, ParticipantTier, StateCounter
from engine.store.owner_state import live_level

PAGE = 1000


class MemberPreview(NamedTuple):
    participant_id: str
    external_id: str
    move: LevelPreview


@dataclass
class PreviewReport:
    members: int = 0  # enrolled members judged
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # tier -> UP/DOWN -> members
    moves: list[MemberPreview] = field(default_factory=list)  # the first `limit`, by participant id


def preview_program(
    program_id: str, tiers: Iterable[TierType], *, limit: int = 100, at: datetime | None = None
) -> PreviewReport:
    """Judge every enrolled member of the program by the ACTIVE `tiers`, as of `at` (now)."""
    at = at or utcnow()
    active = [tier for tier in tiers if tier.status == "ACTIVE"]
    keys = sorted({c.counter for t in active for lv in t.levels if lv.qualification for c in lv.qualification.criteria})
    report = PreviewReport(counts={tier.key: {"UP": 0, "DOWN": 0} for tier in active})
    after = ""
    while True:
        query = (
            Participant.select(Participant.id, Participant.external_id)
            .join(Enrolment, on=(Enrolment.participant == Participant.id))
            .where((Enrolment.program == program_id) & (Participant.id > after))
            .order_by(Participant.id)
            .limit(PAGE)
        )
        page = [(row.id, row.external_id) for row in query]
        if not page:
            return report
        _judge(report, page, program_id, active, keys, at, limit)
        after = page[-1][0]


def _judge(
    report: PreviewReport,
    page: list[tuple[str, str]],
    program_id: str,
    tiers: list[TierType],
    keys: list[str],
    at: datetime,
    limit: int,
) -> None:
    ids = [participant_id for participant_id, _ in page]
    levels = {
        (row.participant_id, row.tier_key): (row.level, row.rank)
        for row in ParticipantTier.select().where(
            ParticipantTier.participant.in_(ids) & (ParticipantTier.program == program_id) & live_level(at)
        )
    }
    counters: dict[str, dict[str, Decimal]] = {participant_id: {} for participant_id in ids}
    if keys:
        for row in StateCounter.select().where(
            (StateCounter.owner_type == PARTICIPANT) & StateCounter.owner_id.in_(ids) & StateCounter.key.in_(keys)
        ):
            expired = counter_reset_due(row.reset_after, row.last_reset_at, at)
            counters[row.owner_id][row.key] = Decimal(0) if expired else row.value
    for participant_id, external_id in page:
        report.members += 1
        for tier in tiers:
            move = preview_level(tier, levels.get((participant_id, tier.key)), counters[participant_id])
            if move is None:
                continue
            report.counts[tier.key][move.direction] += 1
            if len(report.moves) < limit:
                report.moves.append(MemberPreview(participant_id, external_id, move))
