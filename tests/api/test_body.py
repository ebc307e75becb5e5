"""Request bodies that do not decode: invalid UTF-8, nesting deeper than the decoder's stack,
integers no double can hold. Each was a 500 on the JSON endpoints; each is a 400 with the
envelope."""

from __future__ import annotations

import pytest

from api.body import BODY_DEPTH_MAX, check_value
from api.errors import BadRequest

HEADERS = {"Content-Type": "application/json"}


def post(api, path: str, content: bytes):
    return api.client.post(path, content=content, headers={**api.headers, **HEADERS})


def assert_envelope_400(response, reason: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == "bad_request"
    assert body["details"]["reason"] == reason


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/batch", "/v1/programs", "/v1/rules"])
@pytest.mark.parametrize("content", [b'{"program_id": "\xff\xfe"}', b'{"events": ["\xc3"]}', b"\xc3\x28"])
def test_invalid_utf8_is_400(api, path, content):
    assert_envelope_400(post(api, path, content), "invalid")


@pytest.mark.parametrize("depth", [BODY_DEPTH_MAX + 1, 800, 1000, 100_000])
def test_deep_nesting_is_400_at_any_depth(api, program, depth):
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"name": "x", "metadata": ' + b'{"a":' * depth + b"1" + b"}" * (depth + 1)
    assert_envelope_400(post(api, "/v1/programs", arrays), "too_deep")
    assert_envelope_400(post(api, "/v1/programs", objects), "too_deep")
    event = (
        b'{"program_id": "%s", "external_id": "u", "idempotency_key": "k", "event_timestamp": '
        b'"2026-01-01T00:00:00Z", "event_data": {"d": %s1%s}}' % (program.encode(), b"[" * depth, b"]" * depth)
    )
    assert_envelope_400(post(api, "/v1/events", event), "too_deep")


def test_a_body_as_deep_as_allowed_decodes(api, program):
    check_value(_nested(BODY_DEPTH_MAX))
    with pytest.raises(BadRequest):
        check_value(_nested(BODY_DEPTH_MAX + 1))
    # event_data may nest as deep as the engine allows (32)
    event = {"program_id": program, "external_id": "u", "idempotency_key": "deep",
             "event_timestamp": "2026-01-01T00:00:00Z", "event_data": {"d": _nested(31)}}  # fmt: skip
    assert api.post("/v1/events", event).status_code == 202


def _nested(depth: int) -> object:
    """`depth` containers, one inside the other."""
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_an_integer_no_double_can_hold_is_400_like_1e400(api, program):
    template = (
        b'{"program_id": "%s", "external_id": "u", "idempotency_key": "%s", "event_timestamp": '
        b'"2026-01-01T00:00:00Z", "event_data": {"type": "x", "n": %s}}'
    )
    for key, number in ((b"digits", b"9" * 401), (b"negative", b"-" + b"9" * 401), (b"exponent", b"1e400")):
        response = post(api, "/v1/events", template % (program.encode(), key, number))
        assert response.status_code == 400, response.text
        assert response.json()["message"].startswith("Number out of range")
    largest = post(api, "/v1/events", template % (program.encode(), b"largest", str(2**1023).encode()))
    assert largest.status_code == 202, largest.text


def test_check_value_names_where_the_number_is():
    with pytest.raises(BadRequest) as caught:
        check_value({"events": [{"event_data": {"n": [1, -(10**400)]}}]})
    assert caught.value.details["field"] == "events[0].event_data.n[1]"
    check_value({"n": [2**1023, -(2**1023), 1.5e308]})
