"""Qualifying counters rolled over at period ends for participants who hold no level (A215, A216).

A level's row schedules its own period ends, and its review rolls the counters over
(`engine.store.tier_sweeps`). A member without a level has a `tier_rollover` row instead, one per
tier type, holding the next period end at which their qualifying counters roll over:

    track(org_id, participant_id, ["miles"], received_at, [program_id])  # progress: schedule it
    rolled = roll_over_due_members(now, limit=500)                       # the scheduler's job
    for row_id in due_for(participant_id, program_id, received_at):      # an event, first
        claim_and_roll(row_id, received_at, history)

The row is written when a qualifying counter of a member without a level is written, when a
member's level is removed (their period goes on), and for the counters already held when a tier
starts rolling them over (`tier_types.schedule_rollovers`). It is taken over by a level set later
(`hand_over`: what is due is rolled over first, then the level's row schedules the periods), and
deleted once a rollover leaves every qualifying counter at 0, so the table holds only members with
progress to carry. Each row is claimed as levels are: the participant locked, the row read again
locked and rolled over only while still due, in the transaction that writes the counters and
their history; so each period end rolls a member's counters over once, whatever crashes or
however many workers sweep. Rows go `ROLLOVERS_PER_TRANSACTION` to a commit, earliest due first.
A group's qualifying counters are scheduled and rolled over the same way, in `group_tier_rollover`
(`owner_type=GROUP`, A257).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from engine.model.bundle import TierType
from engine.model.qualification_periods import next_boundary
from engine.model.state import counter_reset_due
from engine.model.tier_lifecycle import roll_over_due, rolls_over
from engine.store import statements, tier_standing
from engine.store.db import database_proxy, new_id, write_transaction
from engine.store.fields import canonical_decimal
from engine.store.models import PARTICIPANT, Enrolment, Program, StateCounter, TierTypeRecord
from engine.store.state_records import HistoryBuffer, Origin
from engine.store.tier_holders import HOLDERS, TierHolder
from engine.store.tier_types import program_zone, tier_to_bundle

ROLLOVERS_PER_TRANSACTION = 50
log = logging.getLogger("accrual.scheduler")


# --- counters, shared with the levels' reviews ---------------------------------------------------


def counter_rows(owner_id: str, owner_type: str = PARTICIPANT) -> dict[str, StateCounter]:
    rows = statements.fetch(StateCounter, "owner_type = {p} AND owner_id = {p}", [owner_type, owner_id])
    return {row.key: row for row in rows}


def effective(counter: StateCounter, at: datetime) -> Decimal:
    """A counter's value as rules see it at `at` (0 once its own reset is due)."""
    return Decimal(0) if counter_reset_due(counter.reset_after, counter.last_reset_at, at) else counter.value


def write_rolled(
    organisation_id: str,
    participant_id: str,
    program_id: str,
    counters: dict[str, StateCounter],
    rolled: dict[str, Decimal],
    at: datetime,
    history: HistoryBuffer,
    owner_type: str = PARTICIPANT,
) -> None:
    """Write the counters a period end rolled over, each an `auto_reset` with the reason
    PERIOD_END in state history (A133); a counter the rollover leaves as it was is not touched."""
    for key, value in rolled.items():
        counter = counters.get(key)
        if counter is None or effective(counter, at) == value:
            continue
        old = canonical_decimal(counter.value)
        StateCounter.update(value=value, updated_at=at).where(StateCounter.id == counter.id).execute()
        counter.value = value
        history.record(
            organisation_id,
            owner_type,
            participant_id,
            "counter",
            key,
            "auto_reset",
            old,
            canonical_decimal(value),
            Origin(program_id=program_id, at=at),
            "PERIOD_END",
        )


# --- scheduling ----------------------------------------------------------------------------------


def track(
    organisation_id: str,
    participant_id: str,
    keys: Iterable[str],
    at: datetime,
    program_ids: list[str] | None = None,
    owner_type: str = PARTICIPANT,
) -> int:
    """Counters `keys` of the participant (or group) were written at `at`: schedule the rollover
    of each ACTIVE tier type of `program_ids` (default: the programs the participant is enrolled
    in; every program of the organisation for a group, which is enrolled in none) that rolls one
    of them over and of which the owner holds no level, at the first period end after `at` (one
    scheduled already is kept). The caller holds the owner's lock. Returns how many were
    scheduled now."""
    written = set(keys)
    if not written:
        return 0
    holder = HOLDERS[owner_type]
    if program_ids is None:
        program_ids = _programs_of(organisation_id, participant_id, holder)
    if not program_ids:
        return 0
    records = TierTypeRecord.select().where(
        TierTypeRecord.program.in_(program_ids) & (TierTypeRecord.status == "ACTIVE")
    )
    tiers = [(record, spec) for record in records if rolls_over(spec := tier_to_bundle(record))]
    tiers = [(record, spec) for record, spec in tiers if written & set(spec.lifecycle.qualifying)]
    if not tiers:
        return 0
    levels = holder.levels
    held = {
        row.tier_type_id
        for row in levels.select(levels.tier_type).where(
            holder.owned(levels, participant_id) & levels.tier_type.in_([record.id for record, _ in tiers])
        )
    }
    rows = [
        _row(organisation_id, participant_id, record, _next_end(record, spec, at), holder)
        for record, spec in tiers
        if record.id not in held
    ]
    return statements.insert(holder.rollovers, rows, ignore_conflicts=True) if rows else 0


