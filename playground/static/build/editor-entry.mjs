// The parts of CodeMirror 6 the playground uses, bundled into one file that defines the global
// `CM` (see build.mjs). The playground's own editor code is in ../editor.js, outside the bundle.
export { Compartment, EditorSelection, EditorState, RangeSetBuilder, StateEffect, StateField } from "@codemirror/state";
export {
  Decoration, EditorView, ViewPlugin, drawSelection, highlightActiveLine, highlightActiveLineGutter,
  highlightSpecialChars, hoverTooltip, keymap, lineNumbers, showTooltip,
} from "@codemirror/view";
export { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
export {
  HighlightStyle, bracketMatching, defaultHighlightStyle, foldGutter, foldKeymap, indentOnInput, syntaxHighlighting,
  syntaxTree,
} from "@codemirror/language";
export { highlightSelectionMatches, openSearchPanel, search, searchKeymap } from "@codemirror/search";
export {
  autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, completionStatus, currentCompletions,
  startCompletion,
} from "@codemirror/autocomplete";
export { diagnosticCount, forEachDiagnostic, lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
export { yaml } from "@codemirror/lang-yaml";
export { json } from "@codemirror/lang-json";
export { tags } from "@lezer/highlight";
