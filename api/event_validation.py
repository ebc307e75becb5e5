"""Ingest's optional check of `event_data` against the program's declared event types (A90).

A program's `event_validation` says what ingest does with an event whose data does not fit its
declared type (`engine.rules.event_types.event_data_problems`): `OFF` (the default) nothing,
`FLAG` accept it and show the problems in `GET /v1/events/{id}` (`event_data_problems`),
`REJECT` answer 400 `invalid_event_data` and store nothing. Each process remembers a program's
mode and declarations for 5 seconds (as it does API keys, A48), so a change reaches ingest
within that time and ingest costs no extra query per event.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from api.errors import BadRequest
from engine.rules.event_types import EventShape, declared_shapes
from engine.store.models import Program

CACHE_SECONDS = 5.0
_cache: dict[str, tuple[float, str, dict[str, EventShape]]] = {}
_lock = threading.Lock()


def program_rules(program_id: str) -> tuple[str, dict[str, EventShape]]:
    """The program's validation mode and declared shapes (OFF and none when it declares none)."""
    now = time.monotonic()
    with _lock:
        found = _cache.get(program_id)
    if found is not None and now - found[0] < CACHE_SECONDS:
        return found[1], found[2]
    row = Program.select(Program.event_validation, Program.event_types).where(Program.id == program_id).first()
    mode = row.event_validation if row is not None and row.event_types else "OFF"
    shapes = declared_shapes(row.event_types)[0] if mode != "OFF" and row is not None else {}
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[program_id] = (now, mode, shapes)
    return mode, shapes


def check_at_ingest(program_id: str, event_data: dict[str, Any]) -> None:
    """Refuse `event_data` that does not fit its declared type when the program says REJECT."""
    from engine.rules.event_types import event_data_problems

    mode, shapes = program_rules(program_id)
    if mode != "REJECT":
        return
    problems = event_data_problems(event_data, shapes)
    if problems:
        raise BadRequest(
            f"event_data does not fit its declared type: {problems[0]}",
            code="invalid_event_data",
            details={"field": "event_data", "problems": problems},
        )


def flagged(program_id: str, event_data: dict[str, Any]) -> list[str] | None:
    """What `GET /v1/events/{id}` shows for a program that says FLAG (None otherwise)."""
    from engine.rules.event_types import event_data_problems

    mode, shapes = program_rules(program_id)
    if mode != "FLAG":
        return None
    return event_data_problems(event_data, shapes)
