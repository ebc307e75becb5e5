"""The playground's page and every partial, through a Litestar app with just its router (and
once through the API's `create_app`)."""

import json
from html import unescape
from pathlib import Path

import msgspec
import pytest
import yaml
from litestar import Litestar
from litestar.testing import TestClient

import playground
from engine.model.bundle import TestCase as BundleTestCase
from playground.examples import example_names
from tests.playground import samples
from tests.playground.html import one, select


def _run(client, bundle=samples.BUNDLE, event=None, participant=samples.PARTICIPANT):
    form = {"bundle": bundle, "event": event or samples.event("coffee"), "participant": participant}
    response = client.post("/playground/run", data=form)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _statuses(html):
    return {e.attrs["data-rule"]: e.attrs["data-status"] for e in select(html, "li", data_rule="*")}


def test_page_has_the_panes_the_buttons_and_the_vendored_htmx(client, examples_dir):
    response = client.get("/playground")
    assert response.status_code == 200
    html = response.text
    for element_id in (
        "bundle",
        "event",
        "participant",
        "run",
        "result",
        "example",
        "save-test",
        "api-key",
        "load-programs",
        "programs",
        "share",
    ):
        assert len(select(html, id=element_id)) == 1, element_id
    assert one(html, "script", src="/playground/static/htmx-2.0.11.min.js")
    assert one(html, "form", id="playground").attrs["hx-post"] == "/playground/run"
    assert [o.attrs["value"] for o in select(html, "option")][1:] == example_names(examples_dir) == ["cafe"]


def test_static_files_are_served(client):
    response = client.get("/playground/static/htmx-2.0.11.min.js")
    assert response.status_code == 200 and len(response.content) == 52182
    assert "CompressionStream" in client.get("/playground/static/playground.js").text


def test_page_with_an_unknown_example_says_so(client):
    html = client.get("/playground", params={"example": "../../etc/passwd"}).text
    assert "no example named" in one(html, id="message").text
    assert one(html, "textarea", id="bundle").text == ""


def test_example_partial_fills_the_panes_from_its_first_test_and_asks_for_a_run(client):
    response = client.get("/playground/example", params={"name": "cafe"})
    assert response.status_code == 200
    assert response.headers["hx-trigger-after-settle"] == "run"
    assert one(response.text, "textarea", id="bundle").text == samples.EXAMPLE
    event = msgspec.json.decode(one(response.text, "textarea", id="event").text)
    assert event == {"event_timestamp": "2026-05-04T10:00:00Z", "event_data": {"item": "cake", "price": 4.0}}
    assert yaml.safe_load(one(response.text, "textarea", id="participant").text) == {"tags": ["member"]}


def test_page_can_open_with_an_example(client):
    html = client.get("/playground", params={"example": "cafe"}).text
    assert one(html, "textarea", id="bundle").text == samples.EXAMPLE
    assert one(html, "option", value="cafe").attrs.get("selected") == ""


def test_unknown_example_is_retargeted_to_the_message_line(client):
    response = client.get("/playground/example", params={"name": "notes"})
    assert response.headers["hx-retarget"] == "#message"
    assert "no example named 'notes'" in unescape(response.text)


