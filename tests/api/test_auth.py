"""API keys: headers, revocation, organisation scoping, key cache."""

from __future__ import annotations

import pytest

from api.auth import KeyCache, Principal, generate_key, hash_key, key_from_headers
from api.keys import create_key, list_keys, lookup_key, revoke_key
from engine.errors import EngineError


def test_generated_keys_are_prefixed_and_hashed():
    key = generate_key()
    assert key.startswith("sk_") and len(key) == 46
    assert hash_key(key) == hash_key(key) and hash_key(key) != key and len(hash_key(key)) == 64


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "expected"),
    [
        (None, "sk_a", "sk_a"),
        ("Bearer sk_b", None, "sk_b"),
        ("bearer  sk_c ", None, "sk_c"),
        ("Basic xyz", None, None),
        ("Bearer ", None, None),
        (None, None, None),
        ("Bearer sk_b", "sk_a", "sk_a"),
    ],
)
def test_key_from_headers(authorization, x_api_key, expected):
    assert key_from_headers(authorization, x_api_key) == expected


def test_missing_invalid_and_bearer_keys(api, client):
    missing = client.get("/v1/events")
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
    wrong = client.get("/v1/events", headers={"X-API-Key": "sk_nope"})
    assert wrong.status_code == 401 and wrong.json()["message"] == "invalid or revoked API key"
    not_a_key = client.get("/v1/events", headers={"Authorization": "Bearer token"})
    assert not_a_key.status_code == 401
    bearer = client.get("/v1/events", headers={"Authorization": f"Bearer {api.key}"})
    assert bearer.status_code == 200


def test_revoked_key_stops_working(api, client, database):
    assert api.get("/v1/events").status_code == 200
    revoked = revoke_key(api.key[:11])
    assert [k.organisation for k in revoked] == ["acme"]
    assert api.get("/v1/events").status_code == 401
    assert [k.revoked for k in list_keys("acme")] == [True]


def test_revoke_unknown_key_is_not_found(database):
    with pytest.raises(EngineError) as info:
        revoke_key("sk_missing")
    assert info.value.code == "not_found"


def test_create_key_reuses_the_organisation(database):
    first, second = create_key("acme"), create_key("acme")
    a, b = lookup_key(hash_key(first)), lookup_key(hash_key(second))
    assert a.organisation_id == b.organisation_id and a.api_key_id != b.api_key_id
    with pytest.raises(EngineError):
        create_key("  ")


def test_health_needs_no_key(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    ready = client.get("/v1/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_key_cache_hits_and_expires():
    calls = []
    now = [0.0]

    def lookup(key_hash):
        calls.append(key_hash)
        return Principal(organisation_id="o", api_key_id="k")

    cache = KeyCache(lookup, ttl_s=5, clock=lambda: now[0])
    assert cache.get("h") == (False, None)
    cache.resolve("h")
    assert cache.get("h")[0] is True
    now[0] = 6
    assert cache.get("h") == (False, None)
    assert calls == ["h"]
