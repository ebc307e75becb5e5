"""Creating, revoking and resolving API keys (the CLI's `accrual keys ...` and the middleware).

>>> key = create_key("acme")          # creates the organisation "acme" when it does not exist
>>> lookup_key(hash_key(key)).organisation_id == Organisation.get(name="acme").id
True
"""

from __future__ import annotations

import msgspec

from api.auth import Principal, generate_key, hash_key
from engine.errors import EngineError
from engine.store.db import database_proxy, utcnow, write_transaction
from engine.store.models import ApiKey, Organisation


class KeyInfo(msgspec.Struct, kw_only=True):
    id: str
    organisation: str
    prefix: str
    name: str
    revoked: bool


def create_key(org_name: str, *, name: str = "") -> str:
    """A new key for organisation `org_name` (created if missing); returns the key itself, which is
    shown once and never stored."""
    org_name = org_name.strip()
    if not org_name or len(org_name) > 255:
        raise EngineError("an organisation name is 1-255 characters", code="bad_request")
    key = generate_key()
    with database_proxy.connection_context(), write_transaction():
        org = Organisation.get_or_none(Organisation.name == org_name) or Organisation.create(name=org_name)
        ApiKey.create(organisation=org, name=name, key_hash=hash_key(key), prefix=key[:11])
    return key


def revoke_key(key_or_prefix: str) -> list[KeyInfo]:
    """Revoke the key given in full, or every key whose displayed prefix matches; returns them.

    Raises `not_found` when nothing matches.
    """
    value = key_or_prefix.strip()
    with database_proxy.connection_context(), write_transaction():
        condition = ApiKey.key_hash == hash_key(value) if len(value) > 16 else ApiKey.prefix == value
        rows = list(ApiKey.select(ApiKey, Organisation).join(Organisation).where(condition))
        if not rows:
            raise EngineError(f"no API key matches {value!r}", code="not_found")
        ApiKey.update(revoked_at=utcnow()).where(ApiKey.id.in_([r.id for r in rows])).execute()
    return [
        KeyInfo(id=r.id, organisation=r.organisation.name, prefix=r.prefix, name=r.name, revoked=True) for r in rows
    ]


def list_keys(org_name: str | None = None) -> list[KeyInfo]:
    with database_proxy.connection_context():
        query = ApiKey.select(ApiKey, Organisation).join(Organisation).order_by(ApiKey.id)
        if org_name:
            query = query.where(Organisation.name == org_name)
        return [
            KeyInfo(
                id=r.id,
                organisation=r.organisation.name,
                prefix=r.prefix,
                name=r.name,
                revoked=r.revoked_at is not None,
            )
            for r in query
        ]


def lookup_key(key_hash: str) -> Principal | None:
    """The principal of an active key with this hash, or None (unknown, revoked, or its
    organisation is not ACTIVE)."""
    with database_proxy.connection_context():
        row = (
            ApiKey.select(ApiKey.id, ApiKey.organisation)
            .join(Organisation)
            .where((ApiKey.key_hash == key_hash) & ApiKey.revoked_at.is_null() & (Organisation.status == "ACTIVE"))
            .first()
        )
    if row is None:
        return None
    return Principal(organisation_id=row.organisation_id, api_key_id=row.id)
