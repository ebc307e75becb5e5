"""`POST /v1/programs/{id}/backtests` and the backtest resource: asked for, run once by a worker
with its progress recorded, read back with the difference; bad requests get a clear code."""

from __future__ import annotations

from decimal import Decimal

from engine.queue import current_queue
from engine.worker.backtests import run_backtest_task
from tests.api.conftest import create_program

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


def _history(api) -> str:
    program = create_program(api, points_scale=2)["id"]
    rule = {
        "program_id": program,
        "name": "earn",
        "condition": "true",
        "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": "event.amount"}],
    }
    assert api.post("/v1/rules", rule).status_code == 201
    for key, who, amount in (("k1", "alice", 10.0), ("k2", "bob", 20.0), ("k3", "alice", 5.0)):
        event = {
            "program_id": program,
            "external_id": who,
            "idempotency_key": key,
            "event_timestamp": "2026-11-01T00:00:00Z",
            "event_data": {"amount": amount},
        }
        assert api.post("/v1/events", event).status_code == 202
    return program


def test_a_backtest_runs_and_shows_the_difference(immediate_api):
    program = _history(immediate_api)
    asked = immediate_api.post(f"/v1/programs/{program}/backtests", {"bundle": CANDIDATE, "sample": 1})
    assert asked.status_code == 202, asked.text
    run = asked.json()
    assert run["program_id"] == program and run["baseline"] == "CURRENT" and run["last"] is None
    shown = immediate_api.get(f"/v1/programs/{program}/backtests/{run['id']}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "COMPLETED" and body["progress"] == {"done": 3, "total": 3} and body["error"] is None
    result = body["result"]
    assert result["reproduced"] is True and result["events"] == 3 and result["changed_events"] == 3
    changes = {
        change["external_id"]: change["balances"]["PTS"]["available"] for change in result["participant_changes"]
    }
    assert changes == {"alice": ["15.00", "30.00"], "bob": ["20.00", "40.00"]}
    assert Decimal(result["assets"][0]["liability_change"]) == 35 and len(result["samples"]) == 1


def test_a_pending_backtest_is_run_once_and_an_empty_window_fails_visibly(api):
    program = create_program(api, points_scale=2)["id"]
    asked = api.post(f"/v1/programs/{program}/backtests", {"bundle": CANDIDATE, "last": 100})
    assert asked.status_code == 202 and asked.json()["status"] == "PENDING"
    run_id = asked.json()["id"]
    assert api.get(f"/v1/programs/{program}/backtests/{run_id}").json()["progress"] == {"done": 0, "total": None}
    queue = current_queue()
    (task,) = [task for task in queue.huey.pending() if task.name == "run_backtest"]
    run_backtest_task(queue, task.args[0])
    run_backtest_task(queue, task.args[0])  # a second wake-up finds it taken and does nothing
    body = api.get(f"/v1/programs/{program}/backtests/{run_id}").json()
    assert body["status"] == "FAILED" and body["error"]["code"] == "empty_window" and body["result"] is None
    assert body["completed_at"] is not None and body["last"] == 100


def test_bad_requests_are_refused_with_a_code(api, other_api):
    program = create_program(api, points_scale=2)["id"]
    path = f"/v1/programs/{program}/backtests"
    text = (
        "program: {key: x, name: X}\n"
        "rules:\n  - name: r\n    condition: 'true &&'\n    actions: [{type: TAG, tag: x}]\n"
    )
    broken = api.post(path, {"bundle": text})
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_bundle"
    problems = broken.json()["details"]["problems"]
    assert any(problem["line"] == 4 and problem["code"] == "DSL_SYNTAX" for problem in problems), problems
    baseline = api.post(path, {"bundle": CANDIDATE, "against": "rules: 3"})
    assert baseline.status_code == 400 and baseline.json()["details"]["bundle"] == "baseline"
    both = api.post(path, {"bundle": CANDIDATE, "last": 5, "from": "2026-01-01T00:00:00Z"})
    assert both.status_code == 400 and both.json()["code"] == "bad_request"
    backwards = api.post(path, {"bundle": CANDIDATE, "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
    assert backwards.status_code == 400
    naive = api.post(path, {"bundle": CANDIDATE, "from": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert api.post(path, {"bundle": CANDIDATE, "extra": 1}).status_code == 400
    assert api.post(path, {"bundle": CANDIDATE, "sample": 5000}).status_code == 400
    missing = api.post("/v1/programs/nope/backtests", {"bundle": CANDIDATE})
    assert missing.status_code == 404 and missing.json()["code"] == "program_not_found"
    assert other_api.post(path, {"bundle": CANDIDATE}).status_code == 404  # another organisation's program
    unknown = api.get(f"{path}/nope")
    assert unknown.status_code == 404 and unknown.json()["code"] == "backtest_not_found"
    run_id = api.post(path, {"bundle": CANDIDATE}).json()["id"]
    assert other_api.get(f"{path}/{run_id}").status_code == 404
