"""Standard Webhooks signatures: known vector, round trip, and every way a check must fail."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from engine.webhooks import signing

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_signature_is_hmac_sha256_of_id_timestamp_body():
    body = b'{"type":"event.completed"}'
    expected = hmac.new(b"k" * 32, b"msg_1.1700000000." + body, hashlib.sha256).digest()
    assert signing.sign(SECRET, "msg_1", 1700000000, body) == "v1," + base64.b64encode(expected).decode()


def test_signed_headers_verify():
    headers = signing.signed_headers(SECRET, "msg_1", b"{}", now_s=1700000000)
    assert headers["webhook-id"] == "msg_1" and headers["webhook-timestamp"] == "1700000000"
    signing.verify(SECRET, headers, b"{}", now_s=1700000100)


def test_new_secrets_are_distinct_and_usable():
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second and first.startswith("whsec_")
    assert len(signing.secret_key(first)) == 32


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"body": b"{ }"}, "webhook_signature_invalid"),
        ({"secret": "whsec_" + base64.b64encode(b"x" * 32).decode()}, "webhook_signature_invalid"),
        ({"now_s": 1700000000 + 301}, "webhook_timestamp_stale"),
        ({"drop": "webhook-signature"}, "webhook_signature_invalid"),
        ({"set": ("webhook-timestamp", "soon")}, "webhook_signature_invalid"),
        ({"set": ("webhook-id", "msg_2")}, "webhook_signature_invalid"),
    ],
)
def test_verify_rejects(change, code):
    headers = signing.signed_headers(SECRET, "msg_1", b"{}", now_s=1700000000)
    if "drop" in change:
        del headers[change["drop"]]
    if "set" in change:
        headers[change["set"][0]] = change["set"][1]
    with pytest.raises(signing.SignatureError) as info:
        signing.verify(
            change.get("secret", SECRET), headers, change.get("body", b"{}"), now_s=change.get("now_s", 1700000000)
        )
    assert info.value.code == code


def test_any_of_several_signatures_may_match():
    headers = signing.signed_headers(SECRET, "msg_1", b"{}", now_s=1700000000)
    real, other = headers["webhook-signature"], "v1,bm90IGl0"
    for several in (f"{other} {real}", f"{real} {other}"):
        signing.verify(SECRET, {**headers, "webhook-signature": several}, b"{}", now_s=1700000000)  # no error
    with pytest.raises(signing.SignatureError) as info:  # ... and only because one of them matches
        signing.verify(SECRET, {**headers, "webhook-signature": other}, b"{}", now_s=1700000000)
    assert info.value.code == "webhook_signature_invalid"


@pytest.mark.parametrize("secret", ["sk_abc", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()])
def test_bad_secrets_are_coded_errors(secret):
    with pytest.raises(signing.SignatureError) as info:
        signing.sign(secret, "m", 1, b"")
    assert info.value.code == "webhook_secret_invalid"
