"""Webhook HTTP: URL rules, the SSRF guard at connect time, and attempt classification against a
real HTTP server on loopback."""

from __future__ import annotations

import ipaddress
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
        # IPv6 addresses that carry 169.254.169.254: NAT64, 6to4, IPv4-translated and -compatible
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:a9fe:a9fe::1]/",
        "https://[::ffff:0:a9fe:a9fe]/",
        "https://[::a9fe:a9fe]/",
        "https://[64:ff9b:1::808:808]/",  # NAT64 local use: whatever the local translator serves
        # what a header or a log line could be smuggled in with
        "https://hooks.example.com/x\r\nX-Injected: 1",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\x00",
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


@pytest.mark.parametrize(
    ("address", "public"),
    [("64:ff9b::a9fe:a9fe", False), ("64:ff9b::808:808", True), ("2002:a9fe:a9fe::1", False),
     ("2002:808:808::1", True), ("::ffff:10.0.0.1", False), ("2606:4700::1111", True)],
)  # fmt: skip
def test_the_connect_time_guard_judges_the_ipv4_an_ipv6_address_carries(address, public):
    # the guard resolves the host and calls the same judge on every address it would connect to
    assert http.is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize("host", ["64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1"])
def test_the_connect_time_guard_refuses_ipv4_carried_in_ipv6(host):
    with pytest.raises(http.DestinationBlocked):
        http.GuardedBackend().connect_tcp(host, 443, timeout=1)


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
