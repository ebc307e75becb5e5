// The playground's small client side: the page state in the URL, error marks in the editors,
// copy buttons. Evaluation always happens on the server (POST /playground/run through htmx).
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
        if (typeof state[name] === "string") { pane(name).value = state[name]; }
      }
      return true;
    } catch (err) {
      document.getElementById("message").textContent = "The link's state could not be read: " + err;
      return false;
    }
  }

  // --- error marks: a <pre> behind each textarea mirrors its text with the problem lines marked.
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function drawMarks(name) {
    const marks = document.getElementById(name + "-marks");
    const area = pane(name);
    if (!marks || !area) { return; }
    const problems = new Map();
    document.querySelectorAll("#" + name + "-problems li[data-line]").forEach((li) => {
      const line = Number(li.dataset.line);
      if (!problems.has(line)) { problems.set(line, { column: Number(li.dataset.column), li: li }); }
    });
    const lines = area.value.split("\n");
    marks.innerHTML = lines.map((text, i) => {
      const problem = problems.get(i + 1);
      if (!problem) { return escapeHtml(text); }
      const col = Math.max(0, Math.min(problem.column - 1, text.length));
      const at = text.slice(col, col + 1) || " ";
      const title = escapeHtml(problem.li.textContent.trim()).replace(/"/g, "&quot;");
      return '<mark class="error-line" data-line="' + (i + 1) + '" title="' + title + '">' +
        escapeHtml(text.slice(0, col)) + '<mark class="error-column" data-column="' + (col + 1) + '">' +
        escapeHtml(at) + "</mark>" + escapeHtml(text.slice(col + 1)) + "</mark>";
    }).join("\n") + "\n";
    marks.scrollTop = area.scrollTop;
    marks.scrollLeft = area.scrollLeft;
  }
  function bindPane(name) {
    const area = pane(name);
    if (!area || area.dataset.bound) { return; }
    area.dataset.bound = "1";
    area.addEventListener("scroll", () => {
      const marks = document.getElementById(name + "-marks");
      marks.scrollTop = area.scrollTop;
      marks.scrollLeft = area.scrollLeft;
    });
    area.addEventListener("input", () => {
      document.getElementById(name + "-marks").textContent = "";
      saveState();
    });
  }
  function bindAll() { PANES.forEach(bindPane); }

  document.addEventListener("htmx:afterSettle", (evt) => {
    bindAll();
    PANES.forEach(drawMarks);
    if (evt.detail.target && evt.detail.target.id !== "result") { saveState(); }
  });
  // Stored programs go through the API's own key check: the key travels as a header, only to the
  // playground's program routes, and never into the URL state.
  document.addEventListener("htmx:configRequest", (evt) => {
    const key = document.getElementById("api-key").value.trim();
    if (key && evt.detail.path.startsWith("/playground/programs")) {
      evt.detail.headers["X-API-Key"] = key;
    }
  });
  document.addEventListener("htmx:responseError", (evt) => {
    const status = evt.detail.xhr.status;
    let text = "The server answered " + status + ".";
    try { text = JSON.parse(evt.detail.xhr.responseText).message || text; } catch (err) { /* not JSON */ }
    if (status === 401) { text = "Stored programs need a valid API key: " + text; }
    document.getElementById("message").textContent = text;
  });
  // Clicking a problem puts the cursor where it is.
  function jumpTo(li) {
    const name = li.closest("ul.problems").id.replace(/-problems$/, "");
    const area = pane(name);
    const lines = area.value.split("\n");
    const line = Math.min(Number(li.dataset.line), lines.length);
    let offset = 0;
    for (let i = 0; i < line - 1; i += 1) { offset += lines[i].length + 1; }
    offset += Math.min(Number(li.dataset.column) - 1, lines[line - 1].length);
    area.focus();
    area.setSelectionRange(offset, offset + 1);
  }
  document.addEventListener("click", (evt) => {
    const problem = evt.target.closest("ul.problems li[data-line]");
    if (problem) { jumpTo(problem); return; }
    const button = evt.target.closest("[data-copy], #share");
    if (!button) { return; }
    const text = button.id === "share" ? location.href : document.querySelector(button.dataset.copy).value;
    const message = document.getElementById("message");
    const copied = () => { button.dataset.copied = "1"; message.textContent = "Copied."; };
    // The clipboard needs a secure context (https or localhost); elsewhere the link is shown.
    const shown = () => { message.textContent = button.id === "share" ? location.href : "Select the text and copy it."; };
    if (navigator.clipboard) { navigator.clipboard.writeText(text).then(copied, shown); } else { shown(); }
  });
  document.addEventListener("DOMContentLoaded", async () => {
    bindAll();
    await restoreState();
    await saveState();
    if (pane("bundle").value.trim()) { htmx.trigger(document.body, "run"); }
  });
})();
