"""The Backtest panel: the editor's bundle replayed over a stored program's history through the
backtest runs the API serves, behind the API key; the difference with its per-day chart; every
refusal said in the panel. The browser test runs a real server and a real worker in Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

import playground
from api.app import ApiSettings, create_app
from api.keys import create_key
from engine.cli.bench.pipeline import wait_until
from engine.store.migrations import upgrade
from engine.worker.tasks import register_task_bodies
from tests.api.conftest import serving
from tests.databases import close_database, open_database
from tests.playground.html import Element, one, select
from tests.playground.test_browser import _set

ACCRUAL = str(Path(sys.executable).with_name("accrual"))

CANDIDATE = """
program: {key: coffee, name: Coffee}
assets:
  - {symbol: PTS, name: Points, scale: 2}
rules:
  - name: earn
    condition: "true"
    actions:
      - {type: CREDIT, asset_id: PTS, amount: "event.amount * 2.0"}
"""
TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def database(tmp_path):
    db = open_database("sqlite", tmp_path)
    upgrade(db)
    yield db
    close_database(db)


@pytest.fixture
def client(database):
    """The API with the playground and the in-process queue: a run is replayed right after the
    commit that asks for it, in the test's thread."""
    register_task_bodies()
    settings = ApiSettings(queue_url="memory://", key_cache_ttl_s=0)
    with TestClient(app=create_app(database, settings=settings, route_handlers=[playground.router])) as test_client:
        yield test_client


def history(client: TestClient | httpx.Client, key: str) -> str:
    """A program earning `event.amount` PTS, and three processed events of alice and bob."""
    headers = {"X-API-Key": key}
    program = client.post("/v1/programs", json={"name": "Coffee", "key": "coffee"}, headers=headers).json()["id"]
    asset = {"program_id": program, "name": "Points", "symbol": "PTS", "scale": 2}
    assert client.post("/v1/assets", json=asset, headers=headers).status_code == 201
    rule = {
        "program_id": program,
        "name": "earn",
        "condition": "true",
        "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount"}],
    }
    assert client.post("/v1/rules", json=rule, headers=headers).status_code == 201
    for n, (who, amount) in enumerate((("alice", 10.0), ("bob", 20.0), ("alice", 5.0))):
        event = {
            "program_id": program,
            "external_id": who,
            "idempotency_key": f"k{n}",
            "event_timestamp": "2026-11-01T00:00:00Z",
            "event_data": {"amount": amount},
        }
        assert client.post("/v1/events", json=event, headers=headers).status_code == 202
    return program


def ask(client: TestClient, key: str | None, program: str, bundle: str = CANDIDATE, last: str = "1000"):
    headers = {"X-API-Key": key} if key else {}
    return client.post("/playground/backtests", data={"bundle": bundle, "id": program, "last": last}, headers=headers)


def panel(html: str) -> Element:
    return one(html, id="backtest-run")


def test_a_backtest_is_asked_for_then_polled_until_its_difference_shows(client):
    key = create_key("acme")
    program = history(client, key)
    asked = ask(client, key, program)
    assert asked.status_code == 200
    poll = panel(asked.text).attrs.get("hx-get")
    assert poll is not None and poll.startswith("/playground/backtests/") and f"program={program}" in poll
    shown = client.get(poll, headers={"X-API-Key": key})
    assert panel(shown.text).attrs["data-status"] == "COMPLETED"
    assert panel(shown.text).attrs.get("hx-get") is None  # done: the polling stops
    summary = one(shown.text, id="backtest-summary")
    assert summary.attrs["data-changed"] == "3" and summary.attrs["data-empty"] == "false"
    assert "3 events of 2 participants replayed" in summary.text
    assert [td.text for td in select(shown.text, "td") if td.attrs.get("class") == "liability-change"] == ["35.00"]
    assert 'data-series="before"' in shown.text and 'data-series="after"' in shown.text
    assert "PTS credited per day" in shown.text and TODAY[5:] in shown.text
    participants = [li.attrs["data-participant"] for li in select(shown.text, "li", data_participant="*")]
    assert participants == ["bob", "alice"]  # largest first: bob +20.00, alice +15.00


