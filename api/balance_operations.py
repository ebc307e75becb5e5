"""A direct balance operation of the API (adjust, hold, release, forfeit) run on a participant's
or a group's balance: the request's body as the store function's arguments, the caller's key
recorded, and the operation's webhook events published in its transaction (none for forfeit,
A43). One body for the participant routes and the group routes.

    return perform(operations.hold, principal, group_id, data, owner_type=GROUP)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from api.auth import Principal
from api.schemas.participants import Adjust, BalanceOperation, balance_request
from api.webhook_events import publisher
from engine.store.models import PARTICIPANT

R = TypeVar("R")


def perform(
    operation: Callable[..., R],
    principal: Principal,
    owner_id: str,
    data: Adjust | BalanceOperation,
    *,
    owner_type: str = PARTICIPANT,
    publishes: bool = True,
) -> R:
    """`operation` (an `engine.store.operations` function) on the owner's balance with `data`;
    `publishes`: the operation has webhook events to send."""
    hooks: dict[str, Any] = {"on_applied": publisher(principal.organisation_id)} if publishes else {}
    return operation(
        principal.organisation_id,
        owner_id,
        owner_type=owner_type,
        api_key_id=principal.api_key_id,
        **hooks,
        **balance_request(data),
    )
