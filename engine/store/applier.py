"""Applying one COMPLETED evaluation to the rows of its transaction: balance actions as journal
entries, tags, counters and attributes with their history, tier levels, budget consumption.

`post_event_effects` builds an `Applier` for the event it has locked; the applier locks the
ledger head and every owner it changes (participants, groups, the program) in a fixed order, and
re-checks under those locks what the evaluation could not know for certain (statuses, balances,
budgets), refusing with a `StoreError` that rolls the whole event back.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from engine.errors import LedgerInvariantError
from engine.model.lots import ANY, LotFilter
from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget, StateChange
from engine.model.vocabulary import BALANCE_ACTIONS, STATE_ACTIONS, ActionStatus, is_blocked
from engine.store import event_tiers, lookups, owner_state, statements
from engine.store.budgets import consume_budgets
from engine.store.errors import Conflict, LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.models import (
    GROUP,
    PARTICIPANT,
    PROGRAM,
    Asset,
    EventRecord,
    Group,
    Participant,
    RuleHistory,
)
from engine.store.shared_reads import remembered
from engine.store.tier_standing import TierMove

ATTRIBUTE_VALUE_MAX = 4096


class RuleIndex:
    """Rule name -> (rule id, version, rule_history id) for the rules a result names."""

    # (rule id, version) -> rule_history id, shared across events: a version never changes.
    _history_ids: ClassVar[dict[tuple[str, int], str]] = {}

    def __init__(self, result: EvaluationResult) -> None:
        self.by_name: dict[str, tuple[str | None, int | None, str | None]] = {}
        missing = {(o.rule_id, o.rule_version) for o in result.rules if o.rule_id and o.rule_version}
        missing -= set(self._history_ids)
        if missing:
            rows = RuleHistory.select(RuleHistory.id, RuleHistory.rule, RuleHistory.version).where(
                RuleHistory.rule.in_([rule_id for rule_id, _ in missing])
            )
            for row in rows:
                self._history_ids[(row.rule_id, row.version)] = row.id
        for outcome in result.rules:
            history_id = None
            if outcome.rule_id and outcome.rule_version:
                history_id = self._history_ids.get((outcome.rule_id, outcome.rule_version))
            self.by_name[outcome.rule] = (outcome.rule_id, outcome.rule_version, history_id)

    def ids(self, rule_name: str) -> tuple[str | None, int | None]:
        rule_id, version, _ = self.by_name.get(rule_name, (None, None, None))
        return rule_id, version


class Applier:
    """Applies one COMPLETED result's actions to the locked rows of one transaction."""

    def __init__(
        self,
        event: EventRecord,
        rules: RuleIndex,
        head: tuple[int, str] | None = None,
        *,
        refresh_tiers: bool = False,
        rolling_tiers: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.event, self.rules, self.head = event, rules, head
        self.refresh_tiers = refresh_tiers  # the program has ACTIVITY_REFRESH tiers (one read per event)
        # the program's tiers that roll counters over: key -> counters (None: not known, read them)
        self.rolling_tiers = rolling_tiers
        self.counted: dict[tuple[str, str], set[str]] = {}  # (owner type, id) -> counter keys the event wrote
        self.org_id, self.program_id = event.organisation_id, event.program_id
        self.history = owner_state.HistoryBuffer()
        self.ledger: Ledger | None = None
        self.assets: dict[str, Asset] = {}
        self.people: dict[str, Participant] = {}
        self.tier_moves: list[TierMove] = []  # for `participant.tier_changed`

    def apply(self, result: EvaluationResult) -> list[str]:
        """Apply the result's actions and write them; the ids of the journal entries posted."""
        entry_ids = self.apply_actions(result)
        self.write()
        return entry_ids

    def apply_actions(self, result: EvaluationResult) -> list[str]:
        """Everything `apply` does but the final writes, which `write` sends: the caller may send
        them with its own in one round trip (`pipelining.pipelined`)."""
        actions = [a for a in result.actions if a.status == ActionStatus.APPLIED]
        if any(a.type in BALANCE_ACTIONS for a in actions):
            self.ledger = Ledger(self.org_id, self.head)  # lock order: event, ledger head, then owners
        owned = [
            a.target for a in actions if a.type in BALANCE_ACTIONS | STATE_ACTIONS or _group_tier(a.target, a.type)
        ]
        owned += [c.target for c in result.state_changes if c.state_type == "tier" and c.target.type == GROUP]
        self._lock_owners(sorted({self._owner(target) for target in owned}))
        entry_ids = []
        for action in actions:
            entry_id = self._apply_action(action)
            if entry_id is not None:
                entry_ids.append(entry_id)
        self._apply_tiers(result)
        if self.refresh_tiers and self.event.participant_id:
            event_tiers.refresh_waits(self.event, PARTICIPANT, self.event.participant_id)
        if self.refresh_tiers and result.group is not None and result.group.status == "ACTIVE":
            event_tiers.refresh_waits(self.event, GROUP, result.group.id)  # an event naming the group (A258)
        event_tiers.track_rollovers(self.event, self.counted, self.rolling_tiers)
        consume_budgets(result.budget_uses, self.rules.ids, self.event, self.program_id)
        return entry_ids

    def write(self) -> None:
        """The entries, postings, balances and state history built by `apply_actions`."""
        if self.ledger is not None:
            self.ledger.finish()
        self.history.flush()

    def _lock_owners(self, owners: list[tuple[str, str]]) -> None:
        """Lock the owners in (type, id) order; the participants with one statement that also
        reads them (`ORDER BY id` keeps the lock order), so their status is checked locked."""
        people = [owner_id for owner_type, owner_id in owners if owner_type == PARTICIPANT]
        for owner_type, owner_id in owners:
            if owner_type == PARTICIPANT:
                if owner_id == people[0]:
                    self._lock_participants(people)
            else:
                owner_state.lock_owner(owner_type, owner_id)

    def _lock_participants(self, ids: list[str]) -> None:
        for person in statements.fetch(
            Participant, f"id IN ({statements.marks(len(ids))}) ORDER BY id", ids, for_update=True
        ):
            self.people[person.id] = person
        for missing in (owner_id for owner_id in ids if owner_id not in self.people):
            raise lookups.NotFound(f"target participant {missing} not found", code="unknown_participant")

    def _owner(self, target: ResolvedTarget) -> tuple[str, str]:
        if target.type == PROGRAM:
            return PROGRAM, self.program_id
        if target.type == GROUP:
            group = Group.get_or_none((Group.id == target.id) & (Group.organisation == self.org_id))
            if group is None:
                raise lookups.NotFound(f"group {target.id} not found", code="unknown_group")
            if group.status != "ACTIVE":  # archived groups are readable, never changed again
                raise Conflict(f"group {target.id} is archived", code="group_archived", id=group.id)
            return GROUP, group.id
        # The event's own participants are known by id: read (and locked) with the owners.
        return PARTICIPANT, self._role_id(target) or self._participant(target).id

    def _role_id(self, target: ResolvedTarget) -> str | None:
        if target.role == "participant":
            return self.event.participant_id
        if target.role == "recipient":
            return self.event.recipient_id
        return None

    def _participant(self, target: ResolvedTarget) -> Participant:
        participant_id = self._role_id(target)
        key = participant_id or f"{target.id}|{target.external_id}"
        if key not in self.people:
            found = []
            if participant_id is not None:
                found = statements.fetch(Participant, "id = {p}", [participant_id])
            elif target.id or target.external_id:
                column = "id" if target.id else "external_id"
                found = statements.fetch(
                    Participant,
                    column + " = {p} AND organisation_id = {p}",
                    [target.id or target.external_id, self.org_id],
                )
            person = found[0] if found else None
            if person is None:
                raise lookups.NotFound(
                    f"target participant {target.id or target.external_id or target.role} not found",
                    code="unknown_participant",
                )
            self.people[key] = person
        return self.people[key]

    def _origin(self, action: ResolvedAction) -> owner_state.Origin:
        rule_id, _ = self.rules.ids(action.rule)
        return owner_state.Origin(event_id=self.event.id, rule_id=rule_id, program_id=self.program_id)

    def _apply_action(self, action: ResolvedAction) -> str | None:
        owner_type, owner_id = self._owner(action.target)
        if owner_type == PARTICIPANT:
            person = self._participant(action.target)
            if is_blocked(action.type, person.status):
                lookups.require_status(person, ("ACTIVE",), action.type)
        if action.type in BALANCE_ACTIONS:
            return self._post(
                action, movements.Entity(owner_type, owner_id, self.program_id if owner_type == GROUP else "")
            )
        origin, at = self._origin(action), self.event.event_timestamp
        if action.type == "TAG":
            owner_state.add_tag(self.org_id, owner_type, owner_id, _text(action, "tag"), origin, self.history)
        elif action.type == "UNTAG":
            owner_state.remove_tag(self.org_id, owner_type, owner_id, _text(action, "tag"), origin, self.history)
        elif action.type == "COUNTER":
            if owner_type != PROGRAM:
                self.counted.setdefault((owner_type, owner_id), set()).add(_text(action, "key"))
            owner_state.increment_counter(
                self.org_id,
                owner_type,
                owner_id,
                _text(action, "key"),
                _increment(action),
                origin,
                action.reset_after,
                self.history,
                at=at,
            )
        elif action.type == "SET_ATTRIBUTE":
            owner_state.set_attribute(
                self.org_id,
                owner_type,
                owner_id,
                _text(action, "key"),
                _text(action, "value", ATTRIBUTE_VALUE_MAX),
                origin,
                self.history,
            )
        elif action.type == "SET_TIER" and owner_type == GROUP:  # a group's level, from the action (A258)
            rule = self.rules.ids(action.rule)[0], action.rule
            key, level = _text(action, "tier"), _text(action, "level")
            self._moved(
                event_tiers.set_level(self.event, GROUP, owner_id, key, level, rule, action.expires_at, self.history)
            )
        return None  # a participant's SET_TIER via state changes; SCHEDULE_EVENT and BROADCAST as follow-ups

    def _moved(self, move: TierMove | None) -> None:
        if move is not None:
            self.tier_moves.append(move)

    def _post(self, action: ResolvedAction, entity: movements.Entity) -> str:
        asset = self._asset(action.asset)
        rule_id, version = self.rules.ids(action.rule)
        fields: dict[str, Any] = {
            "description": action.description,
            "event_id": self.event.id,
            "rule_id": rule_id,
            "rule_version": version,
            "reference_id": action.reference_id,
        }
        as_of = self.event.created_at  # lots are judged at the event's receive time, as the evaluator did
        amount, bucket = action.amount, action.bucket or "AVAILABLE"
        if amount is None or amount <= 0:
            raise LedgerRejected(f"{action.type} needs a positive amount", code="invalid_amount")
        ledger = self._open_ledger()
        if action.type == "CREDIT":
            # The evaluator put the credit in DEFERRED exactly when it matures after the event.
            if bucket == "DEFERRED" and action.matures_at is None:
                raise LedgerRejected("a DEFERRED credit needs matures_at", code="invalid_action")
            entry = movements.credit(
                ledger,
                asset,
                self.program_id,
                entity,
                amount,
                bucket,
                as_of=as_of,
                expires_at=action.expires_at,
                matures_at=action.matures_at,
                **fields,
            )
        elif action.type == "DEBIT":
            entry = movements.debit(
                ledger, asset, self.program_id, entity, amount, bucket, action.allow_negative, as_of=as_of, **fields
            )
        elif action.type == "FORFEIT":
            entry = movements.forfeit(ledger, asset, self.program_id, entity, amount, bucket, as_of=as_of, **fields)
        elif action.type == "RELEASE":
            only = LotFilter(reference_id=action.reference_id) if action.reference_id is not None else ANY
            entry = movements.release(ledger, asset, self.program_id, entity, amount, as_of=as_of, only=only, **fields)
        else:
            step = {"HOLD": movements.hold, "VOID_HOLD": movements.void_hold}[action.type]
            entry = step(ledger, asset, self.program_id, entity, amount, as_of=as_of, **fields)
        return entry.id

    def _open_ledger(self) -> Ledger:
        """The ledger `apply` opened, before locking the owners, for the result's balance actions."""
        if self.ledger is None:
            raise LedgerInvariantError("a balance action without an open ledger", code="ledger_invariant")
        return self.ledger

    def _asset(self, symbol: str | None) -> Asset:
        if symbol is None:
            raise LedgerRejected(f"asset {symbol} is not linked to the program", code="asset_not_linked")
        if symbol not in self.assets:
            found = remembered(
                ("program asset", self.program_id, symbol),
                lambda: statements.fetch(
                    Asset,
                    "symbol = {p} AND organisation_id = {p} AND id IN "
                    "(SELECT asset_id FROM program_asset WHERE program_id = {p})",
                    [symbol, self.org_id, self.program_id],
                ),
            )
            asset = found[0] if found else None
            if asset is None:
                raise LedgerRejected(f"asset {symbol} is not linked to the program", code="asset_not_linked")
            self.assets[symbol] = asset
        return self.assets[symbol]

    def _apply_tiers(self, result: EvaluationResult) -> None:
        """Participants' levels come from the engine's state changes (SET_TIER and
        auto-qualification); a group's from its SET_TIER actions (`_apply_action`, whatever group
        they name) and from the auto-qualification of the group the event names."""
        for change in result.state_changes:
            if change.state_type != "tier" or change.operation != "set" or change.new_value is None:
                continue
            if change.target.type == GROUP:
                if change.rule is None:
                    self._moved(self._set_level(GROUP, str(change.target.id), change))
                continue
            self._moved(self._set_level(PARTICIPANT, self._participant(change.target).id, change))

    def _set_level(self, owner_type: str, owner_id: str, change: StateChange) -> TierMove | None:
        """The level a state change sets: a rule's SET_TIER, or auto-qualification (no rule)."""
        rule = (self.rules.ids(change.rule)[0], change.rule) if change.rule else None
        key, level, expires_at = change.key, str(change.new_value), change.expires_at
        return event_tiers.set_level(self.event, owner_type, owner_id, key, level, rule, expires_at, self.history)


def _group_tier(target: ResolvedTarget, action_type: str) -> bool:
    """A SET_TIER on a group: its owner is locked with the others (A242)."""
    return action_type == "SET_TIER" and target.type == GROUP


def _text(action: ResolvedAction, field: str, limit: int = owner_state.TAG_MAX) -> str:
    """A required text field of a resolved action (tag, key, attribute value), or `invalid_action`."""
    value = getattr(action, field)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise LedgerRejected(
            f"{action.type} action of rule {action.rule!r} has no valid {field}",
            code="invalid_action",
            rule=action.rule,
            field=field,
        )
    return value


def _increment(action: ResolvedAction) -> Decimal:
    value = None
    if action.value is not None:
        try:
            value = Decimal(action.value)
        except (TypeError, ValueError, ArithmeticError):
            value = None
    if value is None or not value.is_finite():
        raise LedgerRejected(
            f"COUNTER action of rule {action.rule!r} has no valid value",
            code="invalid_action",
            rule=action.rule,
            field="value",
        )
    return value
