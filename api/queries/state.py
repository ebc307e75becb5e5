"""A participant's (or a group's) tags, counters and attributes through the API (their tier
levels: `api.queries.tier_state`). Every change goes through `engine.store.owner_state`, which
records it in state history with the API key."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from api.auth import Principal
from api.errors import NotFound, field_error
from api.queries.participants import get_participant_row, merge_attributes, replace_tags
from api.schemas.participants import AttributeOut, CounterOut, CounterSet
from engine.model.durations import DurationError, parse_duration
from engine.model.state import counter_reset_due
from engine.store import groups, owner_state
from engine.store.db import write_transaction
from engine.store.fields import canonical_decimal
from engine.store.models import (
    GROUP,
    PARTICIPANT,
    StateAttribute,
    StateCounter,
    StateTag,
)


def _origin(principal: Principal) -> owner_state.Origin:
    return owner_state.Origin(api_key_id=principal.api_key_id)


# Tags, counters and attributes belong to a participant or, with `owner_type=GROUP`, to a group:
# the same functions serve `/v1/participants/{id}/state` and `/v1/groups/{id}/state`.


def _owner_id(principal: Principal, owner_type: str, owner_id: str, *, write: bool) -> str:
    """The owner's id once found in the organisation (404 otherwise); a group to change must be
    ACTIVE (409 `group_archived`), an archived one is still read."""
    if owner_type == GROUP:
        find = groups.modifiable_group if write else groups.group
        return find(principal.organisation_id, owner_id).id
    return get_participant_row(principal.organisation_id, owner_id).id


def tags_of(owner_id: str, owner_type: str = PARTICIPANT) -> list[str]:
    return sorted(
        row.tag
        for row in StateTag.select(StateTag.tag).where(
            (StateTag.owner_type == owner_type) & (StateTag.owner_id == owner_id)
        )
    )


def list_tags(principal: Principal, owner_id: str, owner_type: str = PARTICIPANT) -> list[str]:
    return tags_of(_owner_id(principal, owner_type, owner_id, write=False), owner_type)


def add_tag(principal: Principal, owner_id: str, tag: str, owner_type: str = PARTICIPANT) -> str:
    _check_tag(tag)
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.add_tag(principal.organisation_id, owner_type, found, tag, _origin(principal))
    return tag.lower()


def remove_tag(principal: Principal, owner_id: str, tag: str, owner_type: str = PARTICIPANT) -> None:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.remove_tag(principal.organisation_id, owner_type, found, tag, _origin(principal))


def set_tags(principal: Principal, owner_id: str, tags: list[str], owner_type: str = PARTICIPANT) -> list[str]:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        replace_tags(principal, found, tags, owner_type)
        return tags_of(found, owner_type)


def _check_tag(tag: str) -> None:
    if not 1 <= len(tag) <= owner_state.TAG_MAX:
        raise field_error("tag", f"a tag is 1-{owner_state.TAG_MAX} characters")


def _counter_out(row: StateCounter, at: datetime) -> CounterOut:
    """The effective value: 0 once `reset_after` has elapsed since the last reset (lazy reset)."""
    value = row.value
    if counter_reset_due(row.reset_after, row.last_reset_at, at):
        value = Decimal(0)
    return CounterOut(
        key=row.key, value=canonical_decimal(value), reset_after=row.reset_after, last_reset_at=row.last_reset_at
    )


def _counters(owner_id: str, owner_type: str):
    return StateCounter.select().where((StateCounter.owner_type == owner_type) & (StateCounter.owner_id == owner_id))


def list_counters(principal: Principal, owner_id: str, owner_type: str = PARTICIPANT) -> list[CounterOut]:
    found = _owner_id(principal, owner_type, owner_id, write=False)
    now = datetime.now(UTC)
    return [_counter_out(row, now) for row in _counters(found, owner_type).order_by(StateCounter.key)]


def get_counter(principal: Principal, owner_id: str, key: str, owner_type: str = PARTICIPANT) -> CounterOut:
    found = _owner_id(principal, owner_type, owner_id, write=False)
    row = _counters(found, owner_type).where(StateCounter.key == key).first()
    if row is None:
        raise NotFound("counter not found")
    return _counter_out(row, datetime.now(UTC))


def set_counter(
    principal: Principal, owner_id: str, key: str, data: CounterSet, owner_type: str = PARTICIPANT
) -> CounterOut:
    if data.reset_after:
        try:
            parse_duration(data.reset_after)
        except DurationError as exc:
            raise field_error("reset_after", f"not a duration such as '24h': {data.reset_after!r}") from exc
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.set_counter(
            principal.organisation_id,
            owner_type,
            found,
            key,
            Decimal(data.value),
            _origin(principal),
            reset_after=data.reset_after,
        )
        row = _counters(found, owner_type).where(StateCounter.key == key).get()
    return _counter_out(row, datetime.now(UTC))


def delete_counter(principal: Principal, owner_id: str, key: str, owner_type: str = PARTICIPANT) -> None:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.delete_counter(principal.organisation_id, owner_type, found, key, _origin(principal))


def attributes_of(owner_id: str, owner_type: str = PARTICIPANT) -> dict[str, str]:
    return {
        row.key: row.value
        for row in StateAttribute.select()
        .where((StateAttribute.owner_type == owner_type) & (StateAttribute.owner_id == owner_id))
        .order_by(StateAttribute.key)
    }


def list_attributes(principal: Principal, owner_id: str, owner_type: str = PARTICIPANT) -> list[AttributeOut]:
    found = _owner_id(principal, owner_type, owner_id, write=False)
    return [AttributeOut(key=k, value=v) for k, v in attributes_of(found, owner_type).items()]


def set_attribute(
    principal: Principal, owner_id: str, key: str, value: str, owner_type: str = PARTICIPANT
) -> AttributeOut:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.set_attribute(principal.organisation_id, owner_type, found, key, value, _origin(principal))
    return AttributeOut(key=key, value=value)


def patch_attributes(
    principal: Principal, owner_id: str, attributes: dict[str, str], owner_type: str = PARTICIPANT
) -> dict[str, str]:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        merge_attributes(principal, found, attributes, owner_type)
        return attributes_of(found, owner_type)


def delete_attribute(principal: Principal, owner_id: str, key: str, owner_type: str = PARTICIPANT) -> None:
    with write_transaction():
        found = _owner_id(principal, owner_type, owner_id, write=True)
        owner_state.delete_attribute(principal.organisation_id, owner_type, found, key, _origin(principal))
