"""An API on a temporary SQLite database with two organisations and their API keys."""

from __future__ import annotations

import contextlib
import os
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
from engine.store.models import Organisation
from engine.worker.tasks import register_task_bodies
from tests.databases import close_database, empty_database_url, postgres_url


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
    """A fresh SQLite file; with API_TESTS_ON_POSTGRES=1 and TEST_POSTGRES_URL, the PostgreSQL test
    server with an empty schema instead (the same tests then prove the API on the scale-out backend)."""
    on_postgres = os.environ.get("API_TESTS_ON_POSTGRES") == "1" and postgres_url() is not None
    return empty_database_url("postgres" if on_postgres else "sqlite", tmp_path)


@pytest.fixture
def database(database_url: str):
    reset_queue()
    db = connect(database_url)
    upgrade(db)
    create_queue_tables(db)
    yield db
    close_database(db)
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


@pytest.fixture
def immediate_api(database) -> Iterator[Api]:
    """The app with the in-process queue: the worker's task bodies run each event right after
    its commit, in the test's thread (organisation acme)."""
    register_task_bodies()
    with TestClient(app=create_app(database, settings=ApiSettings(queue_url="memory://", key_cache_ttl_s=0))) as c:
        yield Api(c, create_key("acme"), "acme")


def create_program(api: Api, name: str = "Coffee", *, points_scale: int | None = None, **fields) -> dict:
    """A program made through the API, as the API returned it; with `points_scale`, the asset PTS at
    that scale is linked to it. Example: `create_program(api, "Air", description="x")["id"]`."""
    response = api.post("/v1/programs", {"name": name, **fields})
    assert response.status_code == 201, response.text
    program = response.json()
    if points_scale is not None:
        body = {"program_id": program["id"], "name": "Points", "symbol": "PTS", "scale": points_scale}
        asset = api.post("/v1/assets", body)
        assert asset.status_code == 201 and asset.json()["symbol"] == "PTS", asset.text
    return program


@pytest.fixture
def program(api) -> str:
    """The id of acme's program "Coffee" with PTS (scale 2). A module needing another program
    overrides this fixture with its own call to `create_program`."""
    return create_program(api, points_scale=2)["id"]


def decode(response) -> dict:
    return msgspec.json.decode(response.content)


class LiveServer:
    """A real uvicorn process on a fresh database, with one organisation's key and a program."""

    def __init__(self, url: str, key: str, program_id: str, database_url: str) -> None:
        self.url, self.key, self.program_id, self.database_url = url, key, program_id, database_url


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    with serving(f"sqlite:///{tmp_path_factory.mktemp('live')}/live.db") as server:
        yield server


@contextlib.contextmanager
def serving(database_url: str) -> Iterator[LiveServer]:
    """A real uvicorn process on `database_url` (an empty database), with one organisation's key
    and a program; the models are bound to the same database for the test's own reads."""
    import subprocess
    import sys

    from engine.cli.bench.ingest import free_port, prepare, wait_ready

    reset_queue()
    key, program_id = prepare(database_url)
    close_database(database_proxy.obj)  # prepare's pooled connections, before another database is bound
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "QUEUE_URL": "sql"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "engine.cli.server:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, server)
        db = connect(database_url)
        yield LiveServer(url, key, program_id, database_url)
        close_database(db)
    finally:
        server.terminate()
        server.wait(timeout=15)
        reset_queue()
