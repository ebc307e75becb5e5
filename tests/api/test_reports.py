"""/v1/reports: the ledger summary, program activity and the liability roll-forward through the
API, as JSON and as CSV, and their errors."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from engine.store.db import database_proxy
from engine.store.reports import rollup
from tests.api.conftest import create_program


@pytest.fixture
def ledger(api, program) -> dict:
    people = [api.post("/v1/participants", {"external_id": f"u{i}"}).json()["id"] for i in range(2)]
    for person, kind, amount in ((people[0], "CREDIT", "10"), (people[1], "CREDIT", "25.5"), (people[0], "DEBIT", "3")):
        response = api.post(
            f"/v1/participants/{person}/balances/adjust",
            {"program_id": program, "asset_id": "PTS", "type": kind, "amount": amount, "description": "gift"},
        )
        assert response.status_code == 200, response.text
    forfeit = api.post(
        f"/v1/participants/{people[1]}/balances/forfeit",
        {"program_id": program, "asset_id": "PTS", "amount": "0.5", "bucket": "AVAILABLE", "description": "fraud"},
    )
    assert forfeit.status_code == 200, forfeit.text
    return {"program": program, "people": people}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_ledger_summary_totals_and_period(api, ledger):
    (row,) = api.get("/v1/reports/ledger-summary").json()["data"]
    assert row["asset_symbol"] == "PTS" and row["participant_count"] == 2
    assert (row["total_issued"], row["total_redeemed"], row["total_forfeited"]) == ("35.50", "0.00", "0.50")
    assert row["current_balance"] == "32.00" and "opening_balance" not in row and "unit_value" not in row
    (period,) = api.get("/v1/reports/ledger-summary", **{"from": today(), "to": today()}).json()["data"]
    assert (period["opening_balance"], period["closing_balance"]) == ("0.00", "32.00")
    assert (period["period_issued"], period["period_forfeited"], period["other_adjustments_net"]) == (
        "35.50",
        "0.50",
        "-3.00",
    )
    before = api.get("/v1/reports/ledger-summary", **{"from": "2020-01-01", "to": "2020-01-31"}).json()["data"][0]
    assert before["closing_balance"] == "0.00" and before["current_balance"] == "32.00"


def test_the_rollup_changes_nothing_a_report_says(api, ledger):
    before = api.get("/v1/reports/ledger-summary", **{"from": today(), "to": today()}).json()
    with database_proxy.connection_context():
        assert rollup.fold() == 4
    assert api.get("/v1/reports/ledger-summary", **{"from": today(), "to": today()}).json() == before


def test_a_unit_value_states_the_liability_in_money(api, ledger):
    patched = api.patch("/v1/assets/PTS", {"unit_value": "0.0125", "currency": "EUR"})
    assert patched.status_code == 200 and patched.json()["unit_value"] == "0.0125"
    (row,) = api.get("/v1/reports/ledger-summary").json()["data"]
    assert (row["unit_value"], row["currency"], row["current_value"]) == ("0.0125", "EUR", "0.400000")
    days = api.get("/v1/reports/liability", **{"from": today(), "to": today()}).json()["data"]
    assert days[0]["closing_value"] == "0.400000" and days[0]["currency"] == "EUR"
    assert api.patch("/v1/assets/PTS", {"unit_value": None}).json()["currency"] is None
    assert api.patch("/v1/assets/PTS", {"unit_value": "1"}).status_code == 400  # no currency
    assert api.patch("/v1/assets/PTS", {"unit_value": "1", "currency": "euro"}).status_code == 400


def test_liability_roll_forward_days(api, ledger):
    body = api.get("/v1/reports/liability", **{"from": "2020-01-01", "to": "2020-01-03"}).json()
    assert body["timezone"] == "UTC" and [d["date"] for d in body["data"]] == ["2020-01-01", "2020-01-02", "2020-01-03"]
    (day,) = api.get("/v1/reports/liability", **{"from": today(), "to": today(), "asset_id": "PTS"}).json()["data"]
    assert (day["opening_balance"], day["issued"], day["adjusted"], day["closing_balance"]) == (
        "0.00",
        "35.50",
        "-3.00",
        "32.00",
    )
    zoned = api.get("/v1/reports/liability", **{"from": "2020-01-01", "to": "2020-01-01", "timezone": "Asia/Tokyo"})
    assert zoned.json()["timezone"] == "Asia/Tokyo"


def test_program_activity(api, ledger):
    (row,) = api.get("/v1/reports/program-activity").json()["data"]
    assert (row["program_id"], row["journal_count"], row["total_issued"], row["asset_count"]) == (
        ledger["program"],
        4,
        "35.50",
        1,
    )
    assert row["assets"][0]["issued"] == "35.50" and row["last_activity_at"] is not None
    assert api.get("/v1/reports/program-activity", **{"from": "2020-01-01", "to": "2020-01-02"}).json()["data"] == []
    assert api.get("/v1/reports/program-activity", since="2099-01-01T00:00:00Z").json()["data"] == []


@pytest.mark.parametrize("how", ["format", "accept"])
def test_csv_round_trips_every_report(api, ledger, how):
    api.patch("/v1/assets/PTS", {"unit_value": "0.01", "currency": "USD"})
    for path, params in (
        ("/v1/reports/ledger-summary", {"from": today(), "to": today()}),
        ("/v1/reports/program-activity", {}),
        ("/v1/reports/liability", {"from": today(), "to": today()}),
    ):
        as_json = api.get(path, **params).json()["data"]
        if how == "format":
            response = api.get(path, format="csv", **params)
        else:
            response = api.client.get(path, params=params, headers={**api.headers, "Accept": "text/csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == len(as_json)
        for row, item in zip(rows, as_json, strict=True):
            for name, value in item.items():
                if isinstance(value, list):
                    continue
                expected = "" if value is None else str(value)
                assert row[name] == expected, name


def test_csv_keeps_a_formula_as_text(api):
    create_program(api, '=HYPERLINK("http://evil")', points_scale=0)
    program = api.get("/v1/programs").json()["data"][0]["id"]
    person = api.post("/v1/participants", {"external_id": "x"}).json()["id"]
    api.post(
        f"/v1/participants/{person}/balances/adjust",
        {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": "1", "description": "x"},
    )
    text = api.get("/v1/reports/program-activity", format="csv").text
    assert "'=HYPERLINK" in text


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/reports/ledger-summary", {"from": "2026-01-01"}, "to"),
        ("/v1/reports/ledger-summary", {"from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ("/v1/reports/ledger-summary", {"from": "yesterday", "to": "2026-01-01"}, "from"),
        ("/v1/reports/ledger-summary", {"from": "2026-13-01", "to": "2026-12-01"}, "from"),
        ("/v1/reports/liability", {"from": "2026-01-01", "to": "2027-06-01"}, "to"),
        ("/v1/reports/liability", {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02"}, "from"),
        ("/v1/reports/liability", {"from": "2026-01-01", "to": "2026-01-02", "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_bad_parameters_are_400s_naming_the_field(api, path, params, field):
    response = api.get(path, **params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad_request" and response.json()["details"]["field"] == field


def test_reports_are_per_organisation(api, other_api, ledger):
    assert other_api.get("/v1/reports/ledger-summary").json()["data"] == []
    assert other_api.get("/v1/reports/ledger-summary", program_id=ledger["program"]).status_code == 404
    assert other_api.get("/v1/reports/program-activity").json()["data"] == []
