"""Standard Webhooks signatures (D27).

Each endpoint has a secret `whsec_<base64 key>`. A request carries three headers:

    webhook-id          the webhook event's id (the same on every retry and resend: dedupe on it)
    webhook-timestamp   unix seconds when this attempt was signed
    webhook-signature   "v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>"

A receiver recomputes the HMAC over the raw body and compares in constant time; `verify` does
exactly that and is what the tests (and a Python receiver) use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from engine.errors import EngineError

SECRET_PREFIX = "whsec_"
SECRET_KEY_BYTES = 32
DEFAULT_TOLERANCE_S = 300


class SignatureError(EngineError):
    """A secret or a signature is not valid (`webhook_secret_invalid`, `webhook_signature_invalid`)."""

    code = "webhook_signature_invalid"


def new_secret() -> str:
    """A fresh endpoint secret.

    >>> new_secret().startswith("whsec_")
    True
    """
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise SignatureError("a webhook secret starts with whsec_", code="webhook_secret_invalid")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError as exc:
        raise SignatureError("the webhook secret is not base64", code="webhook_secret_invalid") from exc
    if len(key) < 16:
        raise SignatureError("the webhook secret key is shorter than 16 bytes", code="webhook_secret_invalid")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one request.

    >>> sign("whsec_" + "A" * 44, "evt_1", 1700000000, b"{}")[:3]
    'v1,'
    """
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, body: bytes, *, now_s: float | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers plus the content type, signed now (or at `now_s`)."""
    timestamp = int(time.time() if now_s is None else now_s)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> None:
    """Raise `SignatureError` unless `headers` carry a valid, fresh signature of `body`.

    Several space-separated signatures are accepted (any one may match), as the scheme allows.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    raw_signatures = lowered.get("webhook-signature")
    if not (message_id and raw_timestamp and raw_signatures):
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(raw_timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    now = time.time() if now_s is None else now_s
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError("webhook-timestamp is outside the tolerance", code="webhook_timestamp_stale")
    expected = sign(secret, message_id, timestamp, body)
    for candidate in raw_signatures.split():
        if hmac.compare_digest(candidate, expected):
            return
    raise SignatureError("no signature matches")
