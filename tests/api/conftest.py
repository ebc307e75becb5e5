"""An API on a temporary SQLite database with two organisations and their API keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from api.app import ApiSettings, create_app
from api.keys import create_key
from engine.queue import create_queue_tables, reset_queue
from engine.store.db import connect, database_proxy
from engine.store.migrations import upgrade
from engine.store.models import Organisation, Program


class Api:
    """A test client bound to one organisation's key. Example: `api.post("/v1/programs", {...})`."""

    def __init__(self, client: TestClient, key: str, org_name: str) -> None:
        self.client, self.key, self.org_name = client, key, org_name
        self.headers = {"X-API-Key": key}

    def get(self, path: str, **params):
        return self.client.get(path, params=params or None, headers=self.headers)

    def post(self, path: str, body=None, **kwargs):
        return self.client.post(path, json=body, headers=self.headers, **kwargs)

    def patch(self, path: str, body=None):
        return self.client.patch(path, json=body, headers=self.headers)

    def put(self, path: str, body=None):
        return self.client.put(path, json=body, headers=self.headers)

    def delete(self, path: str, **params):
        return self.client.delete(path, params=params or None, headers=self.headers)

    def org_id(self) -> str:
        with database_proxy.connection_context():
            return Organisation.get(Organisation.name == self.org_name).id


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/api.db"


@pytest.fixture
def database(database_url: str):
    reset_queue()
    db = connect(database_url)
    upgrade(db)
    create_queue_tables(db)
    yield db
    db.close_all() if hasattr(db, "close_all") else db.close()
    reset_queue()


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(key_cache_ttl_s=0.0, queue_url="sql")


@pytest.fixture
def client(database, settings) -> Iterator[TestClient]:
    with TestClient(app=create_app(database, settings=settings)) as test_client:
        yield test_client


@pytest.fixture
def api(client) -> Api:
    return Api(client, create_key("acme"), "acme")


@pytest.fixture
def other_api(client) -> Api:
    return Api(client, create_key("globex"), "globex")


def make_program(org_name: str, name: str = "Loyalty") -> str:
    """A program written straight to the database (for tests of other resources)."""
    with database_proxy.connection_context():
        org = Organisation.get(Organisation.name == org_name)
        return Program.create(organisation=org, name=name).id


def decode(response) -> dict:
    return msgspec.json.decode(response.content)
