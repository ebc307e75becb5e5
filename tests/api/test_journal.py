"""/v1/journal-entries: filters, newest first, detail with postings, isolation."""

from __future__ import annotations

import pytest


@pytest.fixture
def ledger(api, program) -> dict:
    people = [api.post("/v1/participants", {"external_id": f"u{i}"}).json()["id"] for i in range(2)]
    entries = []
    for person, amount in ((people[0], "10"), (people[1], "25.5"), (people[0], "3")):
        adjusted = api.post(
            f"/v1/participants/{person}/balances/adjust",
            {"program_id": program, "asset_id": "PTS", "type": "CREDIT", "amount": amount, "description": "gift"},
        )
        entries.append(adjusted.json()["journal_entry_id"])
    return {"program": program, "people": people, "entries": entries}


def test_list_newest_first_without_postings(api, ledger):
    body = api.get("/v1/journal-entries").json()
    assert [e["id"] for e in body["data"]] == ledger["entries"][::-1]
    assert all(e["postings"] is None and e["action_type"] == "CREDIT" for e in body["data"])
    assert body["data"][0]["program_name"] == "Coffee"


def test_filters(api, ledger):
    first, _second = ledger["people"]
    mine = api.get("/v1/journal-entries", participant_id=first).json()["data"]
    assert [e["id"] for e in mine] == [ledger["entries"][2], ledger["entries"][0]]
    by_external = api.get("/v1/journal-entries", external_id="u1").json()["data"]
    assert [e["id"] for e in by_external] == [ledger["entries"][1]]
    big = api.get("/v1/journal-entries", min_amount="20").json()["data"]
    assert [e["id"] for e in big] == [ledger["entries"][1]]
    assert len(api.get("/v1/journal-entries", asset_id="PTS", bucket="AVAILABLE").json()["data"]) == 3
    assert api.get("/v1/journal-entries", action_type="DEBIT").json()["data"] == []
    assert api.get("/v1/journal-entries", participant_id=first, external_id="u0").status_code == 400
    assert api.get("/v1/journal-entries", min_amount="lots").status_code == 400
    page = api.get("/v1/journal-entries", limit=2).json()
    rest = api.get("/v1/journal-entries", limit=2, cursor=page["pagination"]["next_cursor"]).json()
    assert [e["id"] for e in page["data"] + rest["data"]] == ledger["entries"][::-1]


def test_detail_has_balanced_postings(api, other_api, ledger):
    entry = api.get(f"/v1/journal-entries/{ledger['entries'][1]}").json()
    amounts = sorted(p["amount"] for p in entry["postings"])
    assert amounts == ["-25.50", "25.50"]
    credited = next(p for p in entry["postings"] if p["amount"] == "25.50")
    assert credited["participant_id"] == ledger["people"][1] and credited["bucket"] == "AVAILABLE"
    assert len(entry["entry_hash"]) == 64
    assert other_api.get(f"/v1/journal-entries/{ledger['entries'][1]}").status_code == 404
    assert other_api.get("/v1/journal-entries").json()["data"] == []
