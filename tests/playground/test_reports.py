"""The reports page beside the playground: the charts of the caller's organisation only, behind
its API key, rendered as SVG; and the page in the system Chromium against the real server."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from litestar.testing import TestClient

import playground
from api.app import ApiSettings, create_app
from api.keys import create_key
from engine.cli.bench.ingest import running_server
from engine.queue import create_queue_tables
from engine.store.db import database_proxy
from engine.store.migrations import upgrade
from engine.store.models import Organisation
from playground.reports import report_charts
from tests.databases import close_database, open_database

TODAY = datetime.now(UTC).date().isoformat()[5:]


@pytest.fixture
def database(tmp_path):
    db = open_database("sqlite", tmp_path)
    upgrade(db)
    create_queue_tables(db)
    yield db
    close_database(db)


def ledger(client, key: str) -> str:
    """A program with PTS, one participant credited 10 and debited 4 today; the program's id."""
    headers = {"X-API-Key": key}
    program = client.post("/v1/programs", json={"name": "Cafe"}, headers=headers).json()["id"]
    asset = {"program_id": program, "name": "Points", "symbol": "PTS", "scale": 2}
    assert client.post("/v1/assets", json=asset, headers=headers).status_code == 201
    person = client.post("/v1/participants", json={"external_id": "ann"}, headers=headers).json()["id"]
    for kind, amount in (("CREDIT", "10"), ("DEBIT", "4")):
        body = {"program_id": program, "asset_id": "PTS", "type": kind, "amount": amount, "description": "x"}
        assert client.post(f"/v1/participants/{person}/balances/adjust", json=body, headers=headers).status_code == 200
    return program


def test_the_charts_need_a_key_and_show_only_its_organisation(database):
    app = create_app(database, settings=ApiSettings(queue_url="sql"), route_handlers=[playground.router])
    with TestClient(app=app) as client:
        acme, globex = create_key("acme"), create_key("globex")
        ledger(client, acme)
        assert client.get("/playground/reports").status_code == 200
        assert client.get("/playground/reports/charts").status_code == 401
        mine = client.get("/playground/reports/charts", params={"days": 3}, headers={"X-API-Key": acme}).text
        theirs = client.get("/playground/reports/charts", params={"days": 3}, headers={"X-API-Key": globex}).text
        assert mine.count('<figure class="chart"') == 4 and 'data-series="PTS"' in mine
        assert "PTS issued " + TODAY + ": 10.00" in mine and "PTS redeemed " + TODAY + ": 0.00" in mine
        assert 'data-series="PTS"' not in theirs and theirs.count('<figure class="chart"') == 4
        too_many = client.get("/playground/reports/charts", params={"days": 93}, headers={"X-API-Key": acme})
        assert too_many.status_code == 400


def test_report_charts_follow_the_roll_forward(database):
    app = create_app(database, settings=ApiSettings(queue_url="sql"), route_handlers=[playground.router])
    with TestClient(app=app) as client:
        key = create_key("acme")
        ledger(client, key)
    with database_proxy.connection_context():
        org = Organisation.get(Organisation.name == "acme").id
        liability, issued, events, rules = report_charts(org, datetime.now(UTC), 2)
    (line,) = liability.series
    assert line.name == "PTS" and len(line.points.split()) == 2
    assert [bar.title for bar in issued.bars] == [
        f"PTS issued {issued.labels[0][1]}: 0.00",
        f"PTS issued {TODAY}: 10.00",
        f"PTS redeemed {issued.labels[0][1]}: 0.00",
        f"PTS redeemed {TODAY}: 0.00",
    ]
    assert [bar.title for bar in events.bars][-1] == f"events {TODAY}: 0" and rules.bars == []


@pytest.mark.browser
def test_the_reports_page_in_chromium(browser):
    with running_server(1) as (url, key, _program):
        with httpx.Client(base_url=url, timeout=30) as client:
            ledger(client, key)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(15_000)
        try:
            page.goto(url + "/playground/reports")
            page.fill("#api-key", "sk_wrong")
            page.click("#show")
            page.wait_for_function("() => document.getElementById('message').textContent.includes('API key')")
            page.fill("#api-key", key)
            page.fill("#days", "7")
            page.click("#show")
            page.wait_for_selector("figure.chart >> nth=3")
            assert page.locator("figure.chart svg").count() == 4
            points = page.get_attribute("polyline[data-series='PTS']", "points")
            assert points is not None and len(points.split()) == 7
            assert page.locator("rect title", has_text=f"PTS issued {TODAY}: 10.00").count() == 1
            assert page.text_content("#message") == ""
        finally:
            context.close()
