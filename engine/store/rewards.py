"""A program's rewards catalog as stored rows: created, patched and archived, and read as the rules
of redemption see them (`engine.model.spending.CatalogItem`).

    row = create_reward(org.id, program.id, Reward(name="Free coffee", redemption_type="UNIT_BASED",
                                                   asset_id="STAMP", unit_cost="10", max_total=500))
    row = update_reward(org.id, program.id, row.id, {"status": "ARCHIVED"})

A reward's name is unique in its program (archived rewards keep theirs); its type and asset never
change. Its status is DRAFT, ACTIVE or ARCHIVED as set, except that an ACTIVE reward whose
redeemed units reach `max_total` is OUT_OF_STOCK until a reversal (or a larger `max_total`)
frees a unit. ARCHIVED is not one way: a reward can be set back to DRAFT or ACTIVE.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.model.rewards import Reward
from engine.model.spending import SETTABLE_STATUSES, CatalogItem, reward_problems, stock_status
from engine.store import lookups
from engine.store.db import unique_insert, utcnow, write_transaction
from engine.store.errors import Conflict, Duplicate, LedgerRejected, NotFound
from engine.store.ledger.accounts import lock
from engine.store.ledger.journal import parse_amount
from engine.store.models import RewardRecord

MUTABLE = (
    "name",
    "description",
    "category",
    "metadata",
    "unit_cost",
    "max_total",
    "max_per_participant",
    "status",
    "available_from",
    "available_until",
)
IMMUTABLE = ("redemption_type", "asset_id")


def create_reward(organisation_id: str, program_id: str, spec: Reward, *, status: str | None = None) -> RewardRecord:
    """Store a catalog item of the program; `asset_id` (an id or a symbol) must be linked to it.
    `status` overrides the spec's (the API's create names it)."""
    with write_transaction():
        program = lookups.program(organisation_id, program_id)
        asset = lookups.linked_asset(organisation_id, program.id, spec.asset_id)
        fields = {
            "name": spec.name,
            "description": spec.description,
            "category": spec.category,
            "metadata": spec.metadata or None,
            "unit_cost": parse_amount(spec.unit_cost, asset, what="unit_cost"),
            "max_total": spec.max_total,
            "max_per_participant": spec.max_per_participant,
            "available_from": spec.available_from,
            "available_until": spec.available_until,
        }
        wanted = status or spec.status
        _check(spec.redemption_type, fields, wanted)
        try:
            with unique_insert():
                return RewardRecord.create(
                    organisation=organisation_id,
                    program=program.id,
                    asset=asset.id,
                    redemption_type=spec.redemption_type,
                    status=stock_status(wanted, redeemed_count=0, max_total=spec.max_total),
                    deleted_at=utcnow() if wanted == "ARCHIVED" else None,
                    **fields,
                )
        except Duplicate:
            raise Conflict(f"a reward named {spec.name!r} exists in this program", code="already_exists") from None


def update_reward(organisation_id: str, program_id: str, reward_id: str, changes: dict[str, Any]) -> RewardRecord:
    """Apply `changes` (fields of `MUTABLE`; `IMMUTABLE` ones only with their current value).
    The reward row is locked, so a concurrent redemption sees the reward before or after."""
    with write_transaction():
        row = locked_reward(organisation_id, program_id, reward_id)
        asset = row.asset
        for field in IMMUTABLE:
            if field in changes and changes[field] not in (getattr(row, field), asset.symbol):
                raise LedgerRejected(f"{field} cannot change", code="bad_request", field=field, reason="immutable")
        fields = {field: getattr(row, field) for field in MUTABLE}
        for field in MUTABLE:
            if field in changes:
                fields[field] = changes[field]
        if "unit_cost" in changes:
            fields["unit_cost"] = parse_amount(changes["unit_cost"], asset, what="unit_cost")
        if "metadata" in changes:
            fields["metadata"] = changes["metadata"] or None
        wanted = fields["status"] if "status" in changes else _settable(row.status)
        _check(row.redemption_type, fields, wanted)
        fields["status"] = stock_status(wanted, redeemed_count=row.redeemed_count, max_total=fields["max_total"])
        if fields["status"] == "ARCHIVED" and row.status != "ARCHIVED":
            row.deleted_at = utcnow()
        elif fields["status"] != "ARCHIVED":
            row.deleted_at = None
        for field, value in fields.items():
            setattr(row, field, value)
        try:
            with unique_insert():
                row.save()
        except Duplicate:
            raise Conflict(f"a reward named {fields['name']!r} exists in this program", code="already_exists") from None
        return row


def reward_row(organisation_id: str, program_id: str, reward_id: str) -> RewardRecord:
    """The program's reward (archived too); `NotFound` for another program's or organisation's."""
    lookups.program(organisation_id, program_id)
    row = RewardRecord.get_or_none(
        (RewardRecord.id == reward_id)
        & (RewardRecord.organisation == organisation_id)
        & (RewardRecord.program == program_id)
    )
    if row is None:
        raise NotFound(f"reward {reward_id} not found in this program", resource="reward", id=reward_id)
    return row


def locked_reward(organisation_id: str, program_id: str | None, reward_id: str) -> RewardRecord:
    """The reward, locked for this transaction (`FOR UPDATE` on PostgreSQL)."""
    query = RewardRecord.select().where((RewardRecord.id == reward_id) & (RewardRecord.organisation == organisation_id))
    if program_id is not None:
        query = query.where(RewardRecord.program == program_id)
    row = lock(query).first()
    if row is None:
        raise NotFound(f"reward {reward_id} not found in this program", resource="reward", id=reward_id)
    return row


def catalog_item(row: RewardRecord) -> CatalogItem:
    return CatalogItem(
        name=row.name,
        redemption_type=row.redemption_type,
        unit_cost=row.unit_cost,
        status=row.status,
        max_total=row.max_total,
        max_per_participant=row.max_per_participant,
        available_from=row.available_from,
        available_until=row.available_until,
        redeemed_count=row.redeemed_count,
    )


def _settable(status: str) -> str:
    """The status as set: OUT_OF_STOCK is an ACTIVE reward without stock."""
    return "ACTIVE" if status == "OUT_OF_STOCK" else status


def _check(redemption_type: str, fields: dict[str, Any], status: str) -> None:
    if status not in SETTABLE_STATUSES:
        raise LedgerRejected(
            f"status must be one of {', '.join(SETTABLE_STATUSES)} (OUT_OF_STOCK follows the stock)",
            code="bad_request",
            field="status",
        )
    problems = reward_problems(
        redemption_type=redemption_type,
        unit_cost=Decimal(fields["unit_cost"]),
        max_total=fields["max_total"],
        max_per_participant=fields["max_per_participant"],
        available_from=fields["available_from"],
        available_until=fields["available_until"],
    )
    if problems:
        field, message = problems[0]
        raise LedgerRejected(message, code="bad_request", field=field)
