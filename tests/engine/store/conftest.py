"""Storage tests run on SQLite, and on PostgreSQL too when TEST_POSTGRES_URL is set."""

from __future__ import annotations

import os

import pytest

from engine.store.db import connect
from engine.store.migrations import upgrade

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def open_database(backend: str, tmp_path):
    """A fresh, upgraded database of the given backend; PostgreSQL gets an empty public schema."""
    if backend == "sqlite":
        return connect(f"sqlite:///{tmp_path / 'accrual.db'}")
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (tests/services/services.sh starts a server)")
    db = connect(url)
    with db.connection_context():
        db.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return db


@pytest.fixture(params=BACKENDS)
def fresh_db(request, tmp_path):
    """A database with no schema yet."""
    db = open_database(request.param, tmp_path)
    yield db
    db.close_all() if hasattr(db, "close_all") else db.close()


@pytest.fixture
def db(fresh_db):
    """An upgraded database with an open connection for the test's thread."""
    upgrade(fresh_db)
    with fresh_db.connection_context():
        yield fresh_db


class World:
    """An organisation with one program, two assets (PTS unlimited, scale 2; GEM prefunded,
    scale 0) linked to it, and two participants."""

    def __init__(self) -> None:
        from engine.store.models import Asset, Organisation, Participant, Program, ProgramAsset

        self.org = Organisation.create(name="acme")
        self.program = Program.create(organisation=self.org, key="loyalty", name="Loyalty")
        self.pts = Asset.create(organisation=self.org, symbol="PTS", name="Points", scale=2)
        self.gem = Asset.create(organisation=self.org, symbol="GEM", name="Gems", scale=0, issuance_policy="PREFUNDED")
        for asset in (self.pts, self.gem):
            ProgramAsset.create(program=self.program, asset=asset)
        self.alice = Participant.create(organisation=self.org, external_id="alice")
        self.bob = Participant.create(organisation=self.org, external_id="bob")


@pytest.fixture
def world(db):
    return World()
