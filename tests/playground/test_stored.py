"""Stored programs in the playground, inside the API app: the key's organisation only."""

from __future__ import annotations

import pytest
import yaml
from litestar.testing import TestClient

import playground
from api.app import ApiSettings, create_app
from api.keys import create_key
from engine.model.bundle import Asset, Credit, Rule
from engine.store.catalog import create_asset, create_rule
from engine.store.db import database_proxy
from engine.store.migrations import upgrade
from engine.store.models import Organisation, Program
from playground.stored import StoredProgramNotFound, list_stored_programs, stored_program_panes
from tests.databases import close_database, open_database
from tests.playground.html import one, select


@pytest.fixture
def database(tmp_path):
    db = open_database("sqlite", tmp_path)
    upgrade(db)
    yield db
    close_database(db)


def _program(org_name: str, name: str, key: str, status: str = "ACTIVE") -> str:
    with database_proxy.connection_context():
        org = Organisation.get(Organisation.name == org_name)
        return Program.create(organisation=org, name=name, key=key, status=status).id


@pytest.fixture
def stored(database):
    """Two organisations; acme has a program with an asset and a rule, and an archived one."""
    keys = {"acme": create_key("acme"), "globex": create_key("globex")}
    with database_proxy.connection_context():
        orgs = {o.name: o.id for o in Organisation.select()}
    cafe = _program("acme", "Cafe", "cafe")
    _program("acme", "Old", "old", status="ARCHIVED")
    secret = _program("globex", "Globex secret", "secret")
    with database_proxy.connection_context():
        create_asset(orgs["acme"], cafe, Asset(symbol="POINTS", name="Points", scale=0))
        rule = Rule(name="any purchase", condition="event.price > 0.0", actions=[Credit(asset_id="POINTS", amount="1")])
        create_rule(orgs["acme"], cafe, rule)
    return {"keys": keys, "orgs": orgs, "cafe": cafe, "secret": secret}


@pytest.fixture
def client(database):
    settings = ApiSettings(key_cache_ttl_s=0.0)
    app = create_app(database, settings=settings, route_handlers=[playground.router], configure_queue_for_app=False)
    with TestClient(app=app) as test_client:
        yield test_client


def test_lists_only_the_organisations_programs_that_are_not_archived(stored):
    assert [p.name for p in list_stored_programs(stored["orgs"]["acme"])] == ["Cafe"]
    assert [p.name for p in list_stored_programs(stored["orgs"]["globex"])] == ["Globex secret"]


def test_a_stored_program_opens_as_bundle_yaml_that_loads(stored):
    panes = stored_program_panes(stored["orgs"]["acme"], stored["cafe"])
    data = yaml.safe_load(panes.bundle)
    assert data["program"]["key"] == "cafe"
    assert [rule["name"] for rule in data["rules"]] == ["any purchase"]
    assert "event_timestamp" in panes.event


def test_another_organisations_program_is_not_found(stored):
    with pytest.raises(StoredProgramNotFound):
        stored_program_panes(stored["orgs"]["acme"], stored["secret"])


def test_picker_lists_programs_for_the_key_and_opens_one_that_runs(client, stored):
    headers = {"X-API-Key": stored["keys"]["acme"]}
    html = client.get("/playground/programs", headers=headers).text
    assert [o.text for o in select(html, "option")][1:] == ["Cafe (cafe)"]
    response = client.get("/playground/programs/open", params={"id": stored["cafe"]}, headers=headers)
    assert response.headers["hx-trigger-after-settle"] == "run"
    bundle = one(response.text, "textarea", id="bundle").text
    event = '{"event_timestamp": "2026-01-01T00:00:00Z", "event_data": {"price": 3.0}}'
    result = client.post("/playground/run", data={"bundle": bundle, "event": event, "participant": ""}).text
    assert one(result, "li", data_rule="any purchase").attrs["data-status"] == "MATCHED"


def test_picker_needs_a_valid_key_and_hides_other_organisations(client, stored):
    assert client.get("/playground/programs").status_code == 401
    assert client.get("/playground/programs", headers={"X-API-Key": "sk_wrong"}).status_code == 401
    response = client.get(
        "/playground/programs/open", params={"id": stored["secret"]}, headers={"X-API-Key": stored["keys"]["acme"]}
    )
    assert response.headers["hx-retarget"] == "#message"
    assert "not found" in response.text and "Globex" not in response.text


def test_without_the_api_app_the_picker_explains_itself():
    from litestar import Litestar

    with TestClient(app=Litestar(route_handlers=[playground.router])) as bare:
        response = bare.get("/playground/programs")
        assert response.headers["hx-retarget"] == "#message"
        assert "inside the API server" in response.text


def test_a_stored_program_opens_with_its_most_recent_event(stored):
    from datetime import UTC, datetime

    import msgspec

    from engine.store.models import EventRecord

    with database_proxy.connection_context():
        for day, price in ((1, 1.0), (3, 7.5), (2, 2.0)):
            EventRecord.create(
                organisation=stored["orgs"]["acme"],
                program=stored["cafe"],
                external_id="u1",
                idempotency_key=f"k{day}",
                payload_hash="0" * 64,
                event_data={"type": "purchase", "price": price},
                event_timestamp=datetime(2026, 3, day, 9, 0, tzinfo=UTC),
            )
    event = msgspec.json.decode(stored_program_panes(stored["orgs"]["acme"], stored["cafe"]).event)
    assert event == {"event_timestamp": "2026-03-03T09:00:00Z", "event_data": {"type": "purchase", "price": 7.5}}
