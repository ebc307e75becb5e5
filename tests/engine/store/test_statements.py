from __future__ import annotations

import pytest

from engine.store import statements
from engine.store.db import is_postgres, new_id, utcnow
from engine.store.models import RequestLog, StateTag


def test_insert_fetch_update_round_trip_through_the_fields(world):
    row = {
        "id": new_id(),
        "organisation": world.org.id,
        "owner_type": "PARTICIPANT",
        "owner_id": world.alice.id,
        "tag": "vip",
        "created_at": utcnow(),
    }
    assert statements.insert(StateTag, [row]) == 1
    assert statements.insert(StateTag, [{**row, "id": new_id()}], ignore_conflicts=True) == 0
    (found,) = statements.fetch(StateTag, "owner_id = {p} AND tag = {p}", [world.alice.id, "vip"], for_update=True)
    assert (found.id, found.organisation_id, found.created_at) == (row["id"], world.org.id, row["created_at"])
    assert statements.update(StateTag, found.id, tag="gold") == 1
    assert StateTag.get_by_id(found.id).tag == "gold"
    assert statements.rows("SELECT tag, owner_id FROM state_tag WHERE id = {p}", [found.id], (str, str)) == [
        ("gold", world.alice.id)
    ]


def test_fetched_rows_behave_as_model_instances(world):
    (found,) = statements.fetch(StateTag, "id = {p}", [_tag(world)])
    assert isinstance(found, StateTag) and found._dirty == set()
    found.tag = "changed"  # a normal model afterwards: tracks changes and saves them
    assert found.dirty_fields == [StateTag.tag]
    found.save()
    assert StateTag.get_by_id(found.id).tag == "changed"


def _tag(world) -> str:
    tag_id = new_id()
    statements.insert(
        StateTag,
        [
            {
                "id": tag_id,
                "organisation": world.org.id,
                "owner_type": "PARTICIPANT",
                "owner_id": world.alice.id,
                "tag": "t",
                "created_at": utcnow(),
            }
        ],
    )
    return tag_id


def test_fetch_joined_returns_the_row_and_the_joined_columns(world):
    tag_id = _tag(world)
    ((tag, extra),) = statements.fetch_joined(
        StateTag,
        "JOIN participant AS p ON p.id = t.owner_id",
        ("p.external_id", "p.status"),
        "t.id = {p}",
        [tag_id],
        for_update=True,
    )
    assert (tag.id, tag.owner_id, tag.created_at.tzinfo is not None) == (tag_id, world.alice.id, True)
    assert extra == (world.alice.external_id, "ACTIVE")
    assert (
        statements.fetch_joined(
            StateTag, "JOIN participant AS p ON p.id = t.owner_id", ("p.status",), "t.id = {p}", ["missing"]
        )
        == []
    )


def test_several_rows_go_in_one_statement_and_must_name_the_same_columns(world, db):
    rows = [
        {
            "id": new_id(),
            "organisation": world.org.id,
            "owner_type": "PARTICIPANT",
            "owner_id": person.id,
            "tag": "multi",
            "created_at": utcnow(),
        }
        for person in (world.alice, world.bob)
    ]
    sent = []
    original = db.execute_sql
    db.execute_sql = lambda sql, params=None, *args, **kwargs: (
        sent.append(sql) or original(sql, params, *args, **kwargs)
    )
    try:
        assert statements.insert(StateTag, rows) == 2
    finally:
        del db.execute_sql
    assert len(sent) == 1
    if is_postgres(db):  # a parameter per column, as arrays: one statement text for any number of rows
        assert "unnest(" in sent[0] and sent[0].count("%b") == len(rows[0])
    else:
        assert sent[0].count("(") == 3  # the column list and two rows of values
    assert sorted(t.owner_id for t in StateTag.select().where(StateTag.tag == "multi")) == sorted(
        [world.alice.id, world.bob.id]
    )
    with pytest.raises(ValueError, match="same columns"):
        statements.insert(StateTag, [rows[0], {key: value for key, value in rows[1].items() if key != "created_at"}])
    assert statements.insert(StateTag, []) == 0


