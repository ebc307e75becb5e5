"""Sending one webhook request safely: URL rules, an SSRF guard at connect time, one bounded attempt.

D27: endpoint URLs must be https and public unless the server runs with the development flag
`ACCRUAL_WEBHOOKS_ALLOW_PRIVATE=1`. Checking the URL when the endpoint is saved is not enough
(DNS can change, or answer differently the second time), so the client's network backend resolves
the host itself, refuses unless every address is public, and connects to the address it checked.
TLS still verifies the certificate against the host name. Redirects are never followed.

Outcome classification (`error_code` of a delivery attempt, stable):

    consumer_response_timeout   no complete response within the per-attempt timeout
    consumer_connection_error   refused, reset, TLS failure, unresolvable host
    destination_blocked         the host resolves to a private, loopback or reserved address
    consumer_http_error         a response that is not 2xx (the status is recorded)
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from engine.errors import EngineError

RESPONSE_BODY_MAX_BYTES = 4096
BLOCKED_HOST_SUFFIXES = (".local", ".internal", ".localhost")


class WebhookUrlError(EngineError):
    """An endpoint URL breaks the rules of D27 (`invalid_webhook_url`)."""

    code = "invalid_webhook_url"


class DestinationBlocked(httpcore.ConnectError):
    """Raised by the guarded backend: the host resolved to a non-public address."""


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt produced. `ok` means a 2xx response."""

    ok: bool
    status: int | None = None
    body: str | None = None  # at most RESPONSE_BODY_MAX_BYTES of the response
    error: str | None = None
    error_code: str | None = None


def validate_endpoint_url(url: str, *, allow_private: bool = False) -> str:
    """Return `url` if it may be an endpoint, else raise `WebhookUrlError`.

    >>> validate_endpoint_url("https://hooks.example.com/accrual")
    'https://hooks.example.com/accrual'
    """
    if not isinstance(url, str) or len(url) > 2048:
        raise WebhookUrlError("url must be a string of at most 2048 characters")
    url = url.strip()
    if any(character.isspace() or not character.isprintable() for character in url):
        raise WebhookUrlError("webhook URLs must not contain spaces or control characters", url=url)
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise WebhookUrlError("webhook URLs must use https", url=url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise WebhookUrlError("webhook URL has no host", url=url)
    if parts.username or parts.password:
        raise WebhookUrlError("webhook URLs must not carry credentials", url=url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise WebhookUrlError("webhook URL has an invalid port", url=url) from exc
    if allow_private:
        return url
    if host == "localhost" or host.endswith(BLOCKED_HOST_SUFFIXES):
        raise WebhookUrlError(f"webhook host {host!r} is not public", url=url)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise WebhookUrlError(f"webhook host {host!r} is not a public domain name", url=url) from None
        return url
    if not is_public_address(address):
        raise WebhookUrlError(f"webhook address {host} is not public", url=url)
    return url


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for globally routable unicast addresses. An IPv6 address that carries an IPv4 address
    (mapped, translated, compatible, NAT64, 6to4) is judged by the IPv4 address it reaches:
    `64:ff9b::a9fe:a9fe` and `2002:a9fe:a9fe::1` are 169.254.169.254. NAT64's local-use prefix
    reaches whatever the local translator serves: never public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL_USE:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215
# Prefixes whose last 32 bits are an IPv4 address: NAT64's well-known prefix (RFC 6052),
# IPv4-translated (RFC 2765) and the deprecated IPv4-compatible addresses (which include :: and ::1).
_IPV4_IN_LAST_32_BITS = tuple(ipaddress.ip_network(net) for net in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96"))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in network for network in _IPV4_IN_LAST_32_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class GuardedBackend(httpcore.SyncBackend):
    """A network backend that connects only to addresses it has checked are public."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = [str(info[4][0]) for info in infos]
        blocked = [a for a in addresses if not is_public_address(ipaddress.ip_address(a.split("%")[0]))]
        if blocked or not addresses:
            raise DestinationBlocked(f"{host} resolves to a non-public address ({', '.join(blocked)})")
        return super().connect_tcp(addresses[0], port, timeout, local_address, socket_options)


def build_client(*, timeout_s: float, allow_private: bool) -> httpx.Client:
    """The worker's HTTP client: no redirects, no proxies from the environment, the SSRF guard
    unless `allow_private`, and `timeout_s` for each of connect, write, read and pool wait."""
    transport = httpx.HTTPTransport(trust_env=False, retries=0)
    if not allow_private:
        transport._pool = httpcore.ConnectionPool(  # swap in the guarded backend
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(),
        )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": "Accrual-Webhooks/1"},
    )


def send_attempt(client: httpx.Client, url: str, headers: dict[str, str], body: bytes) -> AttemptOutcome:
    """POST `body` once and classify what happened; never raises for network trouble."""
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        return AttemptOutcome(False, error=f"timeout: {exc}", error_code="consumer_response_timeout")
    except httpx.ConnectError as exc:
        code = "destination_blocked" if _caused_by_block(exc) else "consumer_connection_error"
        return AttemptOutcome(False, error=str(exc) or type(exc).__name__, error_code=code)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return AttemptOutcome(False, error=str(exc) or type(exc).__name__, error_code="consumer_connection_error")
    text = response.content[:RESPONSE_BODY_MAX_BYTES].decode("utf-8", errors="replace")
    if 200 <= response.status_code < 300:
        return AttemptOutcome(True, status=response.status_code, body=text)
    return AttemptOutcome(
        False,
        status=response.status_code,
        body=text,
        error=f"HTTP {response.status_code}",
        error_code="consumer_http_error",
    )


def _caused_by_block(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DestinationBlocked) or "non-public address" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
