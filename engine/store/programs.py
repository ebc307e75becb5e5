"""A program's row as the rest of storage changes it: the version of its compiled form, and
whether its rules may still change."""

from __future__ import annotations

from engine.store.db import utcnow
from engine.store.errors import Conflict
from engine.store.models import Program


def touch_program(program_id: str) -> None:
    """Mark the program's compiled form stale (after a change to its rules, assets or tiers): the
    next event compiles it again."""
    Program.update(rules_version=Program.rules_version + 1, updated_at=utcnow()).where(
        Program.id == program_id
    ).execute()


def require_modifiable(program: Program) -> None:
    """Refuse changes to the rules of an archived program."""
    if program.status == "ARCHIVED":
        raise Conflict(f"program {program.id} is archived; its rules cannot change", code="program_archived")
