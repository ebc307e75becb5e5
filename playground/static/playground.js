// The playground's client side: the page state in the URL, the editors (editor.js) with their
// problems, the trace-to-source highlight, Download, copy buttons. Evaluation always happens on the server (POST /playground/run through htmx).
(function () {
  "use strict";
  const PANES = ["bundle", "event", "participant"];
  const STATE_PREFIX = "#s=";

  function pane(name) { return document.getElementById(name); }

  // --- URL state: deflate-raw + base64url of {bundle, event, participant} in the fragment, so a
  // link reproduces the page and pasted rules never reach a server log.
  async function streamBytes(bytes, transform) {
    const stream = new Blob([bytes]).stream().pipeThrough(transform);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }
  function toBase64Url(bytes) {
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromBase64Url(text) {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  async function encodeState() {
    const state = {};
    for (const name of PANES) { state[name] = pane(name).value; }
    const json = new TextEncoder().encode(JSON.stringify(state));
    return toBase64Url(await streamBytes(json, new CompressionStream("deflate-raw")));
  }
  async function decodeState(encoded) {
    const bytes = await streamBytes(fromBase64Url(encoded), new DecompressionStream("deflate-raw"));
    return JSON.parse(new TextDecoder().decode(bytes));
  }
  let saving = Promise.resolve();
  function saveState() {
    saving = saving.then(async () => {
      const url = location.pathname + STATE_PREFIX + (await encodeState());
      history.replaceState(null, "", url);
      document.body.dataset.stateSaved = String(Date.now());
    });
    return saving;
  }
  async function restoreState() {
    if (!location.hash.startsWith(STATE_PREFIX)) { return false; }
    try {
      const state = await decodeState(location.hash.slice(STATE_PREFIX.length));
      for (const name of PANES) {
        if (typeof state[name] === "string") { setPane(name, state[name]); }
      }
      return true;
    } catch (err) {
      document.getElementById("message").textContent = "The link's state could not be read: " + err;
      return false;
    }
  }

  // --- the editors: one CodeMirror view per pane over its textarea (editor.js).
  const editors = {};
  function runNow() { htmx.trigger(document.body, "run"); }
  function eventText() { return pane("event") ? pane("event").value : ""; }
  function bindPane(name) {
    const area = pane(name);
    if (!area || area.dataset.editor) { return; }
    const language = name === "event" ? "json" : "yaml";
    editors[name] = window.AccrualEditor.create(area, { language, bundle: name === "bundle", onRun: runNow, eventText });
    area.addEventListener("input", () => { saveState(); });
  }
  function bindAll() { PANES.forEach(bindPane); }
  function setPane(name, text) {
    bindPane(name);
    if (editors[name]) { window.AccrualEditor.setText(editors[name], text); } else { pane(name).value = text; }
  }
  function problemsOf(name) {
    return [...document.querySelectorAll("#" + name + "-problems li[data-line]")].map((li) => ({
      line: Number(li.dataset.line), column: Number(li.dataset.column), code: li.dataset.code,
      severity: li.dataset.severity || "error", message: li.querySelector(".message")?.textContent || li.textContent.trim(),
    }));
  }
  function showProblems() {
    PANES.forEach((name) => { if (editors[name]) { window.AccrualEditor.showProblems(editors[name], problemsOf(name)); } });
  }
  function download() {
    const text = pane("bundle").value;
    const key = /^program:\s*(?:\{[^}]*\bkey:\s*([\w-]+)|\n(?:[ \t]+.*\n)*?[ \t]+key:\s*([\w-]+))/m.exec(text);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
    link.download = ((key && (key[1] || key[2])) || "bundle") + ".yaml";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }
  function wrapEvent() {
    try {
      const data = JSON.parse(pane("event").value);
      setPane("event", JSON.stringify({ event_timestamp: "2026-01-01T12:00:00Z", event_data: data }, null, 2));
    } catch (err) {
      document.getElementById("message").textContent = "The event pane is not JSON yet: " + err.message;
    }
  }

  document.addEventListener("htmx:afterSettle", (evt) => {
    bindAll();
    showProblems();
    const target = evt.detail.target;
    if (target && (target.id === "testcase" || target.id === "tests")) {
      target.scrollIntoView({ block: "nearest" });  // the answer appears where its button is
    }
    if (target && !["result", "testcase", "tests", "backtest", "backtest-run"].includes(target.id)) { saveState(); }
  });
  // Stored programs and backtests go through the API's own key check: the key travels as a header,
  // only to the playground's program and backtest routes, and never into the URL state.
  document.addEventListener("htmx:configRequest", (evt) => {
    const key = document.getElementById("api-key").value.trim();
    const path = evt.detail.path;
    if (key && (path.startsWith("/playground/programs") || path.startsWith("/playground/backtests"))) {
      evt.detail.headers["X-API-Key"] = key;
    }
  });
  document.addEventListener("htmx:responseError", (evt) => {
    const status = evt.detail.xhr.status;
    let text = "The server answered " + status + ".";
    try { text = JSON.parse(evt.detail.xhr.responseText).message || text; } catch (err) { /* not JSON */ }
    if (status === 401) { text = "Stored programs and backtests need a valid API key: " + text; }
    document.getElementById("message").textContent = text;
  });
  // Clicking a problem puts the cursor where it is and scrolls the editor to it.
  function jumpTo(li) {
    const name = li.closest("ul.problems").id.replace(/-problems$/, "");
    const view = editors[name];
    if (!view) { return; }
    window.AccrualEditor.reveal(view, Number(li.dataset.line), Number(li.dataset.column), true);
    view.focus();
  }
  // A trace row's span in the bundle: highlighted under the pointer, scrolled to on a click.
  function traceRow(evt) { return evt.target.closest && evt.target.closest("#result tr[data-source]"); }
  document.addEventListener("mouseover", (evt) => {
    const row = traceRow(evt);
    if (row && editors.bundle) { window.AccrualEditor.highlightSpan(editors.bundle, row.dataset.source, false); }
  });
  document.addEventListener("mouseout", (evt) => {
    if (traceRow(evt) && editors.bundle) { window.AccrualEditor.highlightSpan(editors.bundle, null, false); }
  });
  document.addEventListener("focusin", (evt) => {
    const row = traceRow(evt);
    if (row && editors.bundle) { window.AccrualEditor.highlightSpan(editors.bundle, row.dataset.source, true); }
  });
  document.addEventListener("keydown", (evt) => {
    if ((evt.ctrlKey || evt.metaKey) && evt.key === "Enter") { evt.preventDefault(); runNow(); }
  });
  document.addEventListener("click", (evt) => {
    if (evt.target.closest(".wrap-event")) { wrapEvent(); return; }
    const problem = evt.target.closest("ul.problems li[data-line]");
    if (problem) { jumpTo(problem); return; }
    const row = traceRow(evt);
    if (row && editors.bundle) { window.AccrualEditor.highlightSpan(editors.bundle, row.dataset.source, true); return; }
    if (evt.target.closest("#download")) { download(); return; }
    const button = evt.target.closest("[data-copy], #share");
    if (!button) { return; }
    const text = button.id === "share" ? location.href : document.querySelector(button.dataset.copy).value;
    const message = document.getElementById("message");
    const copied = () => { button.dataset.copied = "1"; message.textContent = "Copied."; };
    // The clipboard needs a secure context (https or localhost); elsewhere the link is shown.
    const shown = () => { message.textContent = button.id === "share" ? location.href : "Select the text and copy it."; };
    if (navigator.clipboard) { navigator.clipboard.writeText(text).then(copied, shown); } else { shown(); }
  });
  window.playground = { setPane, editors };
  document.addEventListener("DOMContentLoaded", async () => {
    bindAll();
    await restoreState();
    await saveState();
    if (pane("bundle").value.trim()) { runNow(); }
  });
})();
