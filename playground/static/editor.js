// The playground's code editors: CodeMirror 6 (the vendored codemirror.bundle.js defines `CM`)
// over each pane's <textarea>, which stays the form field htmx posts. YAML and JSON highlighting,
// CEL highlighting inside expression fields, problems as inline diagnostics, completion and hover
// from the server (the same engine.rules.completion as `accrual lsp`), and a highlight for the
// trace row under the pointer.
(function () {
  "use strict";
  const CM = window.CM;
  const CEL_KEY = /^(\s*)((?:-\s+)*)(condition|amount|value|reference_id|id|external_id|participant_id)(\s*:\s*)(.*)$/;
  const CEL_TOKENS = new RegExp([
    /("(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?)/.source, // 1 strings
    /(\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?u?\b)/.source, // 2 numbers
    /(\b(?:true|false|null|in)\b)/.source, // 3 keywords
    /(\b(?:event|participant|recipient|program|now)\b)/.source, // 4 variables
    /([A-Za-z_]\w*)(?=\s*\()/.source, // 5 calls
    /(&&|\|\||==|!=|<=|>=|[<>!?:+\-*/%])/.source, // 6 operators
  ].join("|"), "g");
  const CEL_CLASSES = [null, "cel-string", "cel-number", "cel-keyword", "cel-variable", "cel-call", "cel-operator"];
  const KIND_TYPES = {
    key: "property", value: "enum", variable: "variable", field: "property", function: "function",
    method: "method", macro: "keyword", namespace: "namespace", keyword: "keyword",
  };

  // --- CEL inside YAML: the value of an expression key, and the lines indented under it.
  function celRanges(doc) {
    const ranges = [];
    let ownerIndent = -1;
    for (let n = 1; n <= doc.lines; n += 1) {
      const line = doc.line(n);
      const text = line.text;
      const indent = text.length - text.trimStart().length;
      if (ownerIndent >= 0) {
        if (!text.trim() || indent > ownerIndent) {
          if (text.trim()) { ranges.push([line.from + indent, line.to]); }
          continue;
        }
        ownerIndent = -1;
      }
      const match = CEL_KEY.exec(text);
      if (!match) { continue; }
      ownerIndent = match[1].length + match[2].length;
      const value = match[5];
      if (value && !/^[|>]/.test(value)) {
        ranges.push([line.to - value.length, line.to]);
      }
    }
    return ranges;
  }
  function celDecorations(view) {
    const builder = new CM.RangeSetBuilder();
    const { from: visibleFrom, to: visibleTo } = view.viewport;
    for (const [from, to] of celRanges(view.state.doc)) {
      if (to < visibleFrom || from > visibleTo) { continue; }
      builder.add(from, to, CM.Decoration.mark({ class: "cel" }));
    }
    const outer = builder.finish();
    const inner = new CM.RangeSetBuilder();
    for (const [from, to] of celRanges(view.state.doc)) {
      if (to < visibleFrom || from > visibleTo) { continue; }
      const text = view.state.doc.sliceString(from, to);
      CEL_TOKENS.lastIndex = 0;
      let token;
      while ((token = CEL_TOKENS.exec(text)) !== null) {
        if (!token[0]) { CEL_TOKENS.lastIndex += 1; continue; }
        const group = token.findIndex((part, i) => i > 0 && part !== undefined);
        inner.add(from + token.index, from + token.index + token[0].length, CM.Decoration.mark({ class: CEL_CLASSES[group] }));
      }
    }
    return [outer, inner.finish()];
  }
  const celHighlight = CM.ViewPlugin.fromClass(class {
    constructor(view) { [this.outer, this.inner] = celDecorations(view); }
    update(update) {
      if (update.docChanged || update.viewportChanged) { [this.outer, this.inner] = celDecorations(update.view); }
    }
  }, { provide: (plugin) => [
    CM.EditorView.decorations.of((view) => view.plugin(plugin)?.outer || CM.Decoration.none),
    CM.EditorView.decorations.of((view) => view.plugin(plugin)?.inner || CM.Decoration.none),
  ] });

  // --- the trace row under the pointer, highlighted in the bundle editor.
  const setSpan = CM.StateEffect.define();
  const spanField = CM.StateField.define({
    create() { return CM.Decoration.none; },
    update(value, tr) {
      value = value.map(tr.changes);
      for (const effect of tr.effects) {
        if (effect.is(setSpan)) {
          value = effect.value ? CM.Decoration.set([CM.Decoration.mark({ class: "trace-span" }).range(effect.value.from, effect.value.to)])
            : CM.Decoration.none;
        }
      }
      return value;
    },
    provide: (field) => CM.EditorView.decorations.from(field),
  });

  // --- completion and hover, answered by the server.
  function cursorForm(view, pos, extra) {
    const line = view.state.doc.lineAt(pos);
    const form = new URLSearchParams(extra);
    form.set("bundle", view.state.doc.toString());
    form.set("line", String(line.number - 1));
    form.set("character", String(pos - line.from));
    return { form, line };
  }
  async function post(path, form) {
    const response = await fetch(path, { method: "POST", body: form });
    return response.ok ? response.json() : null;
  }
  function completionSource(options) {
    return async (context) => {
      const before = context.matchBefore(/[\w.]*$/);
      const lineText = context.state.doc.lineAt(context.pos).text;
      if (!context.explicit && before && before.from === before.to && !/[:\s-]\s*$/.test(lineText)) { return null; }
      const { form, line } = cursorForm(context.view, context.pos, { event: options.eventText() });
      const answer = await post("/playground/complete", form);
      if (!answer || !answer.items.length) { return null; }
      return {
        from: line.from + answer.start,
        options: answer.items.map((item, i) => ({
          label: item.label, type: KIND_TYPES[item.kind] || "text", detail: item.detail,
          info: item.info || undefined, boost: -i / 1000,
        })),
        validFor: /^\w*$/,
      };
    };
  }
  function renderMarkdown(markdown) {
    const dom = document.createElement("div");
    dom.className = "hover-doc";
    markdown.split(/```(?:cel)?\n?/).forEach((part, i) => {
      if (!part.trim()) { return; }
      const element = document.createElement(i % 2 ? "pre" : "p");
      element.textContent = part.trim().replace(/`/g, i % 2 ? "`" : "");
      dom.appendChild(element);
    });
    return dom;
  }
  const hover = CM.hoverTooltip(async (view, pos) => {
    const { form, line } = cursorForm(view, pos, {});
    const answer = await post("/playground/hover", form);
    if (!answer || answer.markdown === undefined) { return null; }
    return {
      pos: line.from + answer.start, end: line.from + answer.end, above: true,
      create() { return { dom: renderMarkdown(answer.markdown) }; },
    };
  });

  // --- one editor over a textarea.
  function create(textarea, options) {
    const language = options.language === "json" ? CM.json() : CM.yaml();
    const extensions = [
      CM.lineNumbers(), CM.highlightActiveLineGutter(), CM.highlightSpecialChars(), CM.history(), CM.foldGutter(),
      CM.drawSelection(), CM.indentOnInput(), CM.bracketMatching(), CM.closeBrackets(), CM.highlightActiveLine(),
      CM.highlightSelectionMatches(), CM.search({ top: true }), CM.lintGutter(),
      CM.syntaxHighlighting(CM.defaultHighlightStyle, { fallback: true }), language,
      CM.keymap.of([
        { key: "Mod-Enter", run: () => { options.onRun(); return true; } },
        ...CM.closeBracketsKeymap, ...CM.defaultKeymap, ...CM.searchKeymap, ...CM.historyKeymap, ...CM.foldKeymap,
        ...CM.completionKeymap, ...CM.lintKeymap, CM.indentWithTab,
      ]),
      CM.EditorView.updateListener.of((update) => {
        if (!update.docChanged) { return; }
        textarea.value = update.state.doc.toString();
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }),
      CM.EditorView.contentAttributes.of({ "aria-label": textarea.id + " editor", "data-pane": textarea.id }),
    ];
    if (options.bundle) {
      extensions.push(celHighlight, spanField, hover, CM.autocompletion({ override: [completionSource(options)] }));
    } else {
      extensions.push(CM.autocompletion({ override: [] }));
    }
    const host = document.createElement("div");
    host.className = "cm-host";
    textarea.insertAdjacentElement("afterend", host);
    textarea.classList.add("cm-attached");
    textarea.dataset.editor = "1";
    return new CM.EditorView({ parent: host, state: CM.EditorState.create({ doc: textarea.value, extensions }) });
  }

  function offsetOf(doc, line, column) {
    const target = doc.line(Math.max(1, Math.min(line, doc.lines)));
    return target.from + Math.max(0, Math.min(column - 1, target.length));
  }
  function showProblems(view, problems) {
    const doc = view.state.doc;
    const diagnostics = problems.map((p) => {
      const from = offsetOf(doc, p.line, p.column);
      const rest = doc.sliceString(from, doc.lineAt(from).to);
      const word = /^[\w.\-]+/.exec(rest);
      const to = Math.min(from + Math.max(word ? word[0].length : 1, 1), doc.length);
      const severity = p.severity === "notice" ? "info" : p.severity;
      return { from, to: Math.max(to, from), severity, message: p.code + ": " + p.message, source: "accrual" };
    });
    view.dispatch(CM.setDiagnostics(view.state, diagnostics));
  }
  function reveal(view, line, column, select) {
    const pos = offsetOf(view.state.doc, line, column);
    view.dispatch({
      selection: select ? { anchor: pos, head: Math.min(pos + 1, view.state.doc.length) } : undefined,
      effects: CM.EditorView.scrollIntoView(pos, { y: "center" }),
    });
    view.dom.scrollIntoView({ block: "nearest" });
  }
  function highlightSpan(view, source, scroll) {
    if (!source) { view.dispatch({ effects: setSpan.of(null) }); return; }
    const [start, end] = source.split("-").map((part) => part.split(":").map(Number));
    const from = offsetOf(view.state.doc, start[0], start[1]);
    const to = Math.max(offsetOf(view.state.doc, end[0], end[1]), from + 1);
    const effects = [setSpan.of({ from, to: Math.min(to, view.state.doc.length) })];
    if (scroll) { effects.push(CM.EditorView.scrollIntoView(from, { y: "center" })); }
    view.dispatch({ effects });
  }
  function setText(view, text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  }

  window.AccrualEditor = { create, showProblems, reveal, highlightSpan, setText };
})();
