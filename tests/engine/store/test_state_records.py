"""State history rows of one transaction: recorded with who made the change, inserted together."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.store.db import write_transaction
from engine.store.models import StateHistory
from engine.store.state_records import HistoryBuffer, Origin


def test_a_buffer_inserts_its_rows_once_with_their_origin_and_reason(world):
    history = HistoryBuffer()
    at = datetime(2027, 1, 1, tzinfo=UTC)
    origin = Origin(program_id=world.program.id, at=at)
    history.record(
        world.org.id, "PARTICIPANT", world.alice.id, "counter", "miles", "auto_reset", "9", "0", origin, "PERIOD_END"
    )
    history.record(
        world.org.id, "PARTICIPANT", world.alice.id, "tag", "vip", "add", None, "vip", Origin(api_key_id=None)
    )
    assert StateHistory.select().count() == 0  # nothing written until flushed
    with write_transaction():
        history.flush()
        history.flush()  # emptied by the first
    rows = [
        (h.key, h.operation, h.old_value, h.new_value, h.reason, h.program_id)
        for h in StateHistory.select().order_by(StateHistory.id)
    ]
    assert rows == [
        ("miles", "auto_reset", "9", "0", "PERIOD_END", world.program.id),
        ("vip", "add", None, "vip", None, None),
    ]
    assert StateHistory.get(StateHistory.key == "miles").changed_at == at
