"""Programs and assets for the API: reads with their list filters, and writes. New assets go
through `engine.store.catalog.create_asset`; storage has no writer of its own for programs or for
asset patches, so these keep its conventions: UUIDv7 ids, soft archive, `rules_version` bumped
whenever what a compiled program depends on changes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from msgspec import UNSET, UnsetType

from api.errors import Conflict, NotFound, field_error
from api.pagination import Page, paginate
from api.schemas.programs import (
    AssetCreate,
    AssetOut,
    AssetPatch,
    ProgramCreate,
    ProgramOut,
    ProgramPatch,
    WalletBalance,
)
from engine.model.bundle import Asset as AssetSpec
from engine.model.calendar import time_zone_problem
from engine.rules.event_types import declared_event_types
from engine.store import catalog
from engine.store.db import utcnow, write_transaction
from engine.store.fields import canonical_decimal
from engine.store.ledger.accounts import balances_of
from engine.store.models import PROGRAM, Asset, Program, ProgramAsset
from engine.store.programs import touch_program


def amount_text(value: Decimal | None, scale: int) -> str:
    """A decimal string at the asset's scale. Example: `amount_text(Decimal(5), 2)` -> `"5.00"`."""
    return canonical_decimal((value or Decimal(0)).quantize(Decimal(1).scaleb(-scale)))


def program_out(row: Program) -> ProgramOut:
    return ProgramOut(
        id=row.id,
        name=row.name,
        description=row.description,
        key=row.key,
        on_unknown_participant=row.on_unknown_participant,
        status=row.status,
        redemption_target_type=row.redemption_target_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        redemption_target_id=row.redemption_target_id if row.redemption_target_type == "ledger_entity" else None,
        timezone=row.timezone,
        event_types=row.event_types,
        event_validation=row.event_validation,
    )


def _checked_settings(timezone: str | None, event_types: Any) -> None:
    """A program's time zone and declared event types are checked where they are written."""
    if timezone is not None:
        problem = time_zone_problem(timezone)
        if problem is not None:
            raise field_error("timezone", problem, reason="unknown_timezone")
    if event_types:
        _, problems = declared_event_types(event_types)
        if problems:
            first = problems[0]
            path = ".".join(str(part) for part in first.path)
            raise field_error(f"event_types.{path}", first.message, reason=first.code)


def get_program_row(org_id: str, program_id: str) -> Program:
    row = Program.get_or_none((Program.id == program_id) & (Program.organisation == org_id))
    if row is None:
        raise NotFound("program not found")
    return row


def create_program(org_id: str, data: ProgramCreate) -> ProgramOut:
    _checked_settings(data.timezone, data.event_types)
    with write_transaction():
        if data.key and Program.select().where((Program.organisation == org_id) & (Program.key == data.key)).exists():
            raise Conflict(f"a program with key {data.key!r} already exists", code="already_exists")
        row = Program.create(
            organisation=org_id,
            name=data.name,
            description=data.description,
            on_unknown_participant=data.on_unknown_participant,
            key=data.key,
            timezone=data.timezone,
            event_types=data.event_types or None,
            event_validation=data.event_validation,
        )
    return program_out(row)


def list_programs(
    org_id: str,
    *,
    status: str | None,
    include_archived: bool,
    search: str | None,
    sort_by: Literal["created_at", "name"],
    descending: bool,
    limit: int,
    cursor: str | None,
) -> Page[ProgramOut]:
    query = Program.select().where(Program.organisation == org_id)
    if status is not None:
        query = query.where(Program.status == status)
    elif not include_archived:
        query = query.where(Program.status != "ARCHIVED")
    if search:
        query = query.where(Program.name.contains(search))
    keys = [Program.created_at if sort_by == "created_at" else Program.name, Program.id]
    return paginate(
        query, keys=keys, descending=descending, limit=limit, cursor=cursor, listing="programs", render=program_out
    )


