"""Programs stored on the server, opened in the playground: only the caller's organisation's.

The caller is the organisation of the API key the application's authentication resolved for the
request (`request.scope["auth"]`, D23); these functions take its id and never see a key. A
stored program becomes the same bundle YAML an author would write (`program_bundle` of the
storage layer), with no test cases; the event pane starts from the program's most recent event, so
its rules run against data of the shape they were written for rather than an empty event.
"""

from __future__ import annotations

import msgspec
import yaml

from engine.store import lookups
from engine.store.catalog import program_bundle
from engine.store.db import database_proxy
from engine.store.errors import NotFound
from engine.store.models import EventRecord, Program
from playground.examples import Panes, event_text, panes_for_bundle

PROGRAMS_LISTED_MAX = 200  # the picker is a <select>; more than this is a search problem


class StoredProgram(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    key: str | None
    status: str


class StoredProgramNotFound(Exception):
    """No program of that id in the caller's organisation (another organisation's looks the same)."""

    code = "not_found"


def list_stored_programs(organisation_id: str) -> list[StoredProgram]:
    """The organisation's programs that are not archived, by name.

    >>> [p.name for p in list_stored_programs("org_1")]
    ['Coffee club', 'Referrals']
    """
    with database_proxy.connection_context():
        rows = (
            Program.select()
            .where((Program.organisation == organisation_id) & (Program.status != "ARCHIVED"))
            .order_by(Program.name, Program.id)
            .limit(PROGRAMS_LISTED_MAX)
        )
        return [StoredProgram(id=row.id, name=row.name, key=row.key, status=row.status) for row in rows]


def stored_program_panes(organisation_id: str, program_id: str) -> Panes:
    """The panes for one stored program: its bundle as YAML, a sample event, a new participant."""
    with database_proxy.connection_context():
        try:
            program = lookups.program(organisation_id, program_id)
        except NotFound as exc:
            raise StoredProgramNotFound(f"program {program_id} not found") from exc
        bundle, _ = program_bundle(program)
        recent = (
            EventRecord.select(EventRecord.event_data, EventRecord.event_timestamp)
            .where((EventRecord.program == program.id) & (EventRecord.event_type == "EXTERNAL"))
            .order_by(EventRecord.event_timestamp.desc())
            .first()
        )
    text = yaml.safe_dump(msgspec.to_builtins(bundle), sort_keys=False, allow_unicode=True)
    panes = panes_for_bundle(text)
    if recent is not None:
        panes.event = event_text({"event": recent.event_data, "event_timestamp": recent.event_timestamp})
    return panes
