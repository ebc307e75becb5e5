"""Webhook events: what a state change reports, recorded in the transaction that made the change.

`publish(organisation_id, type, data)` writes one `webhook_message` (the envelope, whose id is the
same for every endpoint) and one PENDING `webhook_delivery` per ACTIVE endpoint subscribed to the
type, and wakes the sender for each delivery, all inside the caller's transaction: the webhook
exists if and only if the change it reports was committed. With no subscribed endpoint nothing is
written. The sender (`engine.webhooks.delivery`) signs and posts later, outside any transaction.

`event_messages(event, result)` turns one processed event into its webhook events:

    event.completed        always, for a COMPLETED event
    event.failed           for a FAILED event (with error_code and error_message)
    balance.credited       per applied CREDIT        balance.debited    per applied DEBIT
    balance.held           per applied HOLD          balance.released   per applied RELEASE
    participant.created    when processing created the participant (or recipient)
    balance.expired        per lot the event's receive time expired (the scheduler and direct
                           operations send it too, for the lots they expire: `expiry_data`)
    rule.errored           per rule whose condition failed (SKIPPED_ERROR) or ran out of budget
                           (SKIPPED_TIMEOUT) in a COMPLETED event; opt-in (`OPT_IN_TYPES`)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model.result import EvaluationResult, ResolvedAction
from engine.queue import enqueue_delivery
from engine.store import statements
from engine.store.db import new_id, utcnow
from engine.store.models import EventRecord, WebhookDelivery, WebhookEndpoint, WebhookMessage
from engine.store.shared_reads import remembered

API_VERSION = "2026-03-01"
EVENT_TYPES = (
    "balance.credited",
    "balance.debited",
    "balance.expired",
    "balance.held",
    "balance.released",
    "redemption.completed",
    "redemption.reversed",
    "transfer.completed",
    "event.completed",
    "event.failed",
    "participant.created",
    "participant.tier_changed",
    "program.funded",
    "program.burned",
    "rule.errored",
)
# Sent only to endpoints that name them exactly: `*` and `rule.*` do not cover them, so an
# existing endpoint is not flooded by a rule that fails on every event (A89).
OPT_IN_TYPES = frozenset({"rule.errored"})
ERRORED_STATUSES = frozenset({"SKIPPED_ERROR", "SKIPPED_TIMEOUT"})
BALANCE_TYPES = {
    "CREDIT": "balance.credited",
    "DEBIT": "balance.debited",
    "HOLD": "balance.held",
    "RELEASE": "balance.released",
}


def subscribed(enabled_events: list[str] | None, event_type: str) -> bool:
    """Whether an endpoint's `enabled_events` covers `event_type` (`["*"]` is every type).

    >>> subscribed(["balance.*"], "balance.held"), subscribed(["event.failed"], "event.completed")
    (True, False)
    >>> subscribed(["*"], "rule.errored"), subscribed(["rule.errored"], "rule.errored")
    (False, True)
    """
    if event_type in OPT_IN_TYPES:
        return event_type in (enabled_events or ())
    for pattern in enabled_events or ():
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def envelope(
    message_id: str, organisation_id: str, event_type: str, data: dict[str, Any], created_at: datetime
) -> dict[str, Any]:
    """The body every endpoint receives for one webhook event: Scrip's envelope."""
    return {
        "id": message_id,
        "type": event_type,
        "api_version": API_VERSION,
        "created_at": _iso(created_at),
        "organization_id": organisation_id,
        "data": data,
    }


def subscribers(organisation_id: str) -> list[WebhookEndpoint]:
    """The organisation's ACTIVE endpoints (one query; pass them to several `publish` calls)."""
    # A cached statement, read once per commit group: the worker asks this for every event it completes.
    return remembered(
        ("webhook endpoints", organisation_id),
        lambda: statements.fetch(
            WebhookEndpoint, "organisation_id = {p} AND status = 'ACTIVE' AND deleted_at IS NULL", [organisation_id]
        ),
    )


