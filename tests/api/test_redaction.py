"""Secrets out of logged bodies: by member name, by the shape of keys and webhook secrets, in JSON
and in text cut at the size limit."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from api.redaction import _MAY_HOLD_SECRET, BODY_LIMIT, REDACTED, may_hold_secret, redact_body, redact_text


def test_secret_members_and_key_shaped_values_are_redacted_at_any_depth():
    body = {
        "url": "https://example.com/hook",
        "secret": "whsec_abcdefgh",
        "nested": [{"api_key": "anything", "Password": "hunter2", "note": "key sk_live12345678 here"}],
        "Authorization": "Bearer x",
        "idempotency_key": "order-1",
        "amount": 12.5,
    }
    kept = msgspec.json.decode(redact_body(msgspec.json.encode(body)))
    assert kept["secret"] == kept["Authorization"] == REDACTED
    assert kept["nested"][0]["api_key"] == kept["nested"][0]["Password"] == REDACTED
    assert kept["nested"][0]["note"] == f"key {REDACTED} here"
    assert (kept["url"], kept["idempotency_key"], kept["amount"]) == ("https://example.com/hook", "order-1", 12.5)


def test_text_and_truncated_json_are_redacted_too():
    assert redact_body(b"") is None
    assert redact_body(b"token=sk_abcdefghijkl; plain") == f"token={REDACTED}; plain"
    cut = b'{"name": "n", "client_secret": "abc\\"def", "data": "' + b"x" * BODY_LIMIT
    text = redact_body(cut, truncated=True)
    assert text is not None and len(text) <= BODY_LIMIT + len(REDACTED)  # what was kept, redacted
    assert f'"client_secret": "{REDACTED}"' in text and '"name": "n"' in text and "abc" not in text
    assert redact_text('{"secret": "whsec_unterminated') == f'{{"secret": "{REDACTED}"'


def test_bodies_that_are_not_utf8_are_kept_as_replaced_text():
    assert redact_body(b"\xff\xfe sk_abcdefghij") == f"\ufffd\ufffd {REDACTED}"


def test_a_body_with_nothing_secret_shaped_is_kept_as_it_came():
    body = b'{"program_id": "p1", "idempotency_key": "order-1",\n "event_data": {"amount": 4.5}}'
    assert redact_body(body) == body.decode()


def test_escapes_cannot_spell_a_secret_past_the_unparsed_path():
    # "\u0073ecret" is "secret" and "\nsk_..." holds a key after a newline: both are found once parsed
    kept = msgspec.json.decode(redact_body(b'{"\\u0073ecret": "x", "note": "\\nsk_abcdefghij"}'))
    assert kept == {"secret": REDACTED, "note": f"\n{REDACTED}"}


# Text made of the rules' words, their letters in any case, and letters outside ASCII that a
# case-blind match takes for ASCII ones (the Kelvin sign, the long s, the dotless i).
_PIECES = ["secret", "passwd", "password", "token", "api_key", "api-key", "apikey", "authorization", "authorisation"]
_PIECES += ["credential", "private_key", "signature", "cookie", "sk_", "whsec_", "\\u", "key", "s", "k", "i", " "]
_PIECES += ["\u212a", "\u017f", "\u0131", "\u00e9", '"', "_", "-"]


@given(st.lists(st.tuples(st.sampled_from(_PIECES) | st.text(max_size=3), st.booleans()), max_size=12))
@settings(max_examples=400, deadline=None)
def test_the_quick_screen_passes_every_text_either_rule_could_touch(pieces):
    text = "".join(piece.upper() if upper else piece for piece, upper in pieces)
    if _MAY_HOLD_SECRET.search(text):
        assert may_hold_secret(text), text
    if text and not may_hold_secret(text):
        assert redact_body(text.encode()) == text


def test_the_quick_screen_lets_plain_bodies_through_and_stops_secret_ones():
    assert not may_hold_secret('{"program_id": "p1", "idempotency_key": "k", "event_data": {"sku": "s"}}')
    assert may_hold_secret('{"note": "SK_LIVE123456"}') and may_hold_secret('{"\\u0073ecret": 1}')
    assert may_hold_secret('{"\u017fecret": "x"}')  # outside ASCII: the case-blind rule decides
    assert redact_body('{"\u017fecret": "x"}'.encode()) == '{"\u017fecret":"[REDACTED]"}'
