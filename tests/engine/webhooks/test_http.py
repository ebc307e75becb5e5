"""Webhook HTTP: URL rules, the SSRF guard at connect time, and attempt classification against a
real HTTP server on loopback."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.webhooks import http


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.server.received.append((self.path, dict(self.headers), self.rfile.read(length)))
        if self.path == "/slow":
            time.sleep(1.0)
        status = {"/fail": 500, "/redirect": 302}.get(self.path, 200)
        self.send_response(status)
        if status == 302:
            self.send_header("location", "http://127.0.0.1:1/elsewhere")
        body = b"x" * 10_000 if self.path == "/fail" else b"ok"
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the timeout test's client hangs up before the slow answer: expected


@pytest.fixture
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.received = []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def base(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "https://localhost/x",
        "https://printer.local/x",
        "https://db.internal/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://[::ffff:192.168.0.1]/x",
        "https://intranet/x",
        "https://user:pw@hooks.example.com/x",
        "https://hooks.example.com:99999/x",
        "ftp://hooks.example.com/x",
        "",
    ],
)
def test_non_public_or_non_https_urls_are_refused(url):
    with pytest.raises(http.WebhookUrlError) as info:
        http.validate_endpoint_url(url)
    assert info.value.code == "invalid_webhook_url"


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/x?a=1", "https://8.8.8.8/hook", "https://[2001:4860::8888]/"]
)
def test_public_https_urls_pass(url):
    assert http.validate_endpoint_url(url) == url


def test_development_flag_allows_http_and_loopback():
    assert http.validate_endpoint_url("http://127.0.0.1:8080/x", allow_private=True)
    with pytest.raises(http.WebhookUrlError):
        http.validate_endpoint_url("ftp://127.0.0.1/x", allow_private=True)


def test_guard_refuses_to_connect_to_loopback_even_if_the_url_slipped_through(server):
    client = http.build_client(timeout_s=2, allow_private=False)
    outcome = http.send_attempt(client, base(server) + "/ok", {}, b"{}")
    assert outcome.error_code == "destination_blocked" and not outcome.ok
    assert server.received == []


def test_delivered_on_2xx_with_headers_and_body(server):
    client = http.build_client(timeout_s=2, allow_private=True)
    outcome = http.send_attempt(client, base(server) + "/ok", {"webhook-id": "m1"}, b'{"a":1}')
    assert outcome.ok and outcome.status == 200 and outcome.body == "ok"
    ((path, headers, body),) = server.received
    assert path == "/ok" and headers["webhook-id"] == "m1" and body == b'{"a":1}'


def test_non_2xx_is_an_http_error_with_a_truncated_body(server):
    outcome = http.send_attempt(http.build_client(timeout_s=2, allow_private=True), base(server) + "/fail", {}, b"{}")
    assert not outcome.ok and outcome.status == 500 and outcome.error_code == "consumer_http_error"
    assert len(outcome.body) == http.RESPONSE_BODY_MAX_BYTES


def test_redirects_are_not_followed(server):
    outcome = http.send_attempt(
        http.build_client(timeout_s=2, allow_private=True), base(server) + "/redirect", {}, b"{}"
    )
    assert outcome.status == 302 and not outcome.ok
    assert len(server.received) == 1


def test_a_slow_consumer_times_out(server):
    outcome = http.send_attempt(http.build_client(timeout_s=0.2, allow_private=True), base(server) + "/slow", {}, b"{}")
    assert outcome.error_code == "consumer_response_timeout" and not outcome.ok


def test_a_closed_port_is_a_connection_error():
    outcome = http.send_attempt(http.build_client(timeout_s=1, allow_private=True), "http://127.0.0.1:1/x", {}, b"{}")
    assert outcome.error_code == "consumer_connection_error"
