"""Idempotent writes: an operation sent with an idempotency key is applied once; the same key
with the same request answers the stored result again, with another request 409
`idempotency_conflict` (D12). The key is scoped to the program and the operation.

    result = idempotent(org_id, program_id, "HOLD", key, request, perform, BalanceOpResult)
    result, replayed = run_once(org_id, program_id, "REDEMPTION", key, request, perform, Redemption)

`perform` runs in the transaction that records its answer, so the change and its answer commit
together; a concurrent request with the same key that commits first is answered with its result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from engine.store import lookups
from engine.store.db import unique_insert, write_transaction
from engine.store.errors import Conflict, Duplicate
from engine.store.models import IdempotencyRecord


def idempotent(
    organisation_id: str,
    program_id: str,
    operation: str,
    key: str | None,
    request: dict,
    perform: Callable[[], msgspec.Struct],
    result_type: type,
) -> Any:
    """Run `perform` in one transaction, recording its answer under `key` (when given)."""
    return run_once(organisation_id, program_id, operation, key, request, perform, result_type)[0]


def run_once(
    organisation_id: str,
    program_id: str,
    operation: str,
    key: str | None,
    request: dict,
    perform: Callable[[], msgspec.Struct],
    result_type: type,
) -> tuple[Any, bool]:
    """`idempotent`, also saying whether the answer is a replay (the API answers 201, then 200)."""
    request_hash = hashlib.sha256(msgspec.json.encode(request, order="sorted")).hexdigest()
    for attempt in (1, 2):
        try:
            with write_transaction():
                if key is not None:
                    lookups.program(organisation_id, program_id)
                    stored = stored_answer(program_id, operation, key, request_hash, result_type)
                    if stored is not None:
                        return stored, True
                result = perform()
                if key is not None:
                    with unique_insert():
                        IdempotencyRecord.create(
                            organisation=organisation_id,
                            program=program_id,
                            operation=operation,
                            idempotency_key=key,
                            request_hash=request_hash,
                            response=msgspec.to_builtins(result),
                        )
                return result, False
        except Duplicate as exc:
            if key is None or attempt == 2:
                raise Conflict(
                    f"{operation.lower()} conflicted with a concurrent write; retry", code="conflict"
                ) from exc
            # A concurrent request with the same key committed first: answer with its result.
    raise AssertionError("unreachable")  # pragma: no cover


def stored_answer(program_id, operation, key, request_hash, result_type):
    record = IdempotencyRecord.get_or_none(
        (IdempotencyRecord.program == program_id)
        & (IdempotencyRecord.operation == operation)
        & (IdempotencyRecord.idempotency_key == key)
    )
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise Conflict(f"idempotency key {key!r} was used with a different request", code="idempotency_conflict")
    return msgspec.convert(record.response, result_type, strict=False)
