"""Secrets taken out of request and response bodies before a request log keeps them (A189).

    >>> redact_body(b'{"url": "https://x", "secret": "whsec_abc"}')
    '{"url":"https://x","secret":"[REDACTED]"}'

A JSON body is walked: the value of any member whose name says it holds a secret (`secret`,
`password`, `token`, `api_key`, `authorization`, ...) is replaced whole, and any text that looks
like an API key (`sk_...`) or a webhook secret (`whsec_...`) is replaced wherever it appears. A
body that is not JSON, or was cut at the size limit, is kept as text with the same two rules
applied to its `"name": "value"` pairs and to the key-shaped words in it.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

REDACTED = "[REDACTED]"
BODY_LIMIT = 16 * 1024  # bytes of a body a log keeps

SECRET_NAME = re.compile(
    r"secret|passw(or)?d|token|api[_-]?key|authori[sz]ation|credential|private[_-]?key|signature|cookie", re.I
)
SECRET_VALUE = re.compile(r"\b(?:sk|whsec)_[A-Za-z0-9+/=_-]{6,}")
# What any secret the two rules find must contain somewhere in a body's text (`\\u`: an escape
# could spell a name or value); a body with none of it is kept as it came, unparsed.
_MAY_HOLD_SECRET = re.compile(SECRET_NAME.pattern + r"|sk_|whsec_|\\u", re.I)
# A word of every alternative above, for ASCII text once lower-cased: a dozen substring searches
# cost a tenth of the case-blind regex, which is left for text outside ASCII (where `re.I` also
# matches letters such as the Kelvin sign that `lower()` does not turn into ASCII).
_SECRET_HINTS = (
    *("secret", "passw", "token", "api", "authori", "credential", "private", "signature", "cookie"),
    *("sk_", "whsec_", "\\u"),
)
# `"name": "value"` in text that could not be parsed (a body cut at the limit), name secret-looking.
_TEXT_PAIR = re.compile(r'("(?P<name>[^"\\]{1,64})"\s*:\s*)"(?:[^"\\]|\\.)*"?')


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: REDACTED if SECRET_NAME.search(key) else _walk(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item) for item in value]
    if isinstance(value, str):
        return SECRET_VALUE.sub(REDACTED, value)
    return value


def _text_pair(match: re.Match[str]) -> str:
    if SECRET_NAME.search(match.group("name")):
        return f'{match.group(1)}"{REDACTED}"'
    return match.group(0)


def may_hold_secret(text: str) -> bool:
    """False when neither rule can find anything in `text`: it names no secret and holds no
    key-shaped value nor a `\\u` escape (which could spell either)."""
    if text.isascii():
        lowered = text.lower()
        return any(map(lowered.__contains__, _SECRET_HINTS))
    return _MAY_HOLD_SECRET.search(text) is not None


def redact_text(text: str) -> str:
    return SECRET_VALUE.sub(REDACTED, _TEXT_PAIR.sub(_text_pair, text))


def redact_body(body: bytes, *, truncated: bool = False) -> str | None:
    """The body as the log keeps it: None when empty, else redacted JSON or text."""
    if not body:
        return None
    text = body[:BODY_LIMIT].decode("utf-8", errors="replace")
    if not may_hold_secret(text):
        return text  # most bodies: nothing to redact, so no parse and no walk
    if not truncated:
        try:
            return msgspec.json.encode(_walk(msgspec.json.decode(body))).decode()
        except (msgspec.DecodeError, UnicodeDecodeError):
            pass
    return redact_text(text)