def patch_program(org_id: str, program_id: str, data: ProgramPatch) -> ProgramOut:
    with write_transaction():
        row = get_program_row(org_id, program_id)
        _checked_settings(
            None if data.timezone is UNSET else data.timezone, None if data.event_types is UNSET else data.event_types
        )
        for name in ("name", "description", "on_unknown_participant"):
            if getattr(data, name) is not UNSET:
                setattr(row, name, getattr(data, name))
        if data.event_validation is not UNSET:
            row.event_validation = data.event_validation
        compiled_from = data.timezone is not UNSET or data.event_types is not UNSET
        if compiled_from:
            row.timezone = row.timezone if data.timezone is UNSET else data.timezone
            row.event_types = row.event_types if data.event_types is UNSET else (data.event_types or None)
        if data.status is not UNSET and data.status != row.status:
            row.status = data.status
            row.deleted_at = utcnow() if data.status == "ARCHIVED" else None
        _apply_redemption_target(row, data)
        row.save()
        if compiled_from:  # calendar periods and type checks read them from the compiled program
            touch_program(row.id)
    return program_out(row)


def _apply_redemption_target(row: Program, data: ProgramPatch) -> None:
    target = row.redemption_target_type if data.redemption_target_type is UNSET else data.redemption_target_type
    entity = data.redemption_target_entity_id
    if target == "ledger_entity":
        entity = row.redemption_target_id if entity is UNSET else entity
        if not entity:
            raise field_error("redemption_target_entity_id", "required with ledger_entity", reason="required")
        row.redemption_target_type, row.redemption_target_id = target, entity
    else:
        if entity not in (UNSET, None):
            raise field_error("redemption_target_entity_id", "must be omitted for SYSTEM_* targets")
        row.redemption_target_type, row.redemption_target_id = target, None


# --- assets --------------------------------------------------------------------------------------


def _program_ids(asset_ids: list[str]) -> dict[str, list[str]]:
    links: dict[str, list[str]] = {a: [] for a in asset_ids}
    query = ProgramAsset.select(ProgramAsset.asset, ProgramAsset.program).where(ProgramAsset.asset.in_(asset_ids))
    for link in query.order_by(ProgramAsset.id):
        links[link.asset_id].append(link.program_id)
    return links


