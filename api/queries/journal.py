"""Journal entries for the API: the list filters, newest first; postings on the detail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec
import peewee

from api.errors import NotFound, field_error
from api.pagination import Page, paginate
from api.schemas.journal import JournalEntryOut, PostingOut
from engine.store.fields import canonical_decimal
from engine.store.models import GROUP, PARTICIPANT, PROGRAM, JournalEntry, Participant, Posting, Program, RuleEvaluation


class JournalFilters(msgspec.Struct, kw_only=True):
    program_id: str | None = None
    event_id: str | None = None
    rule_id: str | None = None
    participant_id: str | None = None
    group_id: str | None = None
    external_id: str | None = None
    asset_id: str | None = None
    bucket: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    action_type: str | None = None
    reference_id: str | None = None


def posting_out(row: Posting) -> PostingOut:
    return PostingOut(
        id=row.id,
        amount=canonical_decimal(row.amount),
        asset_id=row.asset_id,
        asset_symbol=row.asset_symbol,
        bucket=row.bucket,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        participant_id=row.entity_id if row.entity_type == PARTICIPANT else None,
        group_id=row.entity_id if row.entity_type == GROUP else None,
        program_id=row.entity_id if row.entity_type == PROGRAM else None,
        created_at=row.created_at,
    )


def entry_out(
    row: JournalEntry, program_names: dict[str, str], postings: list[PostingOut] | None = None
) -> JournalEntryOut:
    return JournalEntryOut(
        id=row.id,
        sequence=row.sequence,
        action_type=row.action_type,
        description=row.description,
        entry_hash=row.entry_hash,
        prev_hash=row.prev_hash,
        event_id=row.event_id,
        rule_id=row.rule_id,
        created_by_api_key_id=row.created_by_api_key_id,
        program_id=row.program_id,
        program_name=program_names.get(row.program_id or ""),
        reference_id=row.reference_id,
        created_at=row.created_at,
        postings=postings,
    )


def _names(program_ids: set[str | None]) -> dict[str, str]:
    """The names of these programs by id; an entry without a program (None) names none."""
    ids = [p for p in program_ids if p]
    return {p.id: p.name for p in Program.select(Program.id, Program.name).where(Program.id.in_(ids))} if ids else {}


def _posting_condition(org_id: str, filters: JournalFilters):
    """Entries with a posting that matches the posting-level filters (entity, asset, bucket, amount)."""
    entity = [v for v in (filters.participant_id, filters.group_id, filters.external_id) if v is not None]
    if len(entity) > 1:
        raise field_error("participant_id", "give at most one of participant_id, group_id and external_id")
    condition = None

    def add(expression):
        nonlocal condition
        condition = expression if condition is None else condition & expression

    if filters.participant_id is not None:
        add((Posting.entity_type == PARTICIPANT) & (Posting.entity_id == filters.participant_id))
    if filters.group_id is not None:
        add((Posting.entity_type == GROUP) & (Posting.entity_id == filters.group_id))
    if filters.external_id is not None:
        person = Participant.get_or_none(
            (Participant.organisation == org_id) & (Participant.external_id == filters.external_id)
        )
        add((Posting.entity_type == PARTICIPANT) & (Posting.entity_id == (person.id if person else "")))
    if filters.asset_id is not None:
        add((Posting.asset == filters.asset_id) | (Posting.asset_symbol == filters.asset_id))
    if filters.bucket is not None:
        add(Posting.bucket == filters.bucket)
    # Amounts are text on SQLite: compare them as numbers on both backends.
    if filters.min_amount is not None:
        add(Posting.amount.cast("NUMERIC") >= _number(filters.min_amount))
    if filters.max_amount is not None:
        add(Posting.amount.cast("NUMERIC") <= _number(filters.max_amount))
    return condition


def _number(value: Decimal) -> peewee.Cast:
    return peewee.Cast(peewee.Value(canonical_decimal(value)), "NUMERIC")


def list_entries(org_id: str, filters: JournalFilters, *, limit: int, cursor: str | None) -> Page[JournalEntryOut]:
    query = JournalEntry.select().where(JournalEntry.organisation == org_id)
    for column, value in (
        (JournalEntry.program, filters.program_id),
        (JournalEntry.event_id, filters.event_id),
        (JournalEntry.rule_id, filters.rule_id),
        (JournalEntry.action_type, filters.action_type),
        (JournalEntry.reference_id, filters.reference_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.rule_id is not None:
        # Journal entries have no index by rule: a rule's entries belong to the events where it
        # succeeded, which the partial index `rule_evaluation_rule_success` finds.
        query = query.where(
            JournalEntry.event_id.in_(
                RuleEvaluation.select(RuleEvaluation.event).where(
                    (RuleEvaluation.rule_id == filters.rule_id) & peewee.SQL("status = 'SUCCESS'")
                )
            )
        )
    if filters.created_from is not None:
        query = query.where(JournalEntry.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(JournalEntry.created_at <= filters.created_to)
    condition = _posting_condition(org_id, filters)
    if condition is not None:
        query = query.where(JournalEntry.id.in_(Posting.select(Posting.entry).where(condition)))
    page = paginate(
        query,
        keys=[JournalEntry.sequence],
        descending=True,
        limit=limit,
        cursor=cursor,
        listing="journal-entries",
        render=lambda row: row,
    )
    names = _names({row.program_id for row in page.data})
    return Page(data=[entry_out(row, names) for row in page.data], pagination=page.pagination)


def get_entry(org_id: str, entry_id: str) -> JournalEntryOut:
    row = JournalEntry.get_or_none((JournalEntry.id == entry_id) & (JournalEntry.organisation == org_id))
    if row is None:
        raise NotFound("journal entry not found")
    postings = [posting_out(p) for p in Posting.select().where(Posting.entry == row.id).order_by(Posting.position)]
    return entry_out(row, _names({row.program_id}), postings)