def publish(
    organisation_id: str,
    event_type: str,
    data: dict[str, Any],
    *,
    max_attempts: int = 8,
    now: datetime | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> WebhookMessage | None:
    """Record one webhook event and its deliveries in the current transaction; None if no endpoint
    of the organisation subscribes to `event_type`. `endpoints`: `subscribers(...)`, if at hand.

    >>> with write_transaction():
    ...     change_something()
    ...     publish(org_id, "participant.created", {"participant_id": pid, "external_id": "u1"})
    """
    now = now or utcnow()
    candidates = subscribers(organisation_id) if endpoints is None else endpoints
    targets = [endpoint for endpoint in candidates if subscribed(endpoint.enabled_events, event_type)]
    if not targets:
        return None
    message_id = new_id()
    message = WebhookMessage.create(
        id=message_id,
        organisation=organisation_id,
        type=event_type,
        payload=envelope(message_id, organisation_id, event_type, data, now),
        created_at=now,
    )
    for endpoint in targets:
        delivery = WebhookDelivery.create(
            endpoint=endpoint,
            message=message,
            event_type=event_type,
            status="PENDING",
            max_attempts=max_attempts,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        enqueue_delivery(delivery.id)
    return message


def event_data(event: EventRecord, *, status: str, processed_at: datetime | None = None) -> dict[str, Any]:
    """The `data` of event.completed / event.failed: the event as the API shows it, without rules."""
    data = {
        "id": event.id,
        "event_id": event.id,
        "program_id": event.program_id,
        "participant_id": event.participant_id,
        "external_id": event.external_id,
        "recipient_id": event.recipient_id,
        "idempotency_key": event.idempotency_key,
        "event_type": event.event_type,
        "event_timestamp": _iso(event.event_timestamp),
        "status": status,
        "attempts": event.attempts,
        "processed_at": _iso(processed_at) if processed_at else None,
    }
    return {key: value for key, value in data.items() if value is not None}


def event_messages(
    event: EventRecord, result: EvaluationResult, *, created: Sequence[Mapping[str, Any]] = ()
) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of every webhook event a COMPLETED event produces, in the order they happened.

    `created` lists participants that processing created (`{"participant_id", "external_id"}`).
    """
    messages: list[tuple[str, dict[str, Any]]] = []
    for participant in created:
        messages.append(("participant.created", {**participant, "program_id": event.program_id}))
    for action in result.actions:
        event_type = BALANCE_TYPES.get(action.type)
        if event_type is not None and action.status == "APPLIED":
            messages.append((event_type, balance_data(event, result, action)))
    messages.append(("event.completed", event_data(event, status="COMPLETED", processed_at=result.evaluated_at)))
    for outcome in result.rules:
        if outcome.status in ERRORED_STATUSES:
            messages.append(("rule.errored", rule_error_data(event, outcome)))
    return messages


def rule_error_data(event: EventRecord, outcome: Any) -> dict[str, Any]:
    """The `data` of rule.errored: which rule failed on which event, and why."""
    data = {
        "program_id": event.program_id,
        "event_id": event.id,
        "participant_id": event.participant_id,
        "external_id": event.external_id,
        "rule_id": outcome.rule_id,
        "rule": outcome.rule,
        "status": str(outcome.status),
        "error_code": outcome.error_code,
        "error_message": outcome.error,
    }
    return {key: value for key, value in data.items() if value is not None}


def balance_data(event: EventRecord, result: EvaluationResult, action: ResolvedAction) -> dict[str, Any]:
    """The `data` of a balance.* webhook event for one applied action of a processed event."""
    data: dict[str, Any] = {
        "program_id": event.program_id,
        "event_id": event.id,
        "rule": action.rule,
        "asset": action.asset,
        "amount": _decimal(action.amount),
        "bucket": action.bucket or ("HELD" if action.type in ("HOLD",) else "AVAILABLE"),
        "reference_id": action.reference_id,
        "description": action.description,
    }
    data.update(_target_ids(event, result, action))
    return {key: value for key, value in data.items() if value is not None}


def _target_ids(event: EventRecord, result: EvaluationResult, action: ResolvedAction) -> dict[str, Any]:
    target = action.target
    if target.type == "GROUP":
        return {"group_id": target.id}
    if target.type == "PROGRAM":
        return {"program_wallet": True}
    if target.role == "participant" and result.participant is not None:
        return {
            "participant_id": result.participant.id or event.participant_id,
            "external_id": result.participant.external_id or event.external_id,
        }
    if target.role == "recipient" and result.recipient is not None:
        return {
            "participant_id": result.recipient.id or event.recipient_id,
            "external_id": result.recipient.external_id or event.recipient_external_id,
        }
    return {"participant_id": target.id, "external_id": target.external_id}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def expiry_data(settlement: Any) -> dict[str, Any]:
    """The `data` of `balance.expired`: one lot's remaining value gone to breakage at its expiry.
    `settlement` is an `engine.store.ledger.movements.Settlement` of kind EXPIRED."""
    owner = "group_id" if settlement.entity.type == "GROUP" else "participant_id"
    data = {
        owner: settlement.entity.id,
        "program_id": settlement.program_id,
        "asset": settlement.asset.symbol,
        "asset_id": settlement.asset.id,
        "amount": _decimal(settlement.amount),
        "lot_id": settlement.lot_id,
        "journal_entry_id": settlement.entry_id,
    }
    return {key: value for key, value in data.items() if value is not None}


def tier_changed_data(move: Any) -> dict[str, Any]:
    """The `data` of `participant.tier_changed` (A134): one change of level, up, down, removed or
    lapsed, with the old and new level (null: none) and why. `move` is an
    `engine.store.tier_standing.TierMove`; a group's level names `group_id` in place of
    `participant_id` (A260, as a group's balance events do, A244)."""
    owner = "group_id" if getattr(move, "owner_type", "PARTICIPANT") == "GROUP" else "participant_id"
    data = {
        owner: move.participant_id,
        "program_id": move.program_id,
        "tier": move.tier,
        "old_level": move.old_level,
        "old_rank": move.old_rank,
        "new_level": move.new_level,
        "new_rank": move.new_rank,
        "direction": _direction(move.old_rank, move.new_rank),
        "reason": move.reason,
        "changed_at": _iso(move.at),
    }
    if move.event_id is not None:
        data["event_id"] = move.event_id
    return data


def _direction(old_rank: int | None, new_rank: int | None) -> str:
    if new_rank is None:
        return "REMOVED"
    if old_rank is None or new_rank > old_rank:
        return "UP"
    return "DOWN"
