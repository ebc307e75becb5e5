"""Webhook events of spending through the API, recorded in the transaction of the change:

    POST /v1/participants/{id}/redemptions(/items)   redemption.completed
    POST /v1/redemptions/{id}/reverse                redemption.reversed, and balance.credited (a refund)
    POST /v1/transfers                               transfer.completed

Lots a spending operation expired before it moved value are reported as `balance.expired`, as
the balance operations do (`api.webhook_events`). The store calls the hook inside its
transaction and never for an idempotent replay, so a rolled back change leaves no webhook and a
replay does not report twice.
"""

from __future__ import annotations

from typing import Any

import msgspec

from api.webhook_events import max_attempts
from engine.store.spending_results import Redemption, Reversal, SpendingApplied, SpendingHook
from engine.webhooks import messages

OPERATION_TYPES = {
    "REDEMPTION": "redemption.completed",
    "REVERSAL": "redemption.reversed",
    "TRANSFER": "transfer.completed",
}


def spending_publisher(organisation_id: str) -> SpendingHook:
    """An `on_applied` hook for `engine.store.redemptions` and `engine.store.transfers`."""

    def publish_applied(applied: SpendingApplied) -> None:
        attempts = max_attempts()
        for settlement in applied.settlements:
            if settlement.kind == "EXPIRED":
                messages.publish(
                    organisation_id, "balance.expired", messages.expiry_data(settlement), max_attempts=attempts
                )
        data = spending_data(applied)
        messages.publish(organisation_id, OPERATION_TYPES[applied.operation], data, max_attempts=attempts)
        if isinstance(applied.result, Reversal) and applied.participant is not None:
            messages.publish(organisation_id, "balance.credited", refund_data(applied), max_attempts=attempts)

    return publish_applied


def spending_data(applied: SpendingApplied) -> dict[str, Any]:
    """The operation's answer as the API gives it, with the participant's external id and the
    asset's symbol; a reversal carries the redemption after it."""
    data = msgspec.to_builtins(applied.result)
    data["asset"] = applied.asset.symbol
    if applied.participant is not None:
        key = "source_external_id" if applied.operation == "TRANSFER" else "external_id"
        data[key] = applied.participant.external_id
    return {key: value for key, value in data.items() if value is not None}


def refund_data(applied: SpendingApplied) -> dict[str, Any]:
    """`balance.credited` of a reversal, in the shape of `api.webhook_events.balance_data`."""
    reversal = applied.result
    assert isinstance(reversal, Reversal)
    redemption: Redemption | None = reversal.redemption
    person = applied.participant
    data = {
        "program_id": applied.program.id,
        "asset": applied.asset.symbol,
        "amount": format(reversal.amount, "f"),
        "bucket": "AVAILABLE",
        "reference_id": None if redemption is None else redemption.id,
        "description": reversal.reason,
        "participant_id": None if person is None else person.id,
        "external_id": None if person is None else person.external_id,
        "journal_entry_id": reversal.journal_entry_id,
    }
    return {key: value for key, value in data.items() if value is not None}
