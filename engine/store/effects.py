"""`post_event_effects`: write what evaluating one event produced, in ONE transaction (D14).

    outcome = post_event_effects(event_id, result)
    outcome.written, outcome.status, outcome.journal_entry_ids

A COMPLETED result writes the rule evaluations, a journal entry per applied ledger action, the
balances, tags, counters, attributes and tiers with their history, the budget consumption and the
event's status, or, if any of it is refused (insufficient funds now, an inactive participant, a
budget another event filled meanwhile), none of it: the event then becomes FAILED with that
error, as a FAILED result does (only the evaluations and the error are written).

Concurrency: the event row, the organisation's ledger head and every state owner are locked
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite takes its write lock at `BEGIN IMMEDIATE`), in
that order, and counters are incremented from the locked stored value, not from the value the
rules saw, so concurrent events never lose an update. Calling it again for an event that is no
longer PENDING or PROCESSING writes nothing.

SCHEDULE_EVENT and BROADCAST actions are not ledger or state writes: pass `within` to write
follow-ups (queue rows, automations) inside the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from engine.errors import EngineError
from engine.model.durations import parse_duration
from engine.model.result import EvaluationResult, ResolvedAction, ResolvedTarget
from engine.store import lookups
from engine.store import owner_state as st
from engine.store import statements as fastsql
from engine.store.budgets import roll_over
from engine.store.db import new_id, utcnow, write_transaction
from engine.store.errors import Conflict, LedgerRejected
from engine.store.ledger import movements
from engine.store.ledger.accounts import lock
from engine.store.ledger.journal import Ledger
from engine.store.models import (
    GROUP,
    PARTICIPANT,
    PROGRAM,
    Asset,
    DeferredCredit,
    EventRecord,
    Group,
    Participant,
    RuleBudget,
    RuleEvaluation,
    RuleHistory,
    TierTypeRecord,
)

OPEN_STATUSES = ("PENDING", "PROCESSING")
LEDGER_ACTIONS = {"CREDIT", "DEBIT", "HOLD", "RELEASE", "FORFEIT", "VOID_HOLD"}
STATE_ACTIONS = {"TAG", "UNTAG", "COUNTER", "SET_ATTRIBUTE"}
BLOCKED_WHEN_INACTIVE = LEDGER_ACTIONS | {"COUNTER"}  # D22
ATTRIBUTE_VALUE_MAX = 4096
API_STATUS = {  # D31: engine status -> (API status, reason)
    "MATCHED": ("SUCCESS", None),
    "SKIPPED_ERROR": ("SKIPPED_ERROR", None),
    "SKIPPED_TIMEOUT": ("SKIPPED_TIMEOUT", None),
    "OUTSIDE_TIME_WINDOW": ("SKIPPED", "OUTSIDE_TIME_WINDOW"),
    "STOPPED": ("SKIPPED", "STOPPED_BY_RULE"),
    "BUDGET_EXCEEDED": ("SKIPPED", "BUDGET_EXCEEDED"),
}


class PostOutcome(msgspec.Struct, kw_only=True):
    written: bool  # False: the event was already finished, nothing was written
    status: str  # the event's status afterwards
    journal_entry_ids: list[str] = msgspec.field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None


def post_event_effects(
    event_id: str, result: EvaluationResult, within: Callable[[EventRecord, EvaluationResult], None] | None = None
) -> PostOutcome:
    """Write `result` for the event in one transaction; see the module docstring."""
    try:
        with write_transaction():
            posts = result.status == "COMPLETED" and any(
                a.status == "APPLIED" and a.type in LEDGER_ACTIONS for a in result.actions
            )
            event, head = _locked_event_and_head(event_id) if posts else (_locked_event(event_id), None)
            if event.status not in OPEN_STATUSES:
                return PostOutcome(written=False, status=event.status)
            rules = _RuleIndex(event.program_id, result)
            _write_evaluations(event, result, rules)
            if result.status != "COMPLETED":
                _finish(event, "FAILED", result.error_code or "evaluation_failed", result.error_message)
                return PostOutcome(
                    written=True, status="FAILED", error_code=event.error_code, error_message=event.error_message
                )
            entry_ids = _Applier(event, rules, head).apply(result)
            if within is not None:
                within(event, result)
            _finish(event, "COMPLETED", None, None)
            return PostOutcome(written=True, status="COMPLETED", journal_entry_ids=entry_ids)
    except EngineError as exc:  # StoreError, LedgerInvariantError, DurationError...: all rolled back
        return _record_failure(event_id, result, exc)


def _record_failure(event_id: str, result: EvaluationResult, error: EngineError) -> PostOutcome:
    with write_transaction():
        event = _locked_event(event_id)
        if event.status not in OPEN_STATUSES:
            return PostOutcome(written=False, status=event.status)
        _write_evaluations(event, result, _RuleIndex(event.program_id, result))
        _finish(event, "FAILED", error.code, error.message)
        return PostOutcome(written=True, status="FAILED", error_code=error.code, error_message=error.message)


def _locked_event(event_id: str) -> EventRecord:
    found = fastsql.fetch(EventRecord, "id = {p}", [event_id], for_update=True)
    event = found[0] if found else None
    if event is None:
        raise lookups.NotFound(f"event {event_id} not found", resource="event", id=event_id)
    return event


def _locked_event_and_head(event_id: str) -> tuple[EventRecord, tuple[int, str] | None]:
    """The event and its organisation's ledger head (sequence, last hash), locked in that order
    by one statement; (event, None) when the organisation has no head yet (its first entry: the
    `Ledger` creates and locks it)."""
    found = fastsql.fetch_joined(
        EventRecord,
        "JOIN ledger_head AS h ON h.id = t.organisation_id",
        ("h.sequence", "h.last_hash"),
        "t.id = {p}",
        [event_id],
        for_update=True,
    )
    if not found:
        return _locked_event(event_id), None
    event, (sequence, last_hash) = found[0]
    return event, (int(sequence), last_hash)


def _finish(event: EventRecord, status: str, code: str | None, message: str | None) -> None:
    now = utcnow()
    event.status, event.error_code, event.error_message, event.processed_at = status, code, message, now
    # A finished event has no next attempt: this also ends a worker's lease on it.
    fastsql.update(
        EventRecord,
        event.id,
        status=status,
        error_code=code,
        error_message=message,
        processed_at=now,
        next_attempt_at=None,
        updated_at=now,
    )


class _RuleIndex:
    """Rule name -> (rule id, version, rule_history id) for the rules a result names."""

    _history_ids: dict[tuple[str, int], str] = {}  # versions never change: cache across events

    def __init__(self, program_id: str, result: EvaluationResult) -> None:
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
            history_id = self._history_ids.get((outcome.rule_id, outcome.rule_version))
            self.by_name[outcome.rule] = (outcome.rule_id, outcome.rule_version, history_id)

    def ids(self, rule_name: str) -> tuple[str | None, int | None]:
        rule_id, version, _ = self.by_name.get(rule_name, (None, None, None))
        return rule_id, version


def _write_evaluations(event: EventRecord, result: EvaluationResult, rules: _RuleIndex) -> None:
    """One row per listed rule (D31: rules whose condition was simply false are not listed)."""
    rows = []
    for outcome in result.rules:
        if outcome.status == "NOT_MATCHED":
            continue
        status, reason = API_STATUS.get(outcome.status, (outcome.status, None))
        if outcome.error_code and outcome.status == "MATCHED":
            status = "FAILED"  # the rule whose action failed the event
        rule_id, version, history_id = rules.by_name.get(outcome.rule, (None, None, None))
        stopped_by = rules.by_name.get(outcome.stopped_by, (None,))[0] if outcome.stopped_by else None
        rows.append(
            {
                "event": event.id,
                "rule_id": rule_id,
                "rule_name": outcome.rule,
                "rule_history_id": history_id,
                "rule_version": version,
                "status": status,
                "engine_status": str(outcome.status),
                "reason": reason,
                "stopped_by_rule_id": stopped_by,
                "error_code": outcome.error_code,
                "error_message": outcome.error,
                "actions": msgspec.to_builtins(outcome.actions),
                "attempt": event.attempts or 1,
            }
        )
    if rows:
        now = utcnow()
        for row in rows:
            row["id"], row["created_at"] = new_id(), now
        fastsql.insert(RuleEvaluation, rows)


class _Applier:
    """Applies one COMPLETED result's actions to the locked rows of one transaction."""

    def __init__(self, event: EventRecord, rules: _RuleIndex, head: tuple[int, str] | None = None) -> None:
        self.event, self.rules, self.head = event, rules, head
        self.org_id, self.program_id = event.organisation_id, event.program_id
        self.history = st.HistoryBuffer()
        self.ledger: Ledger | None = None
        self.assets: dict[str, Asset] = {}
        self.people: dict[str, Participant] = {}

    def apply(self, result: EvaluationResult) -> list[str]:
        actions = [a for a in result.actions if a.status == "APPLIED"]
        if any(a.type in LEDGER_ACTIONS for a in actions):
            self.ledger = Ledger(self.org_id, self.head)  # lock order: event, ledger head, then owners
        self._lock_owners(sorted({self._owner(a.target) for a in actions if a.type in LEDGER_ACTIONS | STATE_ACTIONS}))
        entry_ids = []
        for action in actions:
            entry_id = self._apply_action(action)
            if entry_id is not None:
                entry_ids.append(entry_id)
        self._apply_tiers(result)
        self._consume_budgets(result)
        if self.ledger is not None:
            self.ledger.finish()
        self.history.flush()
        return entry_ids

    def _lock_owners(self, owners: list[tuple[str, str]]) -> None:
        """Lock the owners in (type, id) order; the participants with one statement that also
        reads them (`ORDER BY id` keeps the lock order), so their status is checked locked."""
        people = [owner_id for owner_type, owner_id in owners if owner_type == PARTICIPANT]
        for owner_type, owner_id in owners:
            if owner_type == PARTICIPANT:
                if owner_id == people[0]:
                    self._lock_participants(people)
            else:
                st.lock_owner(owner_type, owner_id)

    def _lock_participants(self, ids: list[str]) -> None:
        for person in fastsql.fetch(
            Participant, f"id IN ({fastsql.marks(len(ids))}) ORDER BY id", ids, for_update=True
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
                found = fastsql.fetch(Participant, "id = {p}", [participant_id])
            elif target.id or target.external_id:
                column = "id" if target.id else "external_id"
                found = fastsql.fetch(
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

    def _origin(self, action: ResolvedAction) -> st.Origin:
        rule_id, _ = self.rules.ids(action.rule)
        return st.Origin(event_id=self.event.id, rule_id=rule_id, program_id=self.program_id)

    def _apply_action(self, action: ResolvedAction) -> str | None:
        owner_type, owner_id = self._owner(action.target)
        if owner_type == PARTICIPANT and action.type in BLOCKED_WHEN_INACTIVE:
            person = self._participant(action.target)
            lookups.require_status(person, ("ACTIVE",), action.type)
        if action.type in LEDGER_ACTIONS:
            return self._post(
                action, movements.Entity(owner_type, owner_id, self.program_id if owner_type == GROUP else "")
            )
        origin, at = self._origin(action), self.event.event_timestamp
        if action.type == "TAG":
            st.add_tag(self.org_id, owner_type, owner_id, _text(action, "tag"), origin, self.history)
        elif action.type == "UNTAG":
            st.remove_tag(self.org_id, owner_type, owner_id, _text(action, "tag"), origin, self.history)
        elif action.type == "COUNTER":
            st.increment_counter(
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
            st.set_attribute(
                self.org_id,
                owner_type,
                owner_id,
                _text(action, "key"),
                _text(action, "value", ATTRIBUTE_VALUE_MAX),
                origin,
                self.history,
            )
        return None  # SET_TIER via state changes; SCHEDULE_EVENT and BROADCAST via `within`

    def _post(self, action: ResolvedAction, entity: movements.Entity) -> str:
        asset = self._asset(action.asset)
        rule_id, version = self.rules.ids(action.rule)
        fields = {
            "description": action.description,
            "event_id": self.event.id,
            "rule_id": rule_id,
            "rule_version": version,
            "reference_id": action.reference_id,
        }
        amount, bucket = action.amount, action.bucket or "AVAILABLE"
        if amount is None or amount <= 0:
            raise LedgerRejected(f"{action.type} needs a positive amount", code="invalid_amount")
        if action.type == "CREDIT":
            # DEFERRED exactly when the credit matures later (a past maturity is AVAILABLE at once)
            matures_at = _maturity(action.matures_at, self.event.event_timestamp)
            bucket = "DEFERRED" if matures_at is not None else ("AVAILABLE" if bucket == "DEFERRED" else bucket)
            entry = movements.credit(self.ledger, asset, self.program_id, entity, amount, bucket, **fields)
            if matures_at is not None:
                self._defer(entry, entity, asset, movements.at_scale(amount, asset), matures_at)
        elif action.type == "DEBIT":
            entry = movements.debit(
                self.ledger, asset, self.program_id, entity, amount, bucket, action.allow_negative, **fields
            )
        elif action.type == "FORFEIT":
            entry = movements.forfeit(self.ledger, asset, self.program_id, entity, amount, bucket, **fields)
        else:
            step = {"HOLD": movements.hold, "RELEASE": movements.release, "VOID_HOLD": movements.void_hold}[action.type]
            entry = step(self.ledger, asset, self.program_id, entity, amount, **fields)
        return entry.id

    def _defer(self, entry, entity: movements.Entity, asset: Asset, amount: Decimal, matures_at: datetime) -> None:
        """Put the credit on the maturity job's list."""
        account = self.ledger.accounts.get(entity.type, entity.id, asset, "DEFERRED", entity.scope)
        fastsql.insert(
            DeferredCredit,
            [
                {
                    "id": new_id(),
                    "organisation": self.org_id,
                    "program": self.program_id,
                    "account": account.id,
                    "credit_entry_id": entry.id,
                    "amount": amount,
                    "matures_at": matures_at,
                    "matured_entry_id": None,
                    "created_at": utcnow(),
                }
            ],
        )

    def _asset(self, symbol: str | None) -> Asset:
        if symbol not in self.assets:
            found = fastsql.fetch(
                Asset,
                "symbol = {p} AND organisation_id = {p} AND id IN "
                "(SELECT asset_id FROM program_asset WHERE program_id = {p})",
                [symbol, self.org_id, self.program_id],
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
                continue  # an archived tier: SET_TIER is skipped (reference 2.9)
            ranks = {level["key"]: level["rank"] for level in tier.definition["levels"]}
            if change.new_value not in ranks:
                raise LedgerRejected(f"tier {change.key} has no level {change.new_value!r}", code="unknown_tier_level")
            person = self._participant(change.target)
            rule_id, _ = self.rules.ids(change.rule) if change.rule else (None, None)
            origin = st.Origin(event_id=self.event.id, rule_id=rule_id, program_id=self.program_id)
            st.set_tier(self.org_id, person.id, tier, change.new_value, ranks[change.new_value], origin, self.history)

    def _consume_budgets(self, result: EvaluationResult) -> None:
        """Add the event's credits to its rules' budgets, refusing what no longer fits (D21)."""
        for use in result.budget_uses:
            rule_id, _ = self.rules.ids(use.rule)
            if rule_id is None:
                continue
            row = lock(
                RuleBudget.select().where((RuleBudget.rule == rule_id) & (RuleBudget.asset_symbol == use.asset))
            ).first()
            if row is None:
                continue
            roll_over(row, self.event.created_at)
            if row.consumed + use.amount > row.limit:
                raise Conflict(
                    f"budget of rule {use.rule!r} for {use.asset} was used up by another event; retry",
                    code="budget_conflict",
                    rule=use.rule,
                    asset=use.asset,
                )
            RuleBudget.update(consumed=row.consumed + use.amount).where(RuleBudget.id == row.id).execute()


def _text(action: ResolvedAction, field: str, limit: int = st.TAG_MAX) -> str:
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


def _maturity(matures_at: str | None, now: datetime) -> datetime | None:
    """When a credit matures: an RFC 3339 time or a Go duration after the event; None when it
    is not in the future (the credit is then AVAILABLE at once)."""
    if not matures_at:
        return None
    try:
        moment = datetime.fromisoformat(matures_at.replace("Z", "+00:00"))
    except ValueError:
        moment = now + parse_duration(matures_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment if moment > now else None