def asset_out(row: Asset, program_ids: list[str] | None = None) -> AssetOut:
    if program_ids is None:
        program_ids = _program_ids([row.id])[row.id]
    limit = row.max_transaction_amount
    return AssetOut(
        id=row.id,
        name=row.name,
        symbol=row.symbol,
        scale=row.scale,
        inventory_mode=row.inventory_mode,
        spending_order=row.spending_order,
        issuance_policy=row.issuance_policy,
        max_transaction_amount=None if limit is None else canonical_decimal(Decimal(str(limit))),
        unit_value=None if row.unit_value is None else canonical_decimal(row.unit_value),
        currency=row.currency,
        program_ids=program_ids,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


def resolve_asset(org_id: str, id_or_symbol: str, *, field: str = "asset_id") -> Asset:
    """An asset of the organisation named by id or by symbol (D28); 404 when there is none."""
    row = Asset.get_or_none(
        (Asset.organisation == org_id) & ((Asset.id == id_or_symbol) | (Asset.symbol == id_or_symbol))
    )
    if row is None:
        raise NotFound("asset not found", details={"field": field})
    return row


def create_asset(org_id: str, data: AssetCreate) -> AssetOut:
    """Through `engine.store.catalog.create_asset`, which links the asset to the program."""
    if data.max_transaction_amount is not None and Decimal(data.max_transaction_amount) <= 0:
        raise field_error("max_transaction_amount", "must be positive")
    spec = AssetSpec(
        symbol=data.symbol,
        name=data.name,
        scale=data.scale,
        inventory_mode=data.inventory_mode,
        spending_order=data.spending_order,
        issuance_policy=data.issuance_policy,
        max_transaction_amount=data.max_transaction_amount,
    )
    unit_value = _unit_value(data.unit_value, data.currency)
    with write_transaction():
        row = catalog.create_asset(org_id, data.program_id, spec)
        if unit_value is not None:
            row.unit_value, row.currency = unit_value
            row.save()
    return asset_out(row, [data.program_id])


def _unit_value(value: str | None, currency: str | None) -> tuple[Decimal, str] | None:
    """An asset's money value per unit and its currency: both or neither (A186)."""
    if (value is None) != (currency is None):
        raise field_error("currency" if currency is None else "unit_value", "unit_value and currency go together")
    if value is None or currency is None:
        return None
    return Decimal(value), currency


def _patch_unit_value(row: Asset, data: AssetPatch) -> None:
    """A null `unit_value` clears both; a field left out keeps its stored value."""
    if data.unit_value is None:
        row.unit_value, row.currency = None, None
        return
    value = data.unit_value if isinstance(data.unit_value, str) else _stored(row.unit_value)
    currency = data.currency if not isinstance(data.currency, UnsetType) else row.currency
    money = _unit_value(value, currency)
    row.unit_value, row.currency = money if money is not None else (None, None)


def _stored(value: Decimal | None) -> str | None:
    return None if value is None else canonical_decimal(value)


def get_asset(org_id: str, asset_id: str) -> AssetOut:
    return asset_out(resolve_asset(org_id, asset_id))


def list_assets(
    org_id: str, *, program_id: str | None, status: str | None, search: str | None, limit: int, cursor: str | None
) -> Page[AssetOut]:
    query = Asset.select().where(Asset.organisation == org_id)
    if program_id is not None:
        query = query.where(
            Asset.id.in_(ProgramAsset.select(ProgramAsset.asset).where(ProgramAsset.program == program_id))
        )
    if status is not None:
        query = query.where(Asset.status == status)
    if search:
        query = query.where(Asset.symbol.contains(search) | Asset.name.contains(search))
    page = paginate(
        query, keys=[Asset.id], descending=False, limit=limit, cursor=cursor, listing="assets", render=lambda row: row
    )
    links = _program_ids([row.id for row in page.data])
    return Page(data=[asset_out(row, links[row.id]) for row in page.data], pagination=page.pagination)


def patch_asset(org_id: str, asset_id: str, data: AssetPatch) -> AssetOut:
    with write_transaction():
        row = resolve_asset(org_id, asset_id)
        if row.status == "ARCHIVED":
            raise Conflict("archived assets cannot be changed", code="asset_archived")
        if data.name is not UNSET:
            row.name = data.name
        if data.max_transaction_amount is not UNSET:
            value = None if data.max_transaction_amount is None else Decimal(data.max_transaction_amount)
            if value is not None and value <= 0:
                raise field_error("max_transaction_amount", "must be positive")
            row.max_transaction_amount = value
        if data.spending_order is not UNSET:
            row.spending_order = data.spending_order  # which lots later spending takes first
        if data.unit_value is not UNSET or data.currency is not UNSET:
            _patch_unit_value(row, data)
        if data.status is not UNSET:
            row.status, row.deleted_at = "ARCHIVED", utcnow()
        row.save()
        for link in ProgramAsset.select(ProgramAsset.program).where(ProgramAsset.asset == row.id):
            touch_program(link.program_id)
    return asset_out(row)


# --- the program wallet (fund and burn are engine.store.operations) -------------------------------


def wallet_balances(org_id: str, program_id: str, asset_id: str | None) -> list[WalletBalance]:
    program = get_program_row(org_id, program_id)
    assets = (
        Asset.select()
        .join(ProgramAsset)
        .where((ProgramAsset.program == program.id) & (Asset.issuance_policy == "PREFUNDED"))
        .order_by(Asset.id)
    )
    if asset_id is not None:
        wanted = resolve_asset(org_id, asset_id)
        assets = assets.where(Asset.id == wanted.id)
    rows = list(assets)
    balances = balances_of(PROGRAM, program.id, [a.id for a in rows])
    result = []
    for asset in rows:
        balance = balances.get(asset.id)
        result.append(
            WalletBalance(
                asset_id=asset.id,
                issuance_policy=asset.issuance_policy,
                available=amount_text(balance.available if balance else None, asset.scale),
                held=amount_text(balance.held if balance else None, asset.scale),
                deferred=amount_text(balance.deferred if balance else None, asset.scale),
            )
        )
    return result