def test_the_program_as_applied_changes_nothing(client):
    key = create_key("acme")
    program = history(client, key)
    same = CANDIDATE.replace("event.amount * 2.0", "event.amount")
    shown = client.get(panel(ask(client, key, program, same).text).attrs["hx-get"], headers={"X-API-Key": key})
    assert one(shown.text, id="backtest-summary").attrs["data-empty"] == "true"
    assert "the bundle changes nothing" in shown.text


@pytest.mark.parametrize(
    ("bundle", "program", "last", "said"),
    [
        (CANDIDATE, "", "1000", "choose a stored program"),
        (CANDIDATE, "PROGRAM", "0", "whole number from 1 to 100,000"),
        (CANDIDATE, "PROGRAM", "ten", "whole number from 1 to 100,000"),
        ("name: lone\ncondition: 'true'\nactions: []\n", "PROGRAM", "10", "replays a whole bundle"),
        ("program: {key: x}\nrules: [", "PROGRAM", "10", "the bundle has 1 error(s)"),
        (CANDIDATE, "00000000-0000-0000-0000-000000000000", "10", "not found"),
    ],
)
def test_what_cannot_run_is_said_in_the_panel(client, bundle, program, last, said):
    key = create_key("acme")
    real = history(client, key)
    answer = ask(client, key, real if program == "PROGRAM" else program, bundle, last)
    assert answer.status_code == 200
    assert said in one(answer.text, id="backtest-message").text


def test_another_organisations_program_and_runs_are_not_found(client):
    mine, theirs = create_key("acme"), create_key("globex")
    program = history(client, mine)
    assert "not found" in one(ask(client, theirs, program).text, id="backtest-message").text
    poll = panel(ask(client, mine, program).text).attrs["hx-get"]
    assert "not found" in one(client.get(poll, headers={"X-API-Key": theirs}).text, id="backtest-message").text
    assert client.get(poll).status_code == 401  # no key at all: the API's own check answers


def test_without_the_api_app_the_panel_explains_itself():
    with TestClient(app=Litestar(route_handlers=[playground.router])) as alone:
        answer = alone.post("/playground/backtests", data={"bundle": CANDIDATE, "id": "p", "last": "10"})
        assert "needs the API server and an API key" in one(answer.text, id="backtest-message").text


@pytest.mark.browser
def test_backtest_the_edited_bundle_in_chromium(browser, tmp_path):
    """The page of a real server with a real worker: open the stored program, double its rule
    in the editor, backtest, and read the difference and its chart."""
    with serving(f"sqlite:///{tmp_path}/backtest.db") as server:
        env = {**os.environ, "DATABASE_URL": server.database_url, "QUEUE_URL": "sql"}
        worker = subprocess.Popen(
            [ACCRUAL, "worker", "-w", "1", "--poll-max", "0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(base_url=server.url, timeout=30) as api:
                program = history(api, server.key)
                headers = {"X-API-Key": server.key}

                def processed() -> int:
                    listed = api.get("/v1/events", params={"status": "COMPLETED"}, headers=headers)
                    return len(listed.json()["data"])

                assert wait_until(lambda: processed() == 3, timeout_s=60)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(server.url + "/playground")
            page.fill("#api-key", server.key)
            page.click("#load-programs")
            # htmx binds a swapped-in element once it settles (its `htmx-added` class then goes):
            # choosing before that would change a select nothing listens to yet.
            page.wait_for_selector("#stored-program:not(.htmx-added)")
            page.select_option("#stored-program", program)
            # The panes are swapped in, then settled (htmx puts back the new elements' own classes)
            # and bound to their editors, then run: edit only once that run has shown its result.
            page.wait_for_function("() => document.getElementById('result').textContent.includes('COMPLETED')")
            edited = page.eval_on_selector("#bundle", "el => el.value").replace(
                "amount: event.amount", "amount: event.amount * 2.0"
            )
            _set(page, "bundle", edited)
            page.fill("#backtest-last", "100")
            page.click("#backtest-run-button")
            page.wait_for_selector("#backtest-run[data-status='COMPLETED']")
            assert page.get_attribute("#backtest-summary", "data-changed") == "3"
            assert page.locator("polyline[data-series='after']").count() == 1
            assert page.text_content("tr[data-asset='PTS'] td.liability-change") == "35.00"
            page.close()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
