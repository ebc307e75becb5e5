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
# The 1-based line of the first element matching a selector inside a pane's editor.
LINE_OF_JS = """([pane, selector]) => {
  const view = window.playground.editors[pane];
  const element = view.dom.querySelector(selector);
  return element ? view.state.doc.lineAt(view.posAtDOM(element)).number : null;
}"""


def _open(page, server_url, path="/playground"):
    page.goto(server_url + path)
    page.wait_for_function("() => typeof htmx === 'object' && document.body.dataset.stateSaved")


def _wait_for_statuses(page, expected: dict[str, str]) -> None:
    page.wait_for_function(f"expected => JSON.stringify(({STATUSES_JS})()) === JSON.stringify(expected)", arg=expected)


def _set(page, pane: str, text: str) -> None:
    """Replace a pane's text as typing would (through its editor)."""
    page.evaluate("([pane, text]) => window.playground.setPane(pane, text)", [pane, text])


def _fill(page, bundle=samples.BUNDLE, event=None, participant=samples.PARTICIPANT):
    _set(page, "bundle", bundle)
    _set(page, "participant", participant)
    _set(page, "event", event or samples.event("coffee"))


def _editor_text(page, pane: str) -> str:
    return page.evaluate("pane => window.playground.editors[pane].state.doc.toString()", pane)


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
    assert page.input_value("#bundle") == samples.EXAMPLE == _editor_text(page, "bundle")
    assert page.locator("#bundle-pane .cm-editor .cm-lineNumbers").is_visible()  # a code editor, not a textarea
    page.click("#run")
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    assert page.text_content("#participant-balances [data-asset=POINTS] .available").strip() == "5"


