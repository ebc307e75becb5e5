"""`accrual apply --server`: the apply target that speaks to a running server through its API."""

from __future__ import annotations

from typing import Any

import httpx

from engine.rules.plan import ApplyError


class HttpTarget:
    """A running server, through its API with an API key."""

    def __init__(self, base_url: str, api_key: str, *, client: Any = None) -> None:
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=30, headers={"X-API-Key": api_key})

    def _get_all(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        items, cursor = [], None
        while True:
            page = self._call("GET", path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})})
            items += page["data"]
            cursor = page["pagination"].get("next_cursor")
            if not cursor:
                return items

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ApplyError(f"{method} {path}: {exc}", code="apply_unreachable") from exc
        if response.status_code >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {"code": "http_error", "message": response.text[:200]}
            raise ApplyError(
                f"{method} {path}: {error.get('message')}",
                code=str(error.get("code", "http_error")),
                status=response.status_code,
            )
        return response.json()

    def programs(self) -> list[dict[str, Any]]:
        return self._get_all("/v1/programs", {"include_archived": "true"})

    def assets(self, program_id: str) -> list[dict[str, Any]]:
        return self._get_all("/v1/assets", {"program_id": program_id})

    def rules(self, program_id: str) -> list[dict[str, Any]]:
        return self._get_all("/v1/rules", {"program_id": program_id})

    def tiers(self, program_id: str) -> list[dict[str, Any]]:
        return self._get_all(f"/v1/programs/{program_id}/tiers", {})

    def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call(method, path, json=body)
