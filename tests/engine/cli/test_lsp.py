"""`accrual lsp` spoken to over stdio, as an editor does: initialize, open a bundle, read the
published diagnostics, ask for completion, hover and a definition."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from queue import Empty, Queue
from typing import Any

import pytest

from tests.conftest import ROOT

ANSWER_S = 20.0  # a cold start imports the engine; generous for a loaded machine

BUNDLE = """\
program: {key: cafe, name: Cafe}
assets:
  - symbol: PTS
    name: Points
    scale: 0
rules:
  - name: coffee points
    condition: >-
      event.type == "coffee" && evnt.size > 1.0
    actions:
      - type: CREDIT
        asset_id: PTS
        amount: 10
tests:
  - name: a coffee
    event: {type: coffee, size: 2, store: north}
    expect:
      matched: [coffee points]
"""


class Client:
    """The editor's side of the protocol: Content-Length framed JSON-RPC over a pipe."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine", "lsp", "--stdio"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: Queue[dict[str, Any]] = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            headers: dict[str, str] = {}
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            if not headers:
                return
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        answer = self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)
        assert "error" not in answer, answer
        return answer["result"]

    def wait(self, wanted) -> dict[str, Any]:
        while True:
            try:
                message = self.messages.get(timeout=ANSWER_S)
            except Empty:
                raise AssertionError("the language server did not answer") from None
            if wanted(message):
                return message

    def close(self) -> None:
        try:
            self.request("shutdown", {})
            self.notify("exit", {})
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    stream.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    lsp = Client()
    root = tmp_path_factory.mktemp("workspace")
    result = lsp.request(
        "initialize", {"processId": None, "rootUri": root.as_uri(), "capabilities": {}, "clientInfo": {"name": "test"}}
    )
    lsp.capabilities = result["capabilities"]
    lsp.notify("initialized", {})
    lsp.uri = (root / "cafe.yaml").as_uri()
    yield lsp
    lsp.close()


def _open(client, text: str, uri: str | None = None) -> list[dict[str, Any]]:
    uri = uri or client.uri
    client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}
    )
    message = client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)
    return message["params"]["diagnostics"]


def _position(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    before = text[: text.index(needle) + offset]
    return {"line": before.count("\n"), "character": len(before) - (before.rfind("\n") + 1)}


def test_the_server_announces_what_it_offers(client):
    capabilities = client.capabilities
    assert capabilities["completionProvider"]["triggerCharacters"] == [".", " "]
    assert capabilities["hoverProvider"] and capabilities["definitionProvider"]


def test_diagnostics_are_the_problems_of_accrual_check_at_their_word(client):
    [diagnostic] = _open(client, BUNDLE)
    assert diagnostic["code"] == "DSL_UNKNOWN_NAME" and diagnostic["severity"] == 1
    assert "did you mean 'event'" in diagnostic["message"]
    start = _position(BUNDLE, "evnt.size")
    assert diagnostic["range"]["start"] == start
    assert diagnostic["range"]["end"] == {"line": start["line"], "character": start["character"] + len("evnt.size")}


def test_a_fixed_document_clears_its_diagnostics_and_warnings_are_warnings(client):
    fixed = BUNDLE.replace("evnt.size", "event.size")
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": client.uri, "version": 2}, "contentChanges": [{"text": fixed}]},
    )
    message = client.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    assert message["params"]["diagnostics"] == []
    unused = fixed.replace("assets:\n", "assets:\n  - {symbol: GEMS, name: Gems, scale: 0}\n")
    [warning] = _open(client, unused, uri=client.uri.replace("cafe", "unused"))
    assert warning["code"] == "unused_asset" and warning["severity"] == 2


def test_completion_offers_the_fields_of_the_test_cases_events(client):
    text = BUNDLE.replace("evnt.size > 1.0", "event.st")
    _open(client, text, uri=client.uri.replace("cafe", "typing"))
    position = _position(text, "event.st", len("event.st"))
    result = client.request(
        "textDocument/completion", {"textDocument": {"uri": client.uri.replace("cafe", "typing")}, "position": position}
    )
    labels = [item["label"] for item in result["items"]]
    assert labels[:3] == ["type", "size", "store"]
    store = next(item for item in result["items"] if item["label"] == "store")
    assert store["textEdit"]["range"]["start"]["character"] == position["character"] - 2  # replaces "st"


def test_completion_offers_bundle_keys_from_the_schema(client):
    text = BUNDLE.replace("        amount: 10\n", "        amount: 10\n        buck\n")
    uri = client.uri.replace("cafe", "keys")
    _open(client, text, uri=uri)
    result = client.request(
        "textDocument/completion", {"textDocument": {"uri": uri}, "position": _position(text, "buck", 4)}
    )
    labels = {item["label"] for item in result["items"]}
    assert {"bucket", "reference_id", "expires_at"} <= labels and "asset_id" not in labels  # already written


def test_hover_shows_a_functions_signature_and_documentation(client):
    text = BUNDLE.replace("evnt.size > 1.0", 'get(event, "size", 0.0) > 1.0')
    uri = client.uri.replace("cafe", "hover")
    _open(client, text, uri=uri)
    result = client.request(
        "textDocument/hover", {"textDocument": {"uri": uri}, "position": _position(text, "get(", 1)}
    )
    assert result["contents"]["kind"] == "markdown"
    assert "get(map, key, default) -> value" in result["contents"]["value"]


def test_definition_goes_from_a_reference_to_the_declaration(client):
    position = _position(BUNDLE, "asset_id: PTS", len("asset_id: P"))
    result = client.request("textDocument/definition", {"textDocument": {"uri": client.uri}, "position": position})
    assert result["range"]["start"] == _position(BUNDLE, "PTS")
    rule = client.request(
        "textDocument/definition",
        {"textDocument": {"uri": client.uri}, "position": _position(BUNDLE, "[coffee points]", 3)},
    )
    assert rule["range"]["start"] == _position(BUNDLE, "coffee points")


def test_nothing_to_define_answers_null(client):
    result = client.request(
        "textDocument/definition", {"textDocument": {"uri": client.uri}, "position": {"line": 0, "character": 0}}
    )
    assert result is None


def test_the_command_is_part_of_accrual():
    from click.testing import CliRunner

    from engine.cli.main import main

    assert "language server" in CliRunner().invoke(main, ["lsp", "--help"]).output
