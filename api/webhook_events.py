"""Webhook events of changes made through the API, recorded in the transaction of the change.

The worker reports what processing an event changed (`engine.webhooks.messages.event_messages`);
the API reports its own direct changes with the same `publish` and the same payload shapes, so a
consumer sees one shape per type whoever made the change:

    POST /v1/participants (created, not updated)     participant.created
    POST /v1/participants/{id}/balances/adjust       balance.credited (CREDIT) / balance.debited (DEBIT)
    POST /v1/participants/{id}/balances/hold         balance.held
    POST /v1/participants/{id}/balances/release      balance.released
    POST /v1/groups/{id}/balances/adjust, hold, release   the same types, with `group_id`
    POST /v1/programs/{id}/assets/{asset}/fund       program.funded
    POST /v1/programs/{id}/assets/{asset}/burn       program.burned
    PUT, DELETE /v1/participants/{id}/state/tiers/{key}   participant.tier_changed (a change of level)

Forfeit reports nothing: no webhook type is sent for it (A43). The store operations call
`publisher(...)` through their
`on_applied` hook, inside their transaction and never for an idempotent replay, so a change that
rolls back leaves no webhook and a replay does not report twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.errors import EngineError
from engine.queue import current_queue
from engine.settings import WorkerSettings
from engine.store.operations import Applied, AppliedHook
from engine.store.tier_standing import TierMove
from engine.webhooks import messages

OPERATION_TYPES = {
    "CREDIT": "balance.credited",
    "DEBIT": "balance.debited",
    "HOLD": "balance.held",
    "RELEASE": "balance.released",
    "FUND": "program.funded",
    "BURN": "program.burned",
}


def publisher(organisation_id: str) -> AppliedHook:
    """An `on_applied` hook that publishes the webhook event of a direct operation.

    >>> operations.hold(org_id, participant_id, program_id=pid, asset_id="PTS", amount="30",
    ...                 description="order", on_applied=publisher(org_id))
    """

    def publish_applied(applied: Applied) -> None:
        for settlement in applied.settlements:  # lots the operation expired before it moved value
            if settlement.kind == "EXPIRED":
                messages.publish(
                    organisation_id, "balance.expired", messages.expiry_data(settlement), max_attempts=max_attempts()
                )
        event_type = OPERATION_TYPES.get(applied.operation)
        if event_type is None:  # FORFEIT: not a webhook event
            return
        owned = applied.participant is not None or applied.group is not None
        data = balance_data(applied) if owned else wallet_data(applied)
        messages.publish(organisation_id, event_type, data, max_attempts=max_attempts())

    return publish_applied


def publish_participant_created(
    organisation_id: str, participant_id: str, external_id: str, program_id: str | None
) -> None:
    """`participant.created` for a participant the upsert created; call inside its transaction.

    >>> with write_transaction():
    ...     out, created = upsert_participant(principal, data)
    ...     if created:
    ...         publish_participant_created(org_id, out.id, out.external_id, data.program_id)
    """
    data = {"participant_id": participant_id, "external_id": external_id, "program_id": program_id}
    messages.publish(organisation_id, "participant.created", _present(data), max_attempts=max_attempts())


def publish_tier_changed(organisation_id: str, move: TierMove) -> None:
    """`participant.tier_changed` for a level the API set or removed; call inside its transaction."""
    messages.publish(
        organisation_id, "participant.tier_changed", messages.tier_changed_data(move), max_attempts=max_attempts()
    )


def balance_data(applied: Applied) -> dict[str, Any]:
    """The `data` of a balance.* event: the worker's shape (`messages.balance_data`) without the
    event and rule, which a direct operation has none of. A group's change names `group_id`
    where a participant's names `participant_id` and `external_id`."""
    person = applied.participant
    data = {
        "program_id": applied.program.id,
        "asset": applied.asset.symbol,
        "amount": _decimal(applied.amount),
        "bucket": applied.bucket,
        "reference_id": applied.reference_id,
        "description": applied.description,
        "participant_id": person.id if person is not None else None,
        "external_id": person.external_id if person is not None else None,
        "group_id": applied.group.id if applied.group is not None else None,
    }
    return _present(data)


def wallet_data(applied: Applied) -> dict[str, Any]:
    """The `data` of program.funded / program.burned: the movement and the wallet after it."""
    data = {
        "program_id": applied.program.id,
        "asset": applied.asset.symbol,
        "amount": _decimal(applied.amount),
        "description": applied.description,
        "journal_entry_id": applied.result.journal_entry_id,
        "available": _decimal(getattr(applied.result, "available", None)),
        "program_wallet": True,
    }
    return _present(data)


def max_attempts() -> int:
    """The delivery budget the worker gives its own webhooks (1 + `ACCRUAL_WEBHOOK_RETRY_DELAYS`)."""
    try:
        return current_queue().settings.webhook_max_attempts
    except EngineError:  # no queue configured in this process: read the environment
        return WorkerSettings.from_env().webhook_max_attempts


def _present(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