def _programs_of(organisation_id: str, owner_id: str, holder: TierHolder) -> list[str]:
    """The programs whose tiers an owner's counters can count toward: a participant's
    enrolments, and every program of the organisation for a group."""
    if holder.owner_type == PARTICIPANT:
        query = Enrolment.select(Enrolment.program).where(Enrolment.participant == owner_id)
        return [row.program_id for row in query]
    return [row.id for row in Program.select(Program.id).where(Program.organisation == organisation_id)]


def track_event(
    organisation_id: str,
    participant_id: str,
    program_id: str,
    keys: set[str],
    at: datetime,
    rolling: Mapping[str, frozenset[str]],
    owner_type: str = PARTICIPANT,
) -> int:
    """`track` for the counters an event wrote, given the program's tiers that roll counters over
    (tier key -> its qualifying counters): one read when the participant has a schedule or a level
    of each tier the counters concern already, as they have after their first progress."""
    wanted = {tier for tier, counters in rolling.items() if counters & keys}
    if not wanted:
        return 0
    holder = HOLDERS[owner_type]
    rollovers, levels, column = holder.rollovers._meta.table_name, holder.levels._meta.table_name, holder.column
    covered = statements.rows(
        f"SELECT tier_key FROM {rollovers} WHERE {column} = {{p}} AND program_id = {{p}} "
        f"UNION ALL SELECT tier_key FROM {levels} WHERE {column} = {{p}} AND program_id = {{p}}",
        [participant_id, program_id, participant_id, program_id],
        (str,),
    )
    if wanted <= {tier for (tier,) in covered}:
        return 0
    return track(organisation_id, participant_id, keys, at, [program_id], owner_type)


def _row(
    organisation_id: str, owner_id: str, record: TierTypeRecord, period_ends_at: datetime, holder: TierHolder
) -> dict:
    return {
        "id": new_id(),
        "organisation": organisation_id,
        holder.field: owner_id,
        "program": record.program_id,
        "tier_type": record.id,
        "tier_key": record.key,
        "period_ends_at": period_ends_at,
    }


def _next_end(record: TierTypeRecord, spec: TierType, at: datetime) -> datetime:
    """The first period end after `at`."""
    period = spec.lifecycle.qualification_period
    assert period is not None  # `rolls_over`
    return next_boundary(period, at, program_zone(record.program_id))


def start_after_level(row: Any, at: datetime, period_ends_at: datetime | None, owner_type: str = PARTICIPANT) -> None:
    """The owner's level `row` was removed at `at`: their period goes on, so their counters
    roll over at `period_ends_at` (the level's next period end not rolled over at yet; the first
    after `at` when it had none) as a member's without a level do."""
    holder = HOLDERS[owner_type]
    record = TierTypeRecord.get_by_id(row.tier_type_id)
    spec = tier_standing.active_spec(record)
    if rolls_over(spec):
        due = period_ends_at if period_ends_at is not None else _next_end(record, spec, at)
        rows = [_row(row.organisation_id, holder.owner_id(row), record, due, holder)]
        statements.insert(holder.rollovers, rows, ignore_conflicts=True)


def hand_over(
    participant_id: str, tier_type_id: str, at: datetime, history: HistoryBuffer, owner_type: str = PARTICIPANT
) -> None:
    """A level of the tier is set at `at` for an owner who held none: what their schedule
    has due by then is rolled over first (the level is judged on the period it is set in), then
    the level's row schedules the periods and this one goes."""
    holder = HOLDERS[owner_type]
    found = statements.fetch(
        holder.rollovers,
        f"{holder.column} = {{p}} AND tier_type_id = {{p}}",
        [participant_id, tier_type_id],
        for_update=True,
    )
    if not found:
        return
    if found[0].period_ends_at <= at:
        _roll_over(found[0], at, history, Tiers(), holder)
    holder.rollovers.delete().where(holder.rollovers.id == found[0].id).execute()


# --- the scheduler's job and the event's first step ----------------------------------------------


def count_due_rollovers(now: datetime) -> int:
    """How many members and groups without a level have a rollover due at `now` (for progress)."""
    return sum(
        holder.rollovers.select().where(holder.rollovers.period_ends_at <= now).count() for holder in HOLDERS.values()
    )


