"""The application as a whole: OpenAPI contract, docs UI, error envelope for any bad input, and
schemathesis against the app's own OpenAPI document on a real server."""

from __future__ import annotations

import msgspec
import peewee
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.app import ApiSettings, create_app
from api.ratelimit import RateLimitConfig
from tests.api.conftest import create_program


def test_openapi_document_matches_snapshot(database, snapshot_json):
    app = create_app(database, settings=ApiSettings(queue_url="sql"))
    assert app.openapi_schema.to_schema() == snapshot_json


def test_openapi_is_served_with_docs_ui(client):
    document = client.get("/schema/openapi.json")
    assert document.status_code == 200
    body = document.json()
    assert body["openapi"].startswith("3.1")
    assert "/v1/events" in body["paths"] and "apiKey" in body["components"]["securitySchemes"]
    docs = client.get("/schema")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]


def test_unknown_route_and_method_use_the_envelope(api):
    missing = api.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = api.client.delete("/v1/events", headers=api.headers)
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


@pytest.fixture
def limited_client(database):
    from litestar.testing import TestClient

    limits = ApiSettings(queue_url="sql", key_cache_ttl_s=0, rate_limit=RateLimitConfig(rate_per_s=0.001, burst=2))
    with TestClient(app=create_app(database, settings=limits)) as test_client:
        yield test_client


def test_rate_limit_headers_and_429(limited_client):
    from api.keys import create_key

    headers = {"X-API-Key": create_key("acme")}
    first = limited_client.get("/v1/programs", headers=headers)
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "2" and first.headers["X-RateLimit-Remaining"] == "1"
    assert int(first.headers["X-RateLimit-Reset"]) > 0
    assert limited_client.get("/v1/programs", headers=headers).status_code == 200
    refused = limited_client.get("/v1/programs", headers=headers)
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    # Another organisation has its own bucket; health is never limited.
    assert limited_client.get("/v1/programs", headers={"X-API-Key": create_key("globex")}).status_code == 200
    assert limited_client.get("/v1/health").status_code == 200


def test_repeated_query_parameters_and_malformed_id_filters_are_400(api):
    repeated = api.client.get("/v1/events?status=PENDING&status=FAILED", headers=api.headers)
    assert repeated.status_code == 400 and repeated.json()["details"]["field"] == "status"
    malformed = api.get("/v1/journal-entries", program_id="false")
    assert malformed.status_code == 400 and malformed.json()["details"]["field"] == "program_id"


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("ACCRUAL_RATE_LIMIT", "10/30")
    monkeypatch.setenv("ACCRUAL_MAX_BODY_BYTES", "2048")
    settings_ = ApiSettings.from_env()
    assert settings_.rate_limit == RateLimitConfig(rate_per_s=10, burst=30) and settings_.max_body_bytes == 2048
    monkeypatch.delenv("ACCRUAL_RATE_LIMIT")
    assert ApiSettings.from_env().rate_limit is None


def _document() -> dict:
    """The app's OpenAPI document, built without a database (the app only keeps a handle to it)."""
    return create_app(peewee.SqliteDatabase(":memory:"), configure_queue_for_app=False).openapi_schema.to_schema()


live_schema = schemathesis.openapi.from_dict(_document())


@pytest.mark.slow
@live_schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_the_schema(case, live_server):
    # Excluded on purpose: positive_data_acceptance, because rules the schema cannot state (exactly
    # one of external_id / participant_id, a cursor's integrity, an amount's scale) are 400s for
    # schema-valid bodies; allow_header_conformance, because Litestar's automatic OPTIONS lists only
    # the first handler of a path that has several.
    case.call_and_validate(
        base_url=live_server.url,
        headers={"X-API-Key": live_server.key},
        excluded_checks=[checks.positive_data_acceptance, checks.allow_header_conformance],
    )


def test_served_app_mounts_the_playground_whose_forms_are_not_json(database, monkeypatch, database_url):
    from litestar.testing import TestClient

    from engine.cli.server import app_from_env

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("QUEUE_URL", "sql")
    with TestClient(app=app_from_env()) as test_client:
        page = test_client.get("/playground")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        form = test_client.post(
            "/playground/run", data={"bundle": "program: {key: a, name: A}", "event": "{}", "participant": "tags: []"}
        )
        assert form.status_code == 200 and "text/html" in form.headers["content-type"]


def _lenient_moments(info, path: str, seen: set) -> list[str]:
    """Paths of `datetime` fields in a request body's type: the framework would convert a Unix
    number into them."""
    if isinstance(info, msgspec.inspect.DateTimeType):
        return [path]
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return []
        seen = seen | {info.cls}
        return [found for f in info.fields for found in _lenient_moments(f.type, f"{path}.{f.encode_name}", seen)]
    inner = {
        msgspec.inspect.UnionType: lambda: info.types,
        msgspec.inspect.ListType: lambda: (info.item_type,),
        msgspec.inspect.DictType: lambda: (info.value_type,),
        msgspec.inspect.Metadata: lambda: (info.type,),
    }.get(type(info))
    return [found for item in (inner() if inner else ()) for found in _lenient_moments(item, path, seen)]


def test_no_request_body_reads_a_moment_leniently(database):
    app = create_app(database, settings=ApiSettings(queue_url="sql"))
    lenient = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None:
                info = msgspec.inspect.type_info(data.annotation)
                lenient += [f"{route.path}: {path}" for path in _lenient_moments(info, "", set())]
    assert lenient == []


@pytest.mark.parametrize("value", [1700000000, "1700000000", "2026-01-01T00:00:00"])
def test_a_moment_in_a_body_is_rfc3339_text_and_a_number_is_a_400_naming_the_field(api, value):
    program = create_program(api, points_scale=0)["id"]
    person = api.post("/v1/participants", {"external_id": "ann"}).json()["id"]
    rule = {"program_id": program, "name": "r", "condition": "true", "actions": [{"type": "TAG", "tag": "t"}]}
    created = api.post("/v1/rules", rule).json()
    hold = {"program_id": program, "asset_id": "PTS", "amount": "1", "description": "d"}
    refused = {
        "active_from": api.post("/v1/rules", {**rule, "name": "r2", "active_from": value}),
        "active_to": api.patch(f"/v1/rules/{created['id']}", {"active_to": value}),
        "event_timestamp": api.post(f"/v1/rules/{created['id']}/simulate", {"event": {}, "event_timestamp": value}),
        "earned_from": api.post(f"/v1/participants/{person}/balances/hold", {**hold, "earned_from": value}),
        "expires_at": api.put(
            f"/v1/participants/{person}/state/tiers/status?program_id={program}", {"level": "gold", "expires_at": value}
        ),
        "from": api.post(f"/v1/programs/{program}/backtests", {"from": value}),
    }
    for field, response in refused.items():
        assert response.status_code == 400, (field, response.text)
        body = response.json()
        assert (body["code"], body["details"].get("field")) == ("bad_request", field), (field, body)
