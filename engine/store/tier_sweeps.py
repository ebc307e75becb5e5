"""The tier lifecycle's due work, found and applied in storage (D33, A132): levels whose period
end, pending drop, inactivity wait or `expires_at` has come.

    taken = review_due_tiers(now, limit=500, on_moved=report)   # levels reviewed; `report` sees the moves

Each level is claimed in the transaction that applies it: the participant is locked (the lock
order of event processing), the level's row read again and reviewed only while it is still due,
and its new schedule written with the change, the rolled-over counters, the state history and
(through `on_moved`, inside the transaction) the webhooks. A level reviewed by another worker, or
moved by the member's own event meanwhile, is no longer due; so each period end is applied
exactly once per member, whatever crashes or however many workers sweep. Levels go
`TIERS_PER_TRANSACTION` to a commit, earliest due first, so a program of 100,000 members is
evaluated in short transactions with progress, never in one. Groups' levels (`group_tier`, A257)
are taken up by the same pass in the same order, each under its group's lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from engine.model.bundle import TierType
from engine.model.tier_lifecycle import Outcome, review
from engine.store import owner_state, statements, tier_rollovers, tier_standing
from engine.store.db import database_proxy, is_postgres, write_transaction
from engine.store.models import PARTICIPANT, EventRecord, StateCounter, TierTypeRecord
from engine.store.state_records import HistoryBuffer, Origin
from engine.store.tier_holders import HOLDERS, TierHolder
from engine.store.tier_standing import TierMove
from engine.store.tier_types import program_zone

TIERS_PER_TRANSACTION = 50
log = logging.getLogger("accrual.scheduler")
MovedHook = Callable[[list[TierMove]], None]


def due_tier_ids(now: datetime, limit: int) -> list[tuple[str, str]]:
    """(owner type, row id) of the levels, members' and groups', with something due at `now`,
    earliest first (through the partial indexes on due_at)."""
    found: list[tuple[datetime, str, str]] = []
    for holder in HOLDERS.values():
        model = holder.levels
        query = (
            model.select(model.id, model.due_at)
            .where(model.due_at.is_null(False) & (model.due_at <= now))
            .order_by(model.due_at)
            .limit(limit)
        )
        found += [(row.due_at, holder.owner_type, row.id) for row in query]
    return [(owner_type, row_id) for _, owner_type, row_id in sorted(found)[:limit]]


def count_due_tiers(now: datetime) -> int:
    """How many levels have something due at `now` (for progress)."""
    return sum(
        holder.levels.select().where(holder.levels.due_at.is_null(False) & (holder.levels.due_at <= now)).count()
        for holder in HOLDERS.values()
    )


def review_due_tiers(now: datetime, limit: int = 500, on_moved: MovedHook | None = None) -> int:
    """Review up to `limit` due levels, `TIERS_PER_TRANSACTION` per transaction; returns how many
    were taken up (reviewed, or found reviewed already). Each level is reviewed in a savepoint, so
    one that fails is logged and stays due without holding up the others."""
    ids = due_tier_ids(now, limit)
    sweep = _Sweep(now)
    taken = 0
    for start in range(0, len(ids), TIERS_PER_TRANSACTION):
        with write_transaction():
            moves: list[TierMove] = []
            history = HistoryBuffer()
            for owner_type, row_id in ids[start : start + TIERS_PER_TRANSACTION]:
                own = HistoryBuffer()  # kept only if the level's review commits
                try:
                    with database_proxy.atomic():  # a savepoint: a level that fails leaves the others
                        found = sweep.review_one(row_id, own, HOLDERS[owner_type])
                except Exception:  # a bug or a broken row: logged, left due, not counted (so a pass ends)
                    log.exception("tier level %s could not be reviewed", row_id)
                    continue
                history.rows += own.rows
                moves += found
                taken += 1
            history.flush()
            if on_moved is not None and moves:
                on_moved(moves)
    return taken


def review_due_levels(
    event: EventRecord, participant_id: str, at: datetime, *, rollovers: bool = True, owner_type: str = PARTICIPANT
) -> list[TierMove]:
    """The participant's levels in the event's program with something due by `at` (the event's
    receive time), reviewed in the event's transaction before it is evaluated (A139), as lots are
    settled first (A96), and then the rollovers due of the tiers they hold no level of (A216,
    `rollovers`: the program has a tier that rolls counters over): the event sees the level and
    counters a timely sweep would have left, and its counters count toward the period it arrived
    in. One read each when nothing is due; otherwise the locks are taken in the order of event
    processing (the event, the ledger head, the participant, its levels), so neither the `tiers`
    job nor a direct operation can deadlock with it. With `owner_type=GROUP`, the same for the
    group the event names (A258)."""
    program_id, holder = event.program_id, HOLDERS[owner_type]
    found = statements.fetch(
        holder.levels,
        f"{holder.column} = {{p}} AND program_id = {{p}} AND due_at IS NOT NULL AND due_at <= {{p}}",
        [participant_id, program_id, holder.levels.due_at.db_value(at)],
    )
    if not found and not (rollovers and tier_rollovers.due_for(participant_id, program_id, at, owner_type)):
        return []
    if is_postgres():
        database_proxy.execute_sql('SELECT 1 FROM "event" WHERE id = %s FOR UPDATE', [event.id])
        database_proxy.execute_sql('SELECT 1 FROM "ledger_head" WHERE id = %s FOR UPDATE', [event.organisation_id])
    sweep, history, moves = _Sweep(at), HistoryBuffer(), []
    for row in found:
        moves += sweep.review_one(row.id, history, holder)
    for row_id in tier_rollovers.due_for(participant_id, program_id, at, owner_type):  # a removed level's
        tier_rollovers.claim_and_roll(row_id, at, history, owner_type=owner_type)
    history.flush()
    return [replace(move, event_id=event.id) for move in moves]


class _Sweep:
    """One pass: the tier types and zones it has read, so a batch reads each once."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.specs: dict[str, tuple[TierType, tzinfo]] = {}

    def _tier(self, tier_type_id: str) -> tuple[TierType, tzinfo]:
        if tier_type_id not in self.specs:
            record = TierTypeRecord.get_by_id(tier_type_id)
            spec = tier_standing.active_spec(record)
            self.specs[tier_type_id] = (spec, program_zone(record.program_id))
        return self.specs[tier_type_id]

    def review_one(
        self, row_id: str, history: HistoryBuffer, holder: TierHolder = HOLDERS[PARTICIPANT]
    ) -> list[TierMove]:
        """Claim and review one level of `holder`'s table: the owner locked (the participant's or
        the group's row, A242), the row read again locked and reviewed only while still due."""
        found = statements.fetch(holder.levels, "id = {p}", [row_id])
        if not found:
            return []  # removed meanwhile
        owner_id = holder.owner_id(found[0])
        owner_state.lock_owner(holder.owner_type, owner_id)
        found = statements.fetch(holder.levels, "id = {p}", [row_id], for_update=True)
        if not found or found[0].due_at is None or found[0].due_at > self.now:
            return []  # reviewed, or moved by an event, meanwhile: no longer due
        row = found[0]
        spec, tz = self._tier(row.tier_type_id)
        counters = tier_rollovers.counter_rows(owner_id, holder.owner_type)
        values = {key: tier_rollovers.effective(counter, self.now) for key, counter in counters.items()}
        outcome = review(spec, tier_standing.standing_of(row), values, self.now, tz)
        self._write(row, outcome, counters, history, holder)
        return [
            TierMove(
                row.organisation_id,
                owner_id,
                row.program_id,
                row.tier_key,
                change.old_level,
                change.old_rank,
                change.new_level,
                change.new_rank,
                change.reason,
                change.at,
                owner_type=holder.owner_type,
            )
            for change in outcome.changes
        ]

    def _write(
        self,
        row: Any,
        outcome: Outcome,
        counters: dict[str, StateCounter],
        history: HistoryBuffer,
        holder: TierHolder,
    ) -> None:
        owner_id = holder.owner_id(row)
        for change in outcome.changes:
            origin = Origin(program_id=row.program_id, at=change.at)
            operation = "set" if change.new_level is not None else "delete"
            history.record(
                row.organisation_id,
                holder.owner_type,
                owner_id,
                "tier",
                row.tier_key,
                operation,
                change.old_level,
                change.new_level,
                origin,
                change.reason,
            )
        if outcome.standing is None:
            holder.levels.delete().where(holder.levels.id == row.id).execute()
            removed_at = outcome.changes[-1].at if outcome.changes else self.now
            tier_rollovers.start_after_level(row, removed_at, outcome.period_ends_at, holder.owner_type)
        else:
            moved = outcome.standing.level != row.level
            extra = {"acquired_at": outcome.changes[-1].at} if moved and outcome.changes else {}
            tier_standing.write_standing(row.id, outcome.standing, holder.levels, **extra)
        tier_rollovers.write_rolled(
            row.organisation_id,
            owner_id,
            row.program_id,
            counters,
            outcome.counters,
            self.now,
            history,
            holder.owner_type,
        )
