"""API-key authentication (D23) and the per-organisation rate limit (A49).

Keys look like `sk_<43 url-safe characters>` and are stored only as SHA-256 hashes (a key has 256
bits of entropy, so a fast hash is enough). A request sends its key as `X-API-Key: sk_...` or
`Authorization: Bearer sk_...`; the middleware resolves it to a `Principal` (the organisation and
the key's id) and every query of the request is scoped to that organisation.

Lookups run on a worker thread (peewee is synchronous) and are cached for `key_cache_ttl_s`
seconds (`ApiSettings`), so a revoked key stops working within that time (default 5 s, A48) on
every running server.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable

import msgspec
from litestar import Request
from litestar.concurrency import sync_to_thread
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TooManyRequests, Unauthorized
from api.ratelimit import RateLimiter

KEY_PREFIX = "sk_"
PUBLIC = "public"  # handler opt key: no authentication (health, schema, playground)


class Principal(msgspec.Struct, kw_only=True, frozen=True):
    """Who is calling. Example: `Principal(organisation_id="org_1", api_key_id="key_1")`."""

    organisation_id: str
    api_key_id: str


def generate_key() -> str:
    """A fresh API key. Example: `generate_key()` -> `"sk_Vq3...Zk"` (46 characters)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The stored form of a key. Example: `hash_key("sk_x")` -> 64 hex digits."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    return None


KeyLookup = Callable[[str], Principal | None]  # key hash -> principal, or None if unknown/revoked


class KeyCache:
    """A small TTL cache in front of a `KeyLookup`; misses are cached too (briefly) so a flood of
    bad keys does not become a flood of queries."""

    def __init__(self, lookup: KeyLookup, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lookup, self.ttl_s, self.clock = lookup, ttl_s, clock
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, key_hash: str) -> tuple[bool, Principal | None]:
        with self._lock:
            entry = self._entries.get(key_hash)
        if entry is not None and self.clock() - entry[0] < self.ttl_s:
            return True, entry[1]
        return False, None

    def resolve(self, key_hash: str) -> Principal | None:
        principal = self.lookup(key_hash)
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key_hash] = (self.clock(), principal)
        return principal


class ApiKeyMiddleware(ASGIMiddleware):
    """Authenticates every route not marked `opt={"public": True}` and applies the rate limit."""

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = PUBLIC

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        """The OpenAPI document and the docs UI are public."""
        return scope["path"] == "/schema" or scope["path"].startswith("/schema/")

    def __init__(self, cache: KeyCache, limiter: RateLimiter | None) -> None:
        self.cache, self.limiter = cache, limiter

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # Only HTTP scopes reach here (`scopes`). CORS preflight and Allow discovery carry no credentials.
        if scope["type"] == ScopeType.HTTP and scope["method"] == "OPTIONS":
            await next_app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        key = key_from_headers(headers.get("authorization"), headers.get("x-api-key"))
        if not key or not key.startswith(KEY_PREFIX):
            raise Unauthorized("Missing or invalid credentials")
        key_hash = hash_key(key)
        hit, principal = self.cache.get(key_hash)
        if not hit:
            principal = await sync_to_thread(self.cache.resolve, key_hash)
        if principal is None:
            raise Unauthorized("invalid or revoked API key")
        scope["auth"] = principal
        if self.limiter is None:
            await next_app(scope, receive, send)
            return
        decision = self.limiter.take(principal.organisation_id)
        if not decision.allowed:
            raise TooManyRequests(
                "rate limit exceeded", headers=decision.headers(), details={"retry_after": decision.retry_after_s}
            )
        extra = [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def provide_principal(request: Request) -> Principal:
    """The caller of an authenticated route (a Litestar dependency)."""
    principal = request.scope.get("auth")
    if not isinstance(principal, Principal):
        raise Unauthorized("Missing or invalid credentials")
    return principal
