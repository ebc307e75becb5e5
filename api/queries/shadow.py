"""A program's shadow ruleset through the API and `accrual apply --shadow` (A230, A233): applied
(checked as an apply checks a bundle, then stored, the live rules untouched), shown, cleared,
promoted in one atomic apply, and reported live against shadow."""

from __future__ import annotations

import msgspec

from api.auth import Principal
from api.errors import BadRequest
from api.pagination import Page, paginate
from api.queries.apply import apply_bundle, check_bundle
from api.schemas.apply import ApplyOut
from api.schemas.shadow import ShadowEventOut, ShadowOut, ShadowReportOut
from engine.model.bundle import Bundle
from engine.replay.shadow import shadow_report
from engine.store import lookups
from engine.store.db import write_transaction
from engine.store.errors import Conflict
from engine.store.models import SHADOW_PROMOTED, ShadowEvaluation, ShadowRuleset
from engine.store.shadows import (
    active_shadow,
    clear_shadow,
    end_shadow,
    evaluation_stream,
    events_processed,
    set_shadow,
    shadow_version,
)


def shadow_out(shadow: ShadowRuleset) -> ShadowOut:
    return ShadowOut(
        id=shadow.id,
        program_id=shadow.program_id,
        version=shadow.version,
        status=shadow.status,
        rule_count=shadow.rule_count,
        created_at=shadow.created_at,
        ended_at=shadow.ended_at,
    )


def apply_shadow(principal: Principal, program_id: str, bundle: Bundle) -> ShadowOut:
    """Make `bundle` the program's shadow: it must compile and type-check as an apply's bundle
    must (400 `invalid_bundle`) and name the program by its key (400 `shadow_program_mismatch`),
    so that promoting it applies to this very program."""
    check_bundle(bundle)
    program = lookups.program(principal.organisation_id, program_id)
    if bundle.program.key != program.key:
        raise BadRequest(
            f"the bundle is for program {bundle.program.key!r}, and program {program_id} has key {program.key!r}",
            code="shadow_program_mismatch",
        )
    data = msgspec.to_builtins(msgspec.structs.replace(bundle, tests=[], automation_tests=[]))
    return shadow_out(set_shadow(principal.organisation_id, program.id, data, rule_count=len(bundle.rules)))


def get_shadow(organisation_id: str, program_id: str) -> ShadowOut:
    return shadow_out(active_shadow(organisation_id, program_id))


def remove_shadow(organisation_id: str, program_id: str) -> ShadowOut:
    return shadow_out(clear_shadow(organisation_id, program_id))


def promote_shadow(principal: Principal, program_id: str) -> ApplyOut:
    """Apply the ACTIVE shadow's bundle as the live rules and end the shadow (PROMOTED), in one
    transaction: the apply's steps and the shadow's end commit together or not at all."""
    with write_transaction():
        shadow = active_shadow(principal.organisation_id, program_id, lock=True)
        applied = apply_bundle(principal, msgspec.convert(shadow.bundle, Bundle), dry_run=False)
        if applied.program_id != shadow.program_id:
            raise Conflict(
                f"the shadow's bundle applies to program {applied.program_id}, not {program_id}",
                code="shadow_program_mismatch",
            )
        end_shadow(shadow, SHADOW_PROMOTED)
    return applied


def report(organisation_id: str, program_id: str, *, version: int | None, sample: int) -> ShadowReportOut:
    """Live against shadow over every evaluation of the shadow (`version`, default the latest)."""
    shadow = shadow_version(organisation_id, program_id, version)
    names = [str(rule.get("name")) for rule in shadow.bundle.get("rules", [])]
    found = shadow_report(evaluation_stream(shadow.id), names, sample=sample)
    return ShadowReportOut(
        shadow=shadow_out(shadow),
        events=found.events,
        events_processed=events_processed(shadow.program_id, shadow.created_at, shadow.ended_at),
        differing=found.differing,
        errors=found.errors,
        error_codes=found.error_codes,
        rules=found.rules,
        assets=found.assets,
        samples=found.samples,
    )


def event_out(row: ShadowEvaluation) -> ShadowEventOut:
    return ShadowEventOut(
        event_id=row.event_id,
        participant_id=row.participant_id,
        status=row.status,
        differs=row.differs,
        live=row.live,
        shadow=row.shadowed,
        live_flows=row.live_flows,
        shadow_flows=row.shadow_flows,
        evaluated_at=row.created_at,
    )


def list_events(
    organisation_id: str, program_id: str, *, version: int | None, differs: bool | None, limit: int, cursor: str | None
) -> Page[ShadowEventOut]:
    """The shadow's evaluated events in processing order, all or only those that differ."""
    shadow = shadow_version(organisation_id, program_id, version)
    query = ShadowEvaluation.select().where(ShadowEvaluation.shadow == shadow.id)
    if differs is not None:
        query = query.where(ShadowEvaluation.differs == differs)
    return paginate(
        query,
        keys=[ShadowEvaluation.id],
        descending=False,
        limit=limit,
        cursor=cursor,
        listing="shadow_events",
        render=event_out,
    )