def test_update_many_sets_each_row_its_own_values_one_statement_per_set_of_columns(world):
    def tag(person, name):
        row = {
            "id": new_id(),
            "organisation": world.org.id,
            "owner_type": "PARTICIPANT",
            "owner_id": person.id,
            "tag": name,
            "created_at": utcnow(),
        }
        statements.insert(StateTag, [row])
        return row["id"]

    ids = [tag(world.alice, "a"), tag(world.bob, "b"), tag(world.alice, "c")]
    later = utcnow()
    changed = statements.update_many(
        StateTag,
        [(ids[0], {"tag": "x"}), (ids[1], {"tag": "y"}), (ids[2], {"tag": "z", "created_at": later})],
    )
    assert changed == 3
    assert [(StateTag.get_by_id(i).tag) for i in ids] == ["x", "y", "z"]
    assert StateTag.get_by_id(ids[2]).created_at == later
    assert statements.update_many(StateTag, [("missing", {"tag": "q"}), ("gone", {"tag": "q"})]) == 0
    assert statements.update_many(StateTag, []) == 0


def test_insert_each_runs_one_statement_for_every_row_and_fills_the_fields_defaults(world):
    rows = [
        {
            "id": new_id(),
            "organisation": world.org.id,
            "request_id": f"req_{n}",
            "method": "POST",
            "path": "/v1/events",
            "status_code": 202,
            "duration_ms": 1.5,
        }
        for n in range(3)
    ]
    before = utcnow()
    statements.insert_each(RequestLog, rows)
    stored = list(RequestLog.select().order_by(RequestLog.request_id))
    assert [log.request_id for log in stored] == ["req_0", "req_1", "req_2"]
    assert {log.auth_type for log in stored} == {"api_key"} and all(log.created_at >= before for log in stored)
    with pytest.raises(ValueError, match="must name the same columns"):
        statements.insert_each(RequestLog, [rows[0], {**rows[1], "ip_address": "10.0.0.1"}])
    statements.insert_each(RequestLog, [])  # nothing to write
    assert RequestLog.select().count() == 3


def test_values_not_already_in_a_plain_column_s_type_still_go_through_the_field(world):
    """Text and integer columns take a str (an int) as it is; anything else is the field's to
    convert: a model instance for a foreign key, an int for a text column."""
    row = {
        "id": new_id(),
        "organisation": world.org,  # the instance, not its id
        "owner_type": "PARTICIPANT",
        "owner_id": world.alice.id,
        "tag": 7,
        "created_at": utcnow(),
    }
    assert statements.insert(StateTag, [row]) == 1
    (found,) = statements.fetch(StateTag, "id = {p}", [row["id"]])
    assert (found.organisation_id, found.tag) == (world.org.id, "7")


def test_rows_of_every_type_and_count_insert_and_return_as_written(db, world):
    """Multi-row inserts (arrays on PostgreSQL) keep NULLs, numbers, amounts and times, for one
    statement text whatever the number of rows."""
    from engine.store.models import JournalEntry

    def entries(count: int, start: int) -> list[dict]:
        return [
            {
                "id": new_id(),
                "organisation": world.org.id,
                "program": world.program.id if n % 2 else None,
                "sequence": start + n,
                "action_type": "ADJUST",
                "description": None if n % 2 else "a text, with 'quotes'",
                "event_id": None,
                "rule_id": None,
                "rule_version": n if n % 2 else None,
                "created_by_api_key_id": None,
                "reference_id": None,
                "created_at": utcnow(),
                "prev_hash": "0" * 64,
                "entry_hash": f"{n:064d}",
            }
            for n in range(count)
        ]

    for count, start in ((2, 1), (5, 10)):
        rows = entries(count, start)
        read = statements.insert_returning(JournalEntry, rows, ("id", "sequence", "rule_version"), (str, int, int))
        assert sorted(read()) == sorted((row["id"], row["sequence"], row["rule_version"]) for row in rows)
        ids = [row["id"] for row in rows]
        stored = {entry.id: entry for entry in JournalEntry.select().where(JournalEntry.id.in_(ids))}
        assert [(stored[r["id"]].description, stored[r["id"]].created_at) for r in rows] == [
            (r["description"], r["created_at"]) for r in rows
        ]
