"""The working copy of the state one event changes (D14): later rules see what earlier rules did,
and a failed event leaves the caller's state untouched because only copies are changed.

    >>> working = WorkingState.start(participant, None, ProgramState(), {}, now)
    >>> working.add_tag("participant", "VIP", rule="welcome")   # stored lower-cased, recorded
    >>> working.participant.tags
    ['vip']

Every change of a tag, counter, attribute or tier is recorded as a `StateChange` in order. The
group the event names (A246) is a working copy too: actions whose `GROUP` target is that group
change it (role "group"), so later rules and test cases see the group after the event (A255).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from engine.errors import EngineError
from engine.evaluator.bindings import entity_binding, group_binding, is_counter_expired, program_binding
from engine.evaluator.holdings import Holdings
from engine.limits import check_tag_count
from engine.model.result import BudgetUse, ResolvedTarget, StateChange
from engine.model.state import (
    ZERO,
    Balance,
    BudgetState,
    CounterState,
    EntityState,
    GroupState,
    ProgramState,
    TierState,
)

ROLES = ("participant", "recipient")


def decimal_text(value: Decimal) -> str:
    """A decimal as plain text without exponent: Decimal("1E+1") -> "10"."""
    return format(value, "f")


def copy_entity(state: EntityState) -> EntityState:
    # CounterState and TierState are replaced, never changed in place; balances are changed.
    return EntityState(
        id=state.id,
        external_id=state.external_id,
        status=state.status,
        tags=sorted({tag.lower() for tag in state.tags}),
        counters=dict(state.counters),
        attributes=dict(state.attributes),
        tiers=dict(state.tiers),
        balances={symbol: _copy_balance(balance) for symbol, balance in state.balances.items()},
        holds={symbol: dict(held) for symbol, held in state.holds.items()},
        lots={symbol: [msgspec.structs.replace(lot) for lot in lots] for symbol, lots in state.lots.items()},
    )


def copy_program(state: ProgramState) -> ProgramState:
    return ProgramState(
        tags=sorted({tag.lower() for tag in state.tags}),
        counters=dict(state.counters),
        attributes=dict(state.attributes),
        wallet={symbol: _copy_balance(balance) for symbol, balance in state.wallet.items()},
    )


def copy_group(state: GroupState) -> GroupState:
    balances = state.balances
    return GroupState(
        id=state.id,
        name=state.name,
        status=state.status,
        tags=sorted({tag.lower() for tag in state.tags}),
        counters=dict(state.counters),
        attributes=dict(state.attributes),
        tiers=dict(state.tiers),
        balances=None if balances is None else {symbol: _copy_balance(b) for symbol, b in balances.items()},
        holds={symbol: dict(held) for symbol, held in state.holds.items()},
        lots={symbol: [msgspec.structs.replace(lot) for lot in lots] for symbol, lots in state.lots.items()},
    )


def _copy_balance(balance: Balance) -> Balance:
    return Balance(available=balance.available, held=balance.held, deferred=balance.deferred)


class WorkingState:
    """Copies of the participant, recipient and program states plus what this event recorded."""

    def __init__(self, participant, recipient, program, budgets, now: datetime, as_of: datetime | None = None) -> None:
        self.participant: EntityState | None = participant
        self.recipient: EntityState | None = recipient
        self.program: ProgramState = program
        self.group: GroupState | None = None  # the group the event names (A246), a working copy
        self.consumed: dict[tuple[str, str], Decimal] = budgets
        self.now = now
        self.changes: list[StateChange] = []
        self.participant_consumed: dict[tuple[str, str], Decimal] = {}
        self.budget_uses: dict[tuple[str, str, str], Decimal] = {}  # (rule, asset, per) -> amount
        self.tiers_set: set[tuple[str, str]] = set()  # (role, tier key) touched by SET_TIER
        self.stale: set[str] = set()  # roles whose CEL binding must be rebuilt
        self.as_of = as_of or now  # the receive time: when credits are earned and lots judged (D16)
        self.holdings = Holdings(self, {}, as_of=self.as_of)

    @classmethod
    def start(
        cls,
        participant: EntityState | None,
        recipient: EntityState | None,
        program: ProgramState,
        budgets: Mapping[tuple[str, str], BudgetState],
        now: datetime,
        participant_budgets: Mapping[tuple[str, str], BudgetState] | None = None,
        *,
        as_of: datetime | None = None,
        lot_orders: Mapping[str, str] | None = None,
        group: GroupState | None = None,
    ) -> WorkingState:
        """Copies of the given states, counters reset and lots settled as of the event's time;
        `lot_orders` names the LOT assets (symbol -> spending order), `group` is the group the
        event names."""
        working = cls(
            copy_entity(participant) if participant is not None else None,
            copy_entity(recipient) if recipient is not None else None,
            copy_program(program),
            {key: budget.consumed for key, budget in budgets.items()},
            now,
            as_of,
        )
        working.participant_consumed = {key: budget.consumed for key, budget in (participant_budgets or {}).items()}
        working.group = copy_group(group) if group is not None else None
        for role in ("participant", "recipient", "program", "group"):
            working._reset_expired_counters(role)
        working.holdings = Holdings(working, lot_orders or {}, as_of=working.as_of)
        working.holdings.settle()
        working.stale.clear()
        return working

    # --- targets and bindings --------------------------------------------------------------------

    def person(self, role: str) -> EntityState | None:
        """The event's participant, or its recipient (None for an event without one)."""
        return self.participant if role == "participant" else self.recipient

    def named(self, role: str) -> EntityState:
        """The participant or recipient a resolved role names; actions resolve to the recipient
        only when the event has one. A program's own event has no participant: an action that
        needs one fails it with `participant_required` (A220)."""
        entity = self.person(role)
        if entity is None:
            code = "participant_required" if role == "participant" else "unknown_participant"
            raise EngineError(f"the event has no {role}", code=code)
        return entity

    def owner(self, role: str) -> EntityState | ProgramState | GroupState:
        """Whose tags, counters and attributes a resolved role's actions change."""
        if role == "program":
            return self.program
        if role == "group":
            return self.named_group()
        return self.named(role)

    def named_group(self) -> GroupState:
        """The group the event names; role "group" is resolved only when there is one."""
        if self.group is None:
            raise EngineError("the event names no group", code="unknown_group")
        return self.group

    def balance_holder(self, role: str | None) -> EntityState | GroupState | None:
        """Whose balances (and lots) an action of `role` moves in the evaluation: the participant
        or recipient, or the named group when its balances are known (A262); None for what storage
        alone applies (another participant or group, the program)."""
        if role in ROLES:
            return self.named(role)
        if role == "group" and self.group is not None and self.group.balances is not None:
            return self.group
        return None

    def balance_holders(self) -> list[tuple[str, EntityState | GroupState]]:
        """The holders present, by role: what `balance_holder` gives for each role there is."""
        found: list[tuple[str, EntityState | GroupState]] = [
            (role, person) for role in ROLES if (person := self.person(role)) is not None
        ]
        if self.group is not None and self.group.balances is not None:
            found.append(("group", self.group))
        return found

    def target(self, role: str) -> ResolvedTarget:
        if role == "program":
            return ResolvedTarget(type="PROGRAM")
        if role == "group":
            return ResolvedTarget(type="GROUP", id=self.named_group().id)
        entity = self.named(role)
        return ResolvedTarget(type="PARTICIPANT", role=role, id=entity.id, external_id=entity.external_id)

    def bindings(self, event: Any) -> dict[str, Any]:
        return {
            "event": event,
            "participant": entity_binding(self.participant, self.now),
            "recipient": entity_binding(self.recipient, self.now),
            "program": program_binding(self.program, self.now),
            "group": group_binding(self.group, self.now),
            "now": self.now,
        }

    def refresh(self, bindings: dict[str, Any]) -> None:
        """Rebuild the bindings of the entities changed since the last refresh."""
        for role in self.stale:
            if role == "program":
                bindings["program"] = program_binding(self.program, self.now)
            elif role == "group":
                bindings["group"] = group_binding(self.group, self.now)
            else:
                bindings[role] = entity_binding(self.person(role), self.now)
        self.stale.clear()

    def _record(self, role, state_type, key, operation, old, new, rule, expires_at=None) -> None:
        self.stale.add(role)
        self.changes.append(
            StateChange(
                target=self.target(role),
                state_type=state_type,
                key=key,
                operation=operation,
                old_value=old,
                new_value=new,
                rule=rule,
                expires_at=expires_at,
            )
        )

    # --- tags, attributes, counters, tiers ------------------------------------------------------

    def add_tag(self, role: str, tag: str, *, rule: str | None) -> None:
        tags = self.owner(role).tags
        index = bisect.bisect_left(tags, tag)
        if index < len(tags) and tags[index] == tag:
            return
        check_tag_count(len(tags) + 1)
        tags.insert(index, tag)
        self._record(role, "tag", tag, "add", None, tag, rule)

    def remove_tag(self, role: str, tag: str, *, rule: str | None) -> None:
        tags = self.owner(role).tags
        index = bisect.bisect_left(tags, tag)
        if index < len(tags) and tags[index] == tag:
            del tags[index]
            self._record(role, "tag", tag, "remove", tag, None, rule)

    def set_attribute(self, role: str, key: str, value: str, *, rule: str | None) -> None:
        attributes = self.owner(role).attributes
        old = attributes.get(key)
        if old == value:
            return
        attributes[key] = value
        self._record(role, "attribute", key, "set", old, value, rule)

    def increment_counter(
        self, role: str, key: str, by: Decimal, reset_after: str | None, *, rule: str | None
    ) -> Decimal:
        counters = self.owner(role).counters
        old = counters.get(key)
        if old is None:
            new = CounterState(value=by, reset_after=reset_after, last_reset_at=self.now)
        else:
            new = CounterState(
                value=old.value + by,
                reset_after=reset_after if reset_after is not None else old.reset_after,
                last_reset_at=old.last_reset_at if old.last_reset_at is not None else self.now,
            )
        counters[key] = new
        old_text = decimal_text(old.value) if old is not None else None
        self._record(role, "counter", key, "set", old_text, decimal_text(new.value), rule)
        return new.value

    def _reset_expired_counters(self, role: str) -> None:
        entity: EntityState | ProgramState | GroupState | None
        if role in ("program", "group"):
            entity = self.program if role == "program" else self.group
        else:
            entity = self.person(role)
        if entity is None:
            return
        for key in sorted(entity.counters):
            counter = entity.counters[key]
            if is_counter_expired(counter, self.now):
                entity.counters[key] = CounterState(value=ZERO, reset_after=counter.reset_after, last_reset_at=self.now)
                self._record(role, "counter", key, "auto_reset", decimal_text(counter.value), "0", None)

    def set_tier(
        self, role: str, tier: str, level: str, rank: int, *, rule: str | None, expires_at: datetime | None = None
    ) -> None:
        """Put `role` (a participant's, or the named group's, A258) at `level`; the level held already
        changes nothing, its expiry included (A137)."""
        if rule is not None:
            self.tiers_set.add((role, tier))
        tiers = (self.named_group() if role == "group" else self.named(role)).tiers
        old = tiers.get(tier)
        if old is not None and old.level == level:
            return
        tiers[tier] = TierState(level=level, rank=rank)
        self._record(role, "tier", tier, "set", old.level if old else None, level, rule, expires_at)

    # --- budgets ---------------------------------------------------------------------------------

    # Program-wide budgets and `per: participant` ones (the event participant's consumption) are
    # kept apart: a rule may have both for one asset (D37).

    def budget_fits(self, rule: str, asset: str, amount: Decimal, limit: Decimal, *, per: str = "program") -> bool:
        consumed = self.consumed if per == "program" else self.participant_consumed
        return consumed.get((rule, asset), ZERO) + amount <= limit

    def consume_budget(self, rule: str, asset: str, amount: Decimal, *, per: str = "program") -> None:
        consumed = self.consumed if per == "program" else self.participant_consumed
        key = (rule, asset)
        consumed[key] = consumed.get(key, ZERO) + amount
        self.budget_uses[(rule, asset, per)] = self.budget_uses.get((rule, asset, per), ZERO) + amount

    def budget_use_list(self) -> list[BudgetUse]:
        return [
            BudgetUse(rule=rule, asset=asset, amount=amount, per=per)
            for (rule, asset, per), amount in sorted(self.budget_uses.items())
        ]
