"""The load generator speaks enough HTTP/1.1 to a real server: keep-alive, order, bodies."""

from __future__ import annotations

import asyncio
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest

from engine.cli.bench.loadgen import LoadError, post_json_all


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = msgspec.json.encode({"got": msgspec.json.decode(body), "key": self.headers.get("X-Key")})
        status = 202 if self.path == "/ok" else 200
        self.send_response(status)
        if self.path != "/no-length":
            self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        if self.path == "/no-length":
            self.close_connection = True

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_posts_every_body_and_returns_responses_in_order(server):
    bodies = [{"n": n} for n in range(40)]
    responses = asyncio.run(post_json_all(server, "/ok", bodies, headers={"X-Key": "k1"}, concurrency=4))
    assert [r.status_code for r in responses] == [202] * 40
    assert [r.json() for r in responses] == [{"got": {"n": n}, "key": "k1"} for n in range(40)]


def test_a_response_without_length_is_an_error_not_a_hang(server):
    with pytest.raises(LoadError, match="without Content-Length"):
        asyncio.run(post_json_all(server, "/no-length", [{"n": 1}], concurrency=1))
