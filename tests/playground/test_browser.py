"""The playground in the system Chromium, against a real uvicorn: what an author does, end to end."""

from __future__ import annotations

import base64
import json
import time
import zlib

import pytest
import yaml

from tests.playground import samples

pytestmark = pytest.mark.browser

STATUSES_JS = (
    "() => Object.fromEntries([...document.querySelectorAll('#result [data-rule]')]"
    ".map(e => [e.dataset.rule, e.dataset.status]))"
)


def _open(page, server_url, path="/playground"):
    page.goto(server_url + path)
    page.wait_for_function("() => typeof htmx === 'object' && document.body.dataset.stateSaved")


def _wait_for_statuses(page, expected: dict[str, str]) -> None:
    page.wait_for_function(f"expected => JSON.stringify(({STATUSES_JS})()) === JSON.stringify(expected)", arg=expected)


def _fill(page, bundle=samples.BUNDLE, event=None, participant=samples.PARTICIPANT):
    page.fill("#bundle", bundle)
    page.fill("#participant", participant)
    page.fill("#event", event or samples.event("coffee"))


def _url_state(url: str) -> dict | None:
    """The panes a shared link carries (`#s=` + base64url of raw-deflated JSON)."""
    _, _, fragment = url.partition("#s=")
    if not fragment:
        return None
    raw = base64.urlsafe_b64decode(fragment + "=" * (-len(fragment) % 4))
    return json.loads(zlib.decompress(raw, wbits=-15))


def test_load_an_example_and_run_it(page, server_url):
    _open(page, server_url)
    page.select_option("#example", "cafe")
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    assert page.input_value("#bundle") == samples.EXAMPLE
    page.click("#run")
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    assert page.text_content("#participant-balances [data-asset=POINTS] .available").strip() == "5"


def test_change_the_event_so_another_rule_matches(page, server_url, artifacts):
    _open(page, server_url)
    _fill(page)
    page.click("#run")
    _wait_for_statuses(page, {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"})
    page.fill("#event", samples.event("cake"))  # no click: results follow the typing
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    trace = page.locator("[data-rule='cake points'] .trace").inner_text()
    assert "'member' in participant.tags" in trace and "true" in trace
    page.locator("#result").screenshot(path=str(artifacts / "playground-result.png"))
    assert (artifacts / "playground-result.png").stat().st_size > 1000


def test_an_error_is_highlighted_in_its_pane(page, server_url):
    _open(page, server_url)
    _fill(page, bundle=samples.BROKEN_BUNDLE)
    mark = page.wait_for_selector(f"#bundle-marks mark.error-line[data-line='{samples.BROKEN_LINE}']")
    assert mark.is_visible()
    assert page.wait_for_selector("#bundle-marks mark.error-column").is_visible()
    assert f"line {samples.BROKEN_LINE}" in page.text_content("#bundle-problems")
    assert page.get_attribute("#summary", "data-status") == "INPUT_ERROR"
    page.click("#bundle-problems li")  # puts the cursor on the problem
    line_of_cursor = page.evaluate(
        "() => { const a = document.activeElement; "
        "return a.id + ':' + a.value.slice(0, a.selectionStart).split('\\n').length; }"
    )
    assert line_of_cursor == f"bundle:{samples.BROKEN_LINE}"
    page.fill("#event", '{"event_timestamp": "2026-01-01T00:00:00Z",\n  "event_data": {oops}}')
    page.wait_for_selector("#event-marks mark.error-line[data-line='2']")
    page.fill("#bundle", samples.BUNDLE)  # fixing the bundle clears its problems and marks
    page.wait_for_function("() => !document.querySelector('#bundle-problems li')")
    assert page.query_selector("#bundle-marks mark") is None
    assert page.query_selector("#event-marks mark.error-line[data-line='2']") is not None


def test_save_a_test_case_and_append_it_to_the_bundle(page, server_url):
    _open(page, server_url)
    _fill(page, event=samples.event("cake"))
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    page.fill("#case-name", "member buys cake")
    page.click("#save-test")
    block = page.wait_for_selector("#testcase-yaml").input_value()
    [case] = yaml.safe_load(block)
    assert case["name"] == "member buys cake"
    assert case["expect"]["matched"] == ["cake points"]
    page.click("#append-test")
    page.wait_for_function("() => document.querySelector('#bundle').value.includes('tests:')")
    assert yaml.safe_load(page.input_value("#bundle"))["tests"][0]["name"] == "member buys cake"
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    assert page.text_content("#bundle-problems").strip() == ""


def test_reload_a_shared_url(page, server_url):
    _open(page, server_url)
    _fill(page, event=samples.event("cake"))
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    expected = {"bundle": samples.BUNDLE, "event": samples.event("cake"), "participant": samples.PARTICIPANT}
    deadline = time.monotonic() + 5
    while _url_state(page.url) != expected:
        assert time.monotonic() < deadline, f"the URL never carried the panes: {page.url[:80]}"
        page.wait_for_timeout(50)
    shared = page.context.new_page()
    shared.goto(page.url)
    _wait_for_statuses(shared, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    for pane, text in expected.items():
        assert shared.input_value(f"#{pane}") == text
