"""The API's commands: keys create/revoke/list (serve and bench ingest start real servers and are
exercised by tests/api/test_ingest.py's live server and the figures of docs/benchmarks.md)."""

from __future__ import annotations

from click.testing import CliRunner

from api.auth import hash_key
from api.keys import lookup_key
from engine.cli import main
from engine.store.db import database_proxy


def invoke(database, *args: str):
    """Run a command; the command binds (and closes) its own database, so rebind the test's after."""
    result = CliRunner().invoke(main, list(args))
    database_proxy.initialize(database)
    return result


def test_keys_create_prints_the_key_alone_and_revoke(database, database_url):
    created = invoke(database, "keys", "create", "--org", "acme", "--database-url", database_url)
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    assert created.output == key + "\n" and key.startswith("sk_")
    assert lookup_key(hash_key(key)) is not None
    listed = invoke(database, "keys", "list", "--database-url", database_url)
    assert key[:11] in listed.output and "active" in listed.output
    revoked = invoke(database, "keys", "revoke", key[:11], "--database-url", database_url)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert lookup_key(hash_key(key)) is None
    missing = invoke(database, "keys", "revoke", "sk_nothing", "--database-url", database_url)
    assert missing.exit_code == 1 and "no API key" in missing.output
    blank = invoke(database, "keys", "create", "--org", " ", "--database-url", database_url)
    assert blank.exit_code == 1
