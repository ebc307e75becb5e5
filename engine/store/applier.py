"""Applying one COMPLETED evaluation to the rows of its transaction: balance actions as journal
entries, tags, counters and attributes with their history, tier levels, budget consumption.

`post_event_effects` builds an `Applier` for the event it has locked; the applier locks the
ledger head and every owner it changes (participants, groups, the program) in a fixed order, and
re-checks under those locks what the evaluation could not know for certain (statuses, balances,
budgets), refusing with a `StoreError` that rolls the whole event back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, ClassVar

from engine.errors import LedgerInvariantError
from engine.model.lots import ANY, LotFilter
from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget
from engine.model.tier_lifecycle import refresh
from engine.model.vocabulary import BALANCE_ACTIONS, STATE_ACTIONS, ActionStatus, is_blocked
from engine.store import lookups, owner_state, statements, tier_rollovers, tier_standing
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
    ParticipantTier,
    RuleHistory,
    TierTypeRecord,
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
        self.counted: dict[str, set[str]] = {}  # participant id -> counter keys the event wrote
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
        self._lock_owners(sorted({self._owner(a.target) for a in actions if a.type in BALANCE_ACTIONS | STATE_ACTIONS}))
        entry_ids = []
        for action in actions:
            entry_id = self._apply_action(action)
            if entry_id is not None:
                entry_ids.append(entry_id)
        self._apply_tiers(result)
        self._refresh_tiers()
        self._track_rollovers()
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
            if owner_type == PARTICIPANT:
                self.counted.setdefault(owner_id, set()).add(_text(action, "key"))
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
        return None  # SET_TIER via state changes; SCHEDULE_EVENT and BROADCAST as follow-ups

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
        """Tier levels come from the engine's state changes: SET_TIER actions and auto-qualification."""
        for change in result.state_changes:
            if change.state_type != "tier" or change.operation != "set" or change.new_value is None:
                continue
            tier = TierTypeRecord.get_or_none(
                (TierTypeRecord.program == self.program_id)
                & (TierTypeRecord.key == change.key)
                & (TierTypeRecord.status == "ACTIVE")
            )
            if tier is None:
                continue  # an archived tier: SET_TIER on it is skipped, the event still completes
            ranks = {level["key"]: level["rank"] for level in tier.definition["levels"]}
            if change.new_value not in ranks:
                raise LedgerRejected(f"tier {change.key} has no level {change.new_value!r}", code="unknown_tier_level")
            person = self._participant(change.target)
            rule_id, _ = self.rules.ids(change.rule) if change.rule else (None, None)
            origin = owner_state.Origin(event_id=self.event.id, rule_id=rule_id, program_id=self.program_id)
            reason = "RULE" if change.rule else "QUALIFICATION"
            move = owner_state.set_tier(
                self.org_id,
                person.id,
                tier,
                change.new_value,
                ranks[change.new_value],
                origin,
                self.history,
                reason=reason,
                expires_at=change.expires_at,
            )
            if move is not None:
                self.tier_moves.append(replace(move, event_id=self.event.id))

    def _refresh_tiers(self) -> None:
        """A processed event starts the wait of the participant's ACTIVITY_REFRESH levels again
        (A129), unless the wait had ended by the event's receive time (the sweep owes the lapse)."""
        if not self.refresh_tiers or not self.event.participant_id:
            return
        received = self.event.created_at
        rows = statements.fetch(
            ParticipantTier,
            "participant_id = {p} AND program_id = {p} AND review_at IS NOT NULL AND review_at > {p} "
            "AND pending_drop = {p}",
            [self.event.participant_id, self.program_id, ParticipantTier.review_at.db_value(received), False],
            for_update=True,
        )
        for row in rows:
            spec = tier_standing.active_spec(TierTypeRecord.get_by_id(row.tier_type_id))
            standing = tier_standing.standing_of(row)
            refreshed = refresh(spec, standing, received)
            if refreshed != standing:
                tier_standing.write_standing(row.id, refreshed)

    def _track_rollovers(self) -> None:
        """Participants whose qualifying counters the event wrote, and who hold no level of the
        tier, have their rollover scheduled from the event's receive time (A215), after the
        event's own levels are set (a level's row schedules its own period ends)."""
        received = self.event.created_at
        for participant_id, keys in self.counted.items():
            if self.rolling_tiers is None:
                tier_rollovers.track(self.org_id, participant_id, keys, received, [self.program_id])
            else:
                tier_rollovers.track_event(
                    self.org_id, participant_id, self.program_id, keys, received, self.rolling_tiers
                )


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