def test_change_the_event_so_another_rule_matches(page, server_url, artifacts):
    _open(page, server_url)
    _fill(page)
    page.click("#run")
    _wait_for_statuses(page, {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"})
    _set(page, "event", samples.event("cake"))  # no click: results follow the typing
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    trace = page.locator("[data-rule='cake points'] .trace").inner_text()
    assert "'member' in participant.tags" in trace and "true" in trace and '"member"' in trace
    page.locator("#result").screenshot(path=str(artifacts / "playground-result.png"))
    assert (artifacts / "playground-result.png").stat().st_size > 1000


def test_the_summary_on_top_and_ctrl_enter_runs(page, server_url):
    _open(page, server_url)
    _fill(page)
    page.locator("#bundle-pane .cm-content").click()
    page.keyboard.press("Control+Enter")
    _wait_for_statuses(page, {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"})
    summary = page.locator("#summary")
    assert "coffee points" in summary.inner_text() and "+6" in summary.inner_text()
    assert "participant POINTS 10 → 16" in summary.inner_text()
    assert page.locator("[data-rule='coffee points'] .status").inner_text() == "SUCCESS"
    assert page.locator("[data-rule='cake points'] details").get_attribute("open") is None  # collapsed


def test_problems_are_inline_diagnostics_at_their_line(page, server_url):
    _open(page, server_url)
    _fill(page, bundle=samples.BROKEN_BUNDLE)
    page.wait_for_selector("#bundle-pane .cm-lintRange-error")
    assert page.evaluate(LINE_OF_JS, ["bundle", ".cm-lintRange-error"]) == samples.BROKEN_LINE
    assert page.locator("#bundle-pane .cm-lint-marker-error").count() == 1  # the gutter marker
    assert f"line {samples.BROKEN_LINE}" in page.text_content("#bundle-problems")
    assert page.get_attribute("#summary", "data-status") == "INPUT_ERROR"
    page.locator("#bundle-pane .cm-lintRange-error").hover()
    page.wait_for_selector(".cm-tooltip-lint")
    assert "DSL_" in page.locator(".cm-tooltip-lint").inner_text()
    page.click("#bundle-problems li")  # puts the cursor on the problem and scrolls to it
    cursor_line = page.evaluate(
        "() => { const v = window.playground.editors.bundle; "
        "return v.state.doc.lineAt(v.state.selection.main.head).number; }"
    )
    assert cursor_line == samples.BROKEN_LINE
    _set(page, "event", '{"event_timestamp": "2026-01-01T00:00:00Z",\n  "event_data": {oops}}')
    page.wait_for_selector("#event-pane .cm-lintRange-error")
    assert page.evaluate(LINE_OF_JS, ["event", ".cm-lintRange-error"]) == 2
    _set(page, "bundle", samples.BUNDLE)  # fixing the bundle clears its diagnostics
    page.wait_for_function("() => !document.querySelector('#bundle-problems li')")
    page.wait_for_function("() => !document.querySelector('#bundle-pane .cm-lintRange-error')")
    assert page.query_selector("#event-pane .cm-lintRange-error") is not None


def test_completion_offers_a_field_of_the_event_pane(page, server_url):
    _open(page, server_url)
    _fill(page, event=samples.event("cake").replace('"price"', '"basket_total"'))
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    line = samples.BUNDLE.split("\n").index("        amount: int(event.price) * 2") + 1
    page.evaluate(
        """line => { const v = window.playground.editors.bundle; const l = v.state.doc.line(line);
        const at = l.from + l.text.indexOf('price');
        v.dispatch({changes: {from: at, to: at + 'price'.length}, selection: {anchor: at}}); v.focus(); }""",
        line,
    )
    page.keyboard.type("bas")
    option = page.wait_for_selector(".cm-tooltip-autocomplete li[aria-selected]")
    assert "basket_total" in option.inner_text()
    page.wait_for_timeout(150)  # CodeMirror ignores Enter for 75 ms after the list opens (a stray key)
    page.keyboard.press("Enter")
    assert "int(event.basket_total) * 2" in _editor_text(page, "bundle")


def test_hovering_a_trace_row_highlights_its_span_in_the_bundle(page, server_url):
    _open(page, server_url)
    _fill(page, event=samples.event("cake"))
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    row = page.locator("[data-rule='cake points'] tr[data-source]", has_text="participant.tags").last
    row.hover()
    page.wait_for_selector("#bundle-pane .trace-span")
    assert page.locator("#bundle-pane .trace-span").inner_text() == "participant.tags"
    line = samples.BUNDLE.split("\n").index("      event.item == 'cake' && 'member' in participant.tags") + 1
    assert page.evaluate(LINE_OF_JS, ["bundle", ".trace-span"]) == line


def test_bare_event_data_runs_with_a_notice_that_fills_in_the_envelope(page, server_url):
    _open(page, server_url)
    _fill(page, event='{"item": "coffee", "price": 3.0}')
    _wait_for_statuses(page, {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"})
    notice = page.wait_for_selector("#event-problems li[data-code=playground_bare_event]")
    assert "event_data" in notice.inner_text() and "unknown field" not in page.inner_text("body")
    page.click(".wrap-event")
    page.wait_for_function("() => !document.querySelector('#event-problems li')")
    assert json.loads(_editor_text(page, "event"))["event_data"] == {"item": "coffee", "price": 3.0}
    _wait_for_statuses(page, {"coffee points": "MATCHED", "cake points": "NOT_MATCHED"})


def test_run_tests_reports_each_case_and_download_saves_the_bundle(page, server_url):
    _open(page, server_url)
    failing_case = "  - name: coffee earns nothing\n    event: {item: coffee, price: 3.0}\n    expect: {matched: []}\n"
    _fill(page, bundle=samples.EXAMPLE + failing_case, event=samples.event("cake"))
    page.click("#run-tests")
    summary = page.wait_for_selector("#tests-summary")
    assert summary.inner_text().strip() == "1 passed, 1 failed"
    assert page.get_attribute("[data-case='member buys cake']", "data-passed") == "true"
    failed = page.locator("[data-case='coffee earns nothing']")
    assert failed.get_attribute("data-passed") == "false" and "matched" in failed.inner_text()
    assert failed.is_visible()  # shown where the button is
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "cafe.yaml"
    assert download.value.path().read_text(encoding="utf-8") == samples.EXAMPLE + failing_case


def test_save_a_test_case_and_append_it_to_the_bundle(page, server_url):
    _open(page, server_url)
    _fill(page, event=samples.event("cake"))
    _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
    page.fill("#case-name", "member buys cake")
    page.click("#save-test")
    block = page.wait_for_selector("#testcase-yaml")
    assert block.is_visible()  # where the button is, not below the results
    [case] = yaml.safe_load(block.input_value())
    assert case["name"] == "member buys cake"
    assert case["expect"]["matched"] == ["cake points"]
    page.click("#append-test")
    page.wait_for_function("() => window.playground.editors.bundle.state.doc.toString().includes('tests:')")
    assert yaml.safe_load(_editor_text(page, "bundle"))["tests"][0]["name"] == "member buys cake"
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
        assert _editor_text(shared, pane) == text


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (390, 844)])
def test_the_page_is_usable_at_laptop_and_phone_sizes(browser, server_url, artifacts, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        _open(page, server_url, "/playground?example=cafe")
        _wait_for_statuses(page, {"coffee points": "NOT_MATCHED", "cake points": "MATCHED"})
        page.wait_for_selector("#summary")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
        for selector in ("#bundle-pane .cm-editor", "#run"):
            box = page.locator(selector).bounding_box()
            assert box and box["width"] > 0 and box["x"] + box["width"] <= width, selector
        path = artifacts / f"playground-{width}x{height}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 5000
    finally:
        context.close()