def test_run_shows_every_rule_with_its_status_trace_actions_and_balances(client):
    html = _run(client)
    assert _statuses(html) == {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"}
    assert one(html, id="summary").attrs["data-status"] == "COMPLETED"
    coffee = one(html, "li", data_rule="coffee points")
    assert "event.item == 'coffee'" in coffee.text
    values = [e.text.strip() for e in select(html, "td", **{"class": "value"})]
    assert '"coffee"' in values and "true" in values and "false" in values
    assert "'coffee'" not in values  # CEL's notation, not Python's repr
    [credit] = select(html, "tr", data_type="CREDIT")
    assert "6" in credit.text and "POINTS" in credit.text
    assert one(html, "tr", data_asset="POINTS").text.split() == ["POINTS", "10", "16", "0", "0"]
    assert coffee.attrs["data-api-status"] == "SUCCESS" and "SUCCESS" in coffee.text
    assert one(html, "li", data_rule="cake points").attrs["data-api-status"] == "NOT_MATCHED"
    for pane in ("bundle", "event", "participant"):
        problems = one(html, "ul", id=f"{pane}-problems")
        assert problems.attrs["hx-swap-oob"] == "true" and not problems.text.strip()


def test_changing_the_event_changes_which_rule_matches(client):
    html = _run(client, event=samples.event("cake"))
    assert _statuses(html) == {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"}
    assert "cake_lover" in one(html, "tr", data_field="tags").text


def test_bundle_error_is_listed_with_its_line_and_column(client):
    html = _run(client, bundle=samples.BROKEN_BUNDLE)
    assert one(html, id="summary").attrs["data-status"] == "INPUT_ERROR"
    [problem] = select(html, "li", data_line="*")
    assert problem.attrs["data-line"] == str(samples.BROKEN_LINE)
    assert int(problem.attrs["data-column"]) >= 16
    assert problem.attrs["data-code"].startswith("DSL")
    assert select(html, "ul", id="bundle-problems")[0].text.strip()
    assert _statuses(html) == {}


def test_event_and_participant_errors_are_listed_beside_their_panes(client):
    html = _run(client, event='{"event_timestamp": "2026-01-01T00:00:00Z",\n "event_data": [}', participant="tags: [")
    assert "playground_json" in one(html, "ul", id="event-problems").text
    assert one(html, "li", data_code="playground_json").attrs["data-line"] == "2"
    assert "yaml_syntax" in one(html, "ul", id="participant-problems").text


def test_a_single_rule_runs_in_a_playground_program(client):
    html = _run(client, bundle=samples.SINGLE_RULE, event=samples.event("tea", 2.5), participant="")
    assert _statuses(html) == {"lone rule": "MATCHED"}
    assert "one rule" in one(html, id="summary").text


def test_single_rule_errors_point_into_the_pane_as_typed(client):
    broken = samples.SINGLE_RULE.replace("event.price > 2.0", "event.price >> 2.0")
    html = _run(client, bundle=broken, event=samples.event("tea"), participant="")
    [problem] = select(html, "li", data_line="*")
    assert problem.attrs["data-line"] == "2"
    assert int(problem.attrs["data-column"]) >= 12


def test_pasted_markup_is_escaped_never_rendered(client):
    html = _run(client, bundle=samples.BUNDLE.replace("Cafe", "<script>alert(1)</script>"))
    assert "<script>alert(1)" not in html
    html = client.get("/playground").text
    assert "<script>alert" not in html


def test_save_as_test_case_renders_a_block_that_reads_back(client):
    form = {
        "bundle": samples.BUNDLE,
        "event": samples.event("cake"),
        "participant": samples.PARTICIPANT,
        "name": "cake for a member",
    }
    html = client.post("/playground/test-case", data=form).text
    block = one(html, "textarea", id="testcase-yaml").text
    [case] = msgspec.convert(yaml.safe_load(block), list[BundleTestCase])
    assert case.name == "cake for a member"
    assert case.expect.matched == ["cake points"]
    assert case.expect.credits == {"POINTS": "5"}
    assert case.participant.tags == ["member"]


def test_save_as_test_case_with_errors_explains_why_not(client):
    form = {"bundle": samples.BROKEN_BUNDLE, "event": samples.event("cake"), "participant": ""}
    html = client.post("/playground/test-case", data=form).text
    assert "problem" in one(html, id="testcase-error").text


def test_append_puts_the_block_under_tests_and_asks_for_a_run(client):
    block = "- name: n\n  event: {}\n"
    response = client.post("/playground/append-test-case", data={"bundle": samples.BUNDLE, "block": block})
    assert response.headers["hx-trigger-after-settle"] == "run"
    bundle = one(response.text, "textarea", id="bundle").text
    assert yaml.safe_load(bundle)["tests"] == [{"name": "n", "event": {}}]


def test_append_to_an_unusable_tests_key_keeps_the_bundle_and_says_why(client):
    text = samples.BUNDLE + "tests: []\n"
    response = client.post("/playground/append-test-case", data={"bundle": text, "block": "- name: n\n"})
    assert one(response.text, "textarea", id="bundle").text == text
    assert "block list" in one(response.text, id="append-error").text


def test_result_partial_snapshot(client, snapshot):
    assert _run(client, event=samples.event("cake")) == snapshot


def test_mounted_in_the_api_app_it_needs_no_key_and_takes_forms(tmp_path):
    from api.app import create_app
    from tests.databases import close_database, open_database

    database = open_database("sqlite", tmp_path)
    app = create_app(database, route_handlers=[playground.router], configure_queue_for_app=False)
    with TestClient(app=app) as api:
        assert api.get("/playground").status_code == 200
        assert api.get("/playground/static/playground.js").status_code == 200
        html = _run(api, event=samples.event("cake"))
        assert _statuses(html) == {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"}
        assert api.get("/v1/programs").status_code == 401  # the API around it still wants a key
    close_database(database)


def test_a_saved_test_case_passes_accrual_test_on_the_bundle(client):
    """What was tried becomes a case `accrual test` checks: saved, appended, and run by the same
    test runner CI uses, it passes."""
    from engine.evaluator.cases import run_test_cases
    from engine.rules.loader import load_bundle_text

    form = {
        "bundle": samples.BUNDLE,
        "event": samples.event("cake", 4.5),
        "participant": samples.PARTICIPANT,
        "name": "member buys cake",
    }
    block = one(client.post("/playground/test-case", data=form).text, "textarea", id="testcase-yaml").text
    appended = client.post("/playground/append-test-case", data={"bundle": samples.BUNDLE, "block": block})
    bundle = one(appended.text, "textarea", id="bundle").text
    loaded = load_bundle_text(bundle, "cafe.yaml")
    assert loaded.ok, loaded.problems
    [result] = run_test_cases(loaded)
    assert (result.name, result.passed, result.diff) == ("member buys cake", True, [])


@pytest.mark.parametrize("name", example_names())
def test_every_shipped_example_opens_runs_and_saves_a_passing_case(name):
    from engine.evaluator.cases import run_test_case
    from engine.rules.loader import load_bundle_text

    with TestClient(app=Litestar(route_handlers=[playground.router])) as shipped:
        panes = shipped.get("/playground/example", params={"name": name}).text
        form = {pane: one(panes, "textarea", id=pane).text for pane in ("bundle", "event", "participant")}
        html = _run(shipped, **form)
        block = one(shipped.post("/playground/test-case", data=form).text, "textarea", id="testcase-yaml").text
    assert one(html, id="summary").attrs["data-status"] == "COMPLETED"
    assert select(html, "li", data_rule="*")
    assert bool(select(html, id="recipient-state")) == ("recipient:" in form["participant"])
    loaded = load_bundle_text(form["bundle"], f"{name}.yaml")
    [case] = msgspec.convert(yaml.safe_load(block), list[BundleTestCase])
    outcome = run_test_case(loaded.program, loaded.bundle, case)
    assert outcome.passed, outcome.diff


def test_a_pane_starting_with_a_blank_line_survives_the_round_trip(client):
    block = "- name: n\n  event: {}\n"
    response = client.post("/playground/append-test-case", data={"bundle": "\n" + samples.BUNDLE, "block": block})
    assert one(response.text, "textarea", id="bundle").text == "\n" + samples.BUNDLE + "tests:\n" + block


def test_append_to_a_bundle_that_is_not_yaml_yet_keeps_it_and_says_why(client):
    response = client.post("/playground/append-test-case", data={"bundle": "rules: [\n", "block": "- name: n\n"})
    assert response.status_code == 200
    assert one(response.text, "textarea", id="bundle").text == "rules: [\n"
    assert "not valid YAML" in one(response.text, id="append-error").text


def test_the_summary_says_what_matched_what_moved_and_the_balance_before_and_after(client):
    html = _run(client)
    assert "coffee points" in one(html, id="summary-matched").text
    assert one(html, "span", data_asset="POINTS", **{"class": "movement"}).text.split() == ["POINTS:", "+6"]
    assert one(html, "span", data_who="participant", data_asset="POINTS").text.split() == [
        "participant",
        "POINTS",
        "10",
        "→",
        "16",
    ]


def test_only_rules_that_did_something_are_expanded(client):
    html = _run(client)
    [opened] = select(html, "details", open="*")
    assert len(select(html, "details")) == 2 and "coffee points" in opened.text
    collapsed = one(html, "li", data_rule="cake points").text
    assert "event.item == 'cake'" in collapsed and "false" in collapsed  # the one line: condition and value


def test_trace_rows_carry_their_span_in_the_bundle_pane(client):
    rows = select(_run(client), "tr", data_source="*") + select(
        _run(client, event=samples.event("cake")), "tr", data_source="*"
    )
    sources = [(row.text.split()[0], row.attrs["data-source"]) for row in rows]
    line = samples.BUNDLE.split("\n").index("    condition: event.item == 'coffee'") + 1
    assert ("event.item", f"{line}:16-{line}:26") in sources
    text = "      event.item == 'cake' && 'member' in participant.tags"
    folded, column = samples.BUNDLE.split("\n").index(text) + 1, text.index("participant.tags") + 1
    assert (
        "participant.tags",
        f"{folded}:{column}-{folded}:{column + 16}",
    ) in sources  # inside a folded condition  # participant.tags inside the folded condition


def test_state_is_shown_field_by_field_in_cel_notation(client):
    html = _run(client, event=samples.event("cake"))
    tags = one(html, "tr", data_field="tags")
    assert '["member"]' in tags.text and '["cake_lover", "member"]' in tags.text
    assert tags.attrs.get("class") == "changed"


def test_bare_event_data_runs_with_a_notice_that_offers_the_envelope(client):
    html = _run(client, event='{"item": "coffee", "price": 3.0}')
    assert _statuses(html)["coffee points"] == "MATCHED"
    notice = one(html, "li", data_code="playground_bare_event")
    assert notice.attrs["data-severity"] == "notice" and "2026-01-01T12:00:00Z" in notice.text
    assert one(html, "button", **{"class": "wrap-event"})
    assert "unknown field" not in html


def test_run_tests_reports_pass_and_fail_per_case(client):
    failing = samples.EXAMPLE.replace("matched: [cake points]", "matched: [coffee points]")
    html = client.post("/playground/tests", data={"bundle": samples.EXAMPLE + _SECOND_CASE}).text
    assert one(html, id="tests-summary").attrs["data-passed"] == "2"
    html = client.post("/playground/tests", data={"bundle": failing}).text
    case = one(html, "li", data_case="member buys cake")
    assert case.attrs["data-passed"] == "false" and "matched" in case.text
    assert one(html, id="tests-summary").text.split()[:4] == ["0", "passed,", "1", "failed"]


def test_run_tests_runs_automation_tests_and_shows_next_firings(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "birthday_club.yaml").read_text()
    html = client.post("/playground/tests", data={"bundle": bundle}).text
    assert one(html, id="tests-summary").attrs["data-passed"] == "11"  # 5 rule tests, 6 automation tests
    assert one(html, "li", data_case="in winter nine in London is nine UTC").attrs["data-passed"] == "true"
    assert "cron 0 0 1 * *" in one(html, "li", data_automation="double_points_day_starts").text
    times = select(html, "time")
    assert len(times) == 10  # five for each cron automation
    assert all(time.text.split()[1] == "00:00" and time.text.split()[2] in ("GMT", "BST") for time in times)
    assert "own schedule" in one(html, "li", data_automation="birthday_bonus").text


def test_run_tests_without_tests_or_with_errors_says_so(client):
    assert (
        "no test cases"
        in one(client.post("/playground/tests", data={"bundle": samples.BUNDLE}).text, id="tests-none").text
    )
    broken = client.post("/playground/tests", data={"bundle": samples.BROKEN_BUNDLE}).text
    assert "1 error" in one(broken, id="tests-error").text
    lone = client.post("/playground/tests", data={"bundle": samples.SINGLE_RULE}).text
    assert "A lone rule has no test cases" in one(lone, id="tests-none").text


def test_completion_offers_the_event_panes_fields(client):
    bundle = samples.BUNDLE.replace("event.item == 'coffee'", "event.pr")
    line = bundle.split("\n").index("    condition: event.pr")
    form = {"bundle": bundle, "event": samples.event("tea"), "line": line, "character": len("    condition: event.pr")}
    answer = client.post("/playground/complete", data=form).json()
    assert answer["start"] == len("    condition: event.")
    assert [item["label"] for item in answer["items"][:2]] == ["item", "price"]
    assert answer["items"][1]["detail"] == "double"


def test_hover_documents_a_function(client):
    bundle = samples.BUNDLE
    line = bundle.split("\n").index("        amount: int(event.price) * 2")
    answer = client.post("/playground/hover", data={"bundle": bundle, "line": line, "character": 17}).json()
    assert "int(x) -> int" in answer["markdown"]
    nothing = bundle.split("\n").index("        amount: 5")
    assert client.post("/playground/hover", data={"bundle": bundle, "line": nothing, "character": 17}).json() == {}


_SECOND_CASE = """\
  - name: coffee for anyone
    event: {item: coffee, price: 2.0}
    expect:
      matched: [coffee points]
      credits: {POINTS: "4"}
"""


def test_lots_show_before_and_after_with_what_expired(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "airline_miles.yaml").read_text()
    event = {
        "event_timestamp": "2026-06-01T00:00:00Z",
        "event_data": {"type": "award.booked", "miles": 3000},
    }
    participant = """lots:
  MILES:
    - {amount: 4000, created_at: "2023-05-01T00:00:00Z", expires_at: "2026-05-01T00:00:00Z"}
    - {amount: 3500, created_at: "2024-02-01T00:00:00Z", expires_at: "2027-02-01T00:00:00Z"}
"""
    html = _run(client, bundle=bundle, event=json.dumps(event), participant=participant)
    rows = {row.attrs["data-lot"]: row for row in select(html, "tr", data_lot="*")}
    assert list(rows) == ["MILES-1", "MILES-2"]
    assert [cell.text for cell in select(html, "td", **{"class": "after"})] == ["expired", "500 AVAILABLE"]
    assert one(html, "tr", data_asset="MILES").text.split() == ["MILES", "7500", "500", "0", "0"]


def test_tier_levels_show_before_and_after_with_the_next_evaluation(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "airline_miles.yaml").read_text()
    event = {
        "event_timestamp": "2026-06-01T00:00:00Z",
        "event_data": {"type": "flight.completed", "distance": 1000, "cabin": "economy"},
    }
    participant = "tiers: {status: silver}\ncounters: {qualifying_miles: 49500}\n"
    html = _run(client, bundle=bundle, event=json.dumps(event), participant=participant)
    row = one(html, "tr", data_tier="status")
    assert row.text.split() == ["status", "silver", "gold", "2027-01-01T00:00:00Z", "(period", "end)"]
    assert "changed" in row.attrs.get("class", "")


def test_run_tests_shows_spending_steps_and_their_differences(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "card_linked.yaml").read_text()
    html = client.post("/playground/tests", data={"bundle": bundle}).text
    assert one(html, id="tests-summary").attrs["data-passed"] == "8"
    name = "a dining credit is reversed in part, never beyond what it took"
    failing = bundle.replace("reverse: {redemption: lunch, amount: 50}", "reverse: {redemption: lunch, amount: 40}")
    case = one(client.post("/playground/tests", data={"bundle": failing}).text, "li", data_case=name)
    assert case.attrs["data-passed"] == "false"
    assert "step 2 (2026-03-01T13:00:00Z): balances.PTS.available: expected 200, got 190" in case.text


def test_the_group_the_event_names_is_shown_before_and_after(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "family_pooling.yaml").read_text()
    event = json.dumps(
        {"event_timestamp": "2026-03-20T10:00:00Z", "event_data": {"type": "purchase", "amount": 30, "group_id": "hh"}}
    )
    pane = "group:\n  name: Smiths\n  counters: {pooled_purchases: 3}\n  balances: {FAM: 420}\n"
    html = _run(client, bundle=bundle, event=event, participant=pane)
    assert _statuses(html)["busy_household_bonus"] == "MATCHED"
    assert one(html, "table", id="group-state") and one(html, "table", id="group-balances")
    group_tags = select(html, "tr", data_field="tags")[-1]  # the participant's come first
    assert '["active_household"]' in group_tags.text and group_tags.attrs.get("class") == "changed"
    assert [cell.text for cell in select(html, "td", **{"class": "available"})][-1] == "500"
    assert "GROUP: tag <code>active_household</code> add" in unescape(html)


def test_a_group_pane_naming_another_group_than_the_event_is_a_participant_problem(client):
    event = json.dumps({"event_timestamp": "2026-03-20T10:00:00Z", "event_data": {"type": "x", "group_id": "hh"}})
    html = _run(client, event=event, participant="group: {id: other}\n")
    problem = one(html, "li", data_code="invalid_test_input")
    assert "is not the event's group_id" in problem.text and not select(html, id="group-state")


def test_the_groups_lots_are_shown_before_and_after(client):
    bundle = (Path(__file__).parents[2] / "rules_examples" / "family_pooling.yaml").read_text()
    event = json.dumps(
        {"event_timestamp": "2026-06-01T09:00:00Z", "event_data": {"type": "trip", "miles": 100, "group_id": "hh"}}
    )
    pane = (
        "group:\n  lots:\n    TRIP:\n"
        "      - {amount: 300, created_at: 2025-01-01T00:00:00Z, expires_at: 2025-12-01T00:00:00Z}\n"
        "      - {amount: 250, created_at: 2025-09-01T00:00:00Z}\n"
    )
    html = _run(client, bundle=bundle, event=event, participant=pane)
    assert _statuses(html)["household_trip"] == "MATCHED"
    assert one(html, "table", id="group-lots")
    assert [cell.text for cell in select(html, "td", **{"class": "after"})] == ["expired", "150 AVAILABLE"]
