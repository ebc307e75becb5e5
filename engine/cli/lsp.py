"""`accrual lsp`: a language server for bundle files, over stdio, for any LSP editor.

Thin by design: diagnostics are the problems of `engine.rules.loader.load_bundle_text` (the
same reading, schema check, compilation and analysis as `accrual check`), completion and hover
come from `engine.rules.completion` (as in the playground), and go-to-definition from
`engine.rules.outline`. The server keeps no state of its own beyond the open documents pygls
tracks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import unquote, urlparse

import click
from lsprotocol import types
from pygls.lsp.server import LanguageServer

from engine.rules import completion, outline
from engine.rules.loader import Problem, load_bundle_text
from engine.rules.yaml_source import parse_yaml

SERVER_NAME = "accrual"
_WORD = re.compile(r"[\w.\-]*")
_ITEM_KINDS = {
    "key": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.EnumMember,
    "variable": types.CompletionItemKind.Variable,
    "field": types.CompletionItemKind.Field,
    "function": types.CompletionItemKind.Function,
    "method": types.CompletionItemKind.Method,
    "macro": types.CompletionItemKind.Snippet,
    "namespace": types.CompletionItemKind.Module,
    "keyword": types.CompletionItemKind.Keyword,
}
_SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning}


def create_server() -> LanguageServer:
    """The server with its features registered (a function, so each process makes its own)."""
    server = LanguageServer(SERVER_NAME, _version(), text_document_sync_kind=types.TextDocumentSyncKind.Full)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        _publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        _publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        _publish(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", " "]))
    def complete(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
        text = ls.workspace.get_text_document(params.text_document.uri).source
        line, character = params.position.line, params.position.character
        found = completion.complete(text, line, character, events=sample_events(text))
        edit_range = types.Range(types.Position(line, found.start), types.Position(line, character))
        return types.CompletionList(
            is_incomplete=False, items=[_completion_item(item, edit_range) for item in found.items]
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: LanguageServer, params: types.HoverParams) -> types.Hover | None:
        text = ls.workspace.get_text_document(params.text_document.uri).source
        line = params.position.line
        found = completion.hover(text, line, params.position.character)
        if found is None:
            return None
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=found.markdown),
            range=types.Range(types.Position(line, found.start), types.Position(line, found.end)),
        )

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: LanguageServer, params: types.DefinitionParams) -> types.Location | None:
        uri = params.text_document.uri
        document = parse_yaml(ls.workspace.get_text_document(uri).source)
        found = outline.definition_at(document, params.position.line, params.position.character)
        if found is None:
            return None
        start, end = types.Position(found.line, found.character), types.Position(found.line, found.end_character)
        return types.Location(uri=uri, range=types.Range(start, end))

    return server


def diagnostics(text: str, filename: str) -> list[types.Diagnostic]:
    """The problems `accrual check` reports for the text, as LSP diagnostics. A problem's range
    covers the word it points at."""
    lines = text.split("\n")
    return [_diagnostic(problem, lines) for problem in load_bundle_text(text, filename).problems]


def sample_events(text: str) -> list[Mapping[str, Any]]:
    """The event data of the file's test cases: what `event.` completion offers."""
    data = parse_yaml(text).data
    tests = data.get("tests") if isinstance(data, dict) else None
    cases = tests if isinstance(tests, list) else []
    return [case["event"] for case in cases if isinstance(case, dict) and isinstance(case.get("event"), dict)]


def _publish(ls: LanguageServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    found = diagnostics(document.source, _filename(uri))
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=found, version=document.version)
    )


def _diagnostic(problem: Problem, lines: list[str]) -> types.Diagnostic:
    line = max(problem.line - 1, 0)
    character = max(problem.column - 1, 0)
    text = lines[line] if line < len(lines) else ""
    word = _WORD.match(text, min(character, len(text)))
    end = max(word.end() if word else character, character + 1)
    return types.Diagnostic(
        range=types.Range(types.Position(line, character), types.Position(line, end)),
        message=problem.message,
        severity=_SEVERITIES.get(problem.severity, types.DiagnosticSeverity.Information),
        code=problem.code,
        source=SERVER_NAME,
    )


def _completion_item(item: completion.Item, edit_range: types.Range) -> types.CompletionItem:
    documentation = types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.documentation)
    return types.CompletionItem(
        label=item.label,
        kind=_ITEM_KINDS.get(item.kind, types.CompletionItemKind.Text),
        detail=item.detail or None,
        documentation=documentation if item.documentation else None,
        text_edit=types.TextEdit(range=edit_range, new_text=item.label),
    )


def _filename(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _version() -> str:
    try:
        return version("accrual")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


@click.command(name="lsp")
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the default and only transport).")
def lsp(stdio: bool) -> None:
    """Run the language server for bundle files (diagnostics, completion, hover, go-to-definition)."""
    create_server().start_io()