def _due_ids(now: datetime, limit: int) -> list[tuple[str, str]]:
    """(owner type, row id) of the `limit` earliest rollovers due at `now`, members' and groups'."""
    found: list[tuple[datetime, str, str]] = []
    for holder in HOLDERS.values():
        model = holder.rollovers
        query = (
            model.select(model.id, model.period_ends_at)
            .where(model.period_ends_at <= now)
            .order_by(model.period_ends_at)
            .limit(limit)
        )
        found += [(row.period_ends_at, holder.owner_type, row.id) for row in query]
    return [(owner_type, row_id) for _, owner_type, row_id in sorted(found)[:limit]]


def roll_over_due_members(now: datetime, limit: int = 500) -> int:
    """Roll over up to `limit` due members and groups, `ROLLOVERS_PER_TRANSACTION` per
    transaction, earliest first; returns how many were taken up (rolled over, or found done
    already). Each in a savepoint: one that fails is logged and stays due without holding up the
    others."""
    ids = _due_ids(now, limit)
    taken, tiers = 0, Tiers()
    for start in range(0, len(ids), ROLLOVERS_PER_TRANSACTION):
        with write_transaction():
            history = HistoryBuffer()
            for owner_type, row_id in ids[start : start + ROLLOVERS_PER_TRANSACTION]:
                own = HistoryBuffer()  # kept only if the member's rollover commits
                try:
                    with database_proxy.atomic():
                        claim_and_roll(row_id, now, own, tiers, owner_type)
                except Exception:  # a bug or a broken row: logged, left due, not counted (so a pass ends)
                    log.exception("tier rollover %s could not be applied", row_id)
                    continue
                history.rows += own.rows
                taken += 1
            history.flush()
    return taken


def due_for(participant_id: str, program_id: str, at: datetime, owner_type: str = PARTICIPANT) -> list[str]:
    """The owner's rollovers in the program due by `at` (an event's receive time): the event
    rolls them over in its transaction before it is evaluated, as its due levels are reviewed
    (A139), so its counters count toward the period it arrived in (`claim_and_roll` each)."""
    holder = HOLDERS[owner_type]
    found = statements.fetch(
        holder.rollovers,
        f"{holder.column} = {{p}} AND program_id = {{p}} AND period_ends_at <= {{p}}",
        [participant_id, program_id, holder.rollovers.period_ends_at.db_value(at)],
    )
    return [row.id for row in found]


class Tiers:
    """The tier types (as their lifecycles run) and program zones one pass has read, each once."""

    def __init__(self) -> None:
        self.read: dict[str, tuple[TierType, tzinfo]] = {}

    def __call__(self, tier_type_id: str) -> tuple[TierType, tzinfo]:
        if tier_type_id not in self.read:
            record = TierTypeRecord.get_by_id(tier_type_id)
            self.read[tier_type_id] = (tier_standing.active_spec(record), program_zone(record.program_id))
        return self.read[tier_type_id]


def claim_and_roll(
    row_id: str, now: datetime, history: HistoryBuffer, tiers: Tiers | None = None, owner_type: str = PARTICIPANT
) -> None:
    """Lock the owner (the participant's or the group's row), read the row again locked, and roll
    over only while it is still due."""
    holder = HOLDERS[owner_type]
    found = statements.fetch(holder.rollovers, "id = {p}", [row_id])
    if not found:
        return  # taken over by a level, or emptied, meanwhile
    statements.fetch(holder.owners, "id = {p}", [holder.owner_id(found[0])], for_update=True)
    found = statements.fetch(holder.rollovers, "id = {p}", [row_id], for_update=True)
    if found and found[0].period_ends_at <= now:
        _roll_over(found[0], now, history, tiers or Tiers(), holder)


def _roll_over(row: Any, now: datetime, history: HistoryBuffer, tiers: Tiers, holder: TierHolder) -> None:
    """Every period end of `row` due by `now`, in turn; the row then waits for the next one, or
    goes when nothing is left to carry (or the owner holds a level, whose row rolls them over)."""
    owner_id, model = holder.owner_id(row), holder.rollovers
    held = statements.fetch(
        holder.levels, f"{holder.column} = {{p}} AND tier_type_id = {{p}}", [owner_id, row.tier_type_id]
    )
    spec, tz = tiers(row.tier_type_id)
    counters = counter_rows(owner_id, holder.owner_type)
    values = {key: effective(counter, now) for key, counter in counters.items()}
    rolled, next_end = ({}, None) if held else roll_over_due(spec, row.period_ends_at, values, now, tz)
    write_rolled(row.organisation_id, owner_id, row.program_id, counters, rolled, now, history, holder.owner_type)
    values.update(rolled)
    if next_end is None or all(values.get(key, Decimal(0)) == 0 for key in spec.lifecycle.qualifying):
        model.delete().where(model.id == row.id).execute()
    else:
        model.update(period_ends_at=next_end).where(model.id == row.id).execute()
