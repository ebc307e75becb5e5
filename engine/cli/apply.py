"""`accrual apply`: a bundle sent whole to `POST /v1/programs/apply` (`--server`), or applied on the
database through the same function (`--org`); either way one transaction (A87). The answer is the
plan, printed with each changed field's old and new value."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from engine.model.bundle import Bundle
from engine.rules.plan import ApplyError, FieldChange, Plan, Step


def bundle_body(bundle: Bundle) -> dict[str, Any]:
    """The request body: the bundle without its test cases (the server ignores them)."""
    return msgspec.to_builtins(msgspec.structs.replace(bundle, tests=[], automation_tests=[]))


class HttpApply:
    """A running server, through its API with an API key."""

    def __init__(self, base_url: str, api_key: str, *, client: Any = None) -> None:
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=60, headers={"X-API-Key": api_key})

    def apply(self, bundle: Bundle, *, dry_run: bool) -> dict[str, Any]:
        return self.call("POST", "/v1/programs/apply", bundle_body(bundle), params={"dry_run": str(dry_run).lower()})

    def call(
        self, method: str, path: str, body: dict[str, Any] | None, *, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One request; an error answer raises `ApplyError` with the server's code and problems."""
        try:
            response = self.client.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise ApplyError(f"{method} {path}: {exc}", code="apply_unreachable") from exc
        if response.status_code >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {"code": "http_error", "message": response.text[:200]}
            raise ApplyError(
                str(error.get("message")),
                code=str(error.get("code", "http_error")),
                status=response.status_code,
                problems=(error.get("details") or {}).get("problems"),
            )
        return response.json()


def plan_from_answer(answer: dict[str, Any]) -> Plan:
    """The `Plan` an apply answered (`ApplyOut` as JSON), for printing."""
    return Plan(
        program_key=answer["program_key"],
        program_id=answer.get("program_id"),
        steps=[
            Step(
                kind=step["kind"],
                resource=step["resource"],
                name=step["name"],
                method="",
                path="",
                body={},
                changes=[FieldChange(c["field"], c.get("old"), c.get("new")) for c in step.get("changes", [])],
                note=step.get("note"),
            )
            for step in answer.get("steps", [])
        ],
        problems=list(answer.get("problems", [])),
    )
