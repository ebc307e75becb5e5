"""`POST /v1/programs/apply` and `accrual apply`: a whole bundle planned and applied in one
transaction (A87). The plan comes from `engine.rules.plan.plan_bundle`, the one planner a dry run
and an apply share, and is computed inside the transaction that applies it, so what is printed is
what happens; a refused step rolls every step back."""

from __future__ import annotations

from api.auth import Principal
from api.errors import BadRequest
from api.schemas.apply import ApplyOut, FieldChangeOut, StepOut
from engine.model.bundle import Bundle
from engine.rules.automations import compile_automations
from engine.rules.plan import Plan, apply_plan, plan_bundle
from engine.rules.program import ProgramCompileError, compile_program
from engine.rules.type_check import check_program_types
from engine.store.db import write_transaction


def apply_bundle(principal: Principal, bundle: Bundle, *, dry_run: bool) -> ApplyOut:
    """Plan `bundle` against the caller's organisation and, unless `dry_run`, apply it whole."""
    from api.apply_target import DatabaseTarget  # the target imports the API's queries

    check_bundle(bundle)
    target = DatabaseTarget(principal)
    if dry_run:
        return plan_out(plan_bundle(bundle, target), applied=False)
    with write_transaction():
        plan = plan_bundle(bundle, target)
        program_id = apply_plan(plan, target) if plan.steps else plan.program_id
    plan.program_id = program_id
    return plan_out(plan, applied=bool(plan.steps))


def check_bundle(bundle: Bundle) -> None:
    """A bundle that does not compile or type-check is refused whole (400 `invalid_bundle`)."""
    try:
        program = compile_program(bundle)
    except ProgramCompileError as exc:
        problems = [
            {"field": ".".join(map(str, p.path)), "message": str(p.error), "code": p.code} for p in exc.problems
        ]
        raise BadRequest(f"the bundle does not compile: {problems[0]['message']}", code="invalid_bundle",
                         details={"problems": problems}) from exc  # fmt: skip
    _, automation_problems = compile_automations(bundle.automations, bundle.program.timezone)
    if automation_problems:
        problems = [
            {"field": ".".join(map(str, p.path)), "message": str(p.error), "code": p.code} for p in automation_problems
        ]
        raise BadRequest(f"the bundle's automations do not check: {problems[0]['message']}", code="invalid_bundle",
                         details={"problems": problems})  # fmt: skip
    errors = check_program_types(program).errors
    if errors:
        problems = [{"field": ".".join(map(str, p.path)), "message": str(p.error), "code": p.code} for p in errors]
        raise BadRequest(f"the bundle does not type-check: {problems[0]['message']}", code="invalid_bundle",
                         details={"problems": problems})  # fmt: skip


def plan_out(plan: Plan, *, applied: bool) -> ApplyOut:
    return ApplyOut(
        program_key=plan.program_key,
        program_id=plan.program_id,
        applied=applied,
        steps=[
            StepOut(
                kind=step.kind,
                resource=step.resource,
                name=step.name,
                description=step.describe(),
                note=step.note,
                changes=[FieldChangeOut(field=c.field, old=c.old, new=c.new) for c in step.changes],
            )
            for step in plan.steps
        ],
        problems=list(plan.problems),
    )
