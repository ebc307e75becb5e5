"""GET /metrics: the Prometheus text format, public, with the events, the processing histogram
and the rules that errored, the same figures `accrual status` prints."""

from __future__ import annotations

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from engine.cli.main import main
from tests.api.conftest import create_program
from tests.api.test_events import event


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_and_status_show_events_latency_and_rule_errors(immediate_api, database_url):
    api = immediate_api
    program = create_program(api, points_scale=0)["id"]
    body = {
        "program_id": program,
        "name": "coupon",
        "condition": "event.coupon == 'X'",
        "actions": [{"type": "CREDIT", "asset_id": "PTS", "amount": 1}],
    }
    rule = api.post("/v1/rules", body).json()["id"]
    for n in range(2):
        body = event(program, idempotency_key=f"m{n}", event_data={"amount": 4.0})
        assert api.post("/v1/events", body).status_code == 202
    response = api.client.get("/metrics")  # no API key
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    assert found[("accrual_events_recent", (("status", "COMPLETED"),))] == 2
    assert found[("accrual_queue_depth", (("status", "PENDING"),))] == 0
    assert found[("accrual_event_processing_seconds_bucket", (("le", "+Inf"),))] == 2
    labels = (("kind", "error"), ("program_id", program), ("rule_id", rule), ("rule_name", "coupon"))
    assert found[("accrual_rule_errors_last_hour", labels)] == 2
    assert ("accrual_webhook_backlog", ()) in found and ("accrual_ledger_rollup_behind", ()) in found

    result = CliRunner().invoke(main, ["status", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "events, last hour: completed 2, failed 0" in result.output
    assert "processing latency, last hour: 2 events" in result.output
    assert f"coupon ({rule}, program {program}): 2 errors, 0 timeouts in 2 events (100.0%)" in result.output
