"""Linking an asset to a further program and unlinking it, so one asset can serve several programs
(a coalition currency).

    link_asset(org_id, program_id, "PTS")      # the asset, now listing the program in program_ids
    unlink_asset(org_id, program_id, "PTS")    # refused while the program has used the asset

A link makes the asset usable by the program's rules, rewards and balance operations; the program
compiles again. An unlink is refused (409 `asset_in_use`) while the program's ledger has entries of
the asset, a reward of the program is priced in it, or a rule of the program no longer compiles
without it: history and catalog keep naming what they used.
"""

from __future__ import annotations

from api.errors import Conflict
from api.queries.programs import asset_out, get_program_row, resolve_asset
from api.schemas.programs import AssetOut
from engine.rules.program import ProgramCompileError, compile_program
from engine.store import catalog
from engine.store.db import write_transaction
from engine.store.models import JournalEntry, Posting, ProgramAsset, RewardRecord
from engine.store.programs import require_modifiable, touch_program


def link_asset(org_id: str, program_id: str, asset_ref: str) -> AssetOut:
    with write_transaction():
        program = get_program_row(org_id, program_id)
        require_modifiable(program)
        asset = resolve_asset(org_id, asset_ref)
        if _link(program.id, asset.id) is not None:
            raise Conflict(f"asset {asset.symbol} is already linked to this program", code="already_linked")
        return asset_out(catalog.link_asset(org_id, program.id, asset.id))  # refuses an archived asset


def unlink_asset(org_id: str, program_id: str, asset_ref: str) -> None:
    with write_transaction():
        program = get_program_row(org_id, program_id)
        require_modifiable(program)
        asset = resolve_asset(org_id, asset_ref)
        link = _link(program.id, asset.id)
        if link is None:
            raise Conflict(f"asset {asset.symbol} is not linked to this program", code="asset_not_linked")
        used = (
            Posting.select()
            .join(JournalEntry)
            .where((JournalEntry.program == program.id) & (Posting.asset == asset.id))
            .exists()
        )
        if used:
            raise _in_use(asset.symbol, "the program's ledger has entries of it")
        if (
            RewardRecord.select()
            .where((RewardRecord.program == program.id) & (RewardRecord.asset == asset.id))
            .exists()
        ):
            raise _in_use(asset.symbol, "a reward of the program is priced in it")
        link.delete_instance()
        bundle, rule_ids = catalog.program_bundle(program)
        try:
            compile_program(bundle, rule_ids=rule_ids)
        except ProgramCompileError as exc:
            raise _in_use(asset.symbol, f"a rule of the program names it ({exc.problems[0].error})") from None
        touch_program(program.id)


def _link(program_id: str, asset_id: str) -> ProgramAsset | None:
    return ProgramAsset.get_or_none((ProgramAsset.program == program_id) & (ProgramAsset.asset == asset_id))


def _in_use(symbol: str, why: str) -> Conflict:
    return Conflict(f"asset {symbol} cannot be unlinked: {why}", code="asset_in_use")
