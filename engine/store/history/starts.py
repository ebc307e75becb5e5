"""Each participant (and the program) as it was just ahead of a window (D36), rebuilt from what
is stored: today's state with every change made since the window began taken back out.

    starts = Starts(window, organisation_id, symbols, lot_assets)    # reads the undo once
    starts.participant(participant_id)                              # EntityState before the window
    starts.program()                                                # ProgramState before the window

A row is ahead of the window when an event of the window's program processed before the window's
first event wrote it, or when anything else wrote it before the window's first moment. Every
other row written since is undone: postings (balances and the amounts held by reference), lot
takes and the lots credited (A157), and state history (tags, counters, attributes, tiers; A158).
Rows older than the window's first moment less `MARGIN` are ahead without looking (an event's
rows are written within its lease of 60 s).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import msgspec

from engine.model.history import Window
from engine.model.lots import Lot, LotStatus
from engine.model.state import Balance, CounterState, EntityState, ProgramState, TierState
from engine.store import statements
from engine.store.fields import to_decimal
from engine.store.ledger.lots import to_lot
from engine.store.models import EventRecord, LotRecord
from engine.store.owner_state import load_entity_state
from engine.store.rule_health import id_floor

MARGIN = timedelta(minutes=2)
_AT = EventRecord.processed_at.python_value
_FIELD = {"AVAILABLE": "available", "HELD": "held", "DEFERRED": "deferred"}
PAGE = 2000
Undo = dict[tuple[str, str], Decimal]  # (asset symbol, bucket or reference) -> value taken back


def _undo() -> Undo:
    return defaultdict(Decimal)


def _time(value: object) -> datetime:
    """A time column that is never NULL where it is read."""
    moment = _AT(value)
    if moment is None:
        raise ValueError("a time column read as NULL")
    return moment


class Starts:
    """The undo of one window, read once, and each holder's start built from it on demand. It
    holds sums, not rows: memory grows with the tracked participants and what they hold, not with
    the window's length."""

    def __init__(
        self,
        window: Window,
        organisation_id: str,
        symbols: dict[str, str],
        lot_assets: set[str],
        tracked: set[str] | None = None,
    ) -> None:
        self.window, self.organisation_id = window, organisation_id
        self.symbols, self.lot_assets = symbols, lot_assets  # asset id -> symbol; LOT asset ids
        self.tracked = tracked  # the participants whose starts are asked for (None: everyone)
        self._floor = id_floor(window.first_at - MARGIN)
        # Kept by owner, so a start reads its own undo whatever the number of participants.
        self._balance_undo: dict[str, Undo] = defaultdict(_undo)  # owner -> (symbol, bucket) -> taken back
        self._held_undo: dict[str, Undo] = defaultdict(_undo)  # owner -> (symbol, reference) -> taken back
        self._takes: dict[str, Decimal] = defaultdict(Decimal)  # lot id -> value to give back
        self._new_credits: set[str] = set()  # entries since that credited a LOT asset
        # (owner type, owner id) -> (state type, key) -> (operation, old value) of the oldest change since
        self._first_changes: dict[tuple[str, str], dict[tuple[str, str], tuple[str, str | None]]] = defaultdict(dict)
        self._read_postings()
        self._read_takes()
        self._read_history()

    def ahead(self, created_at: object, program_id: str | None, processed_at: object, event_id: str | None) -> bool:
        """Whether a row written at `created_at` (by event `event_id`, if any) is ahead of the
        window. Times as the driver gives them: only the one compared is converted (the undo reads
        every row written since the window began)."""
        window = self.window
        if event_id is not None and program_id == window.program_id:
            return processed_at is not None and (_time(processed_at), event_id) < (window.first_at, window.first_id)
        return _time(created_at) < window.first_at

    def _follows(self, owner_type: str, owner_id: str) -> bool:
        if owner_type == "PROGRAM":
            return owner_id == self.window.program_id
        return self.tracked is None or owner_id in self.tracked

    # --- reading the undo, page by page ---------------------------------------------------------

    def _pages(self, sql: str) -> Iterator[tuple]:
        """Rows of `sql` (its first column the table's id, `{p}` for the cursor, the organisation
        and the page size) from the window's floor on, in id order, as the driver gives them."""
        cursor = self._floor
        while True:
            found = statements.raw_rows(sql, [cursor, self.organisation_id, PAGE])
            yield from found
            if len(found) < PAGE:
                return
            cursor = found[-1][0]

    def _read_postings(self) -> None:
        for row in self._pages(
            "SELECT p.id, e.id, e.created_at, e.event_id, ev.program_id, ev.processed_at, p.entity_id, p.asset_id, "
            "p.bucket, p.amount, e.reference_id FROM posting AS p JOIN journal_entry AS e ON e.id = p.entry_id "
            "JOIN account AS a ON a.id = p.account_id LEFT JOIN event AS ev ON ev.id = e.event_id "
            # COALESCE keeps SQLite's planner on the id range: on the entity type's (or the
            # organisation's) index it read and sorted every posting of the kind for each page
            "WHERE p.id > {p} AND COALESCE(e.organisation_id, '') = {p} "
            "AND COALESCE(p.entity_type, '') = 'PARTICIPANT' AND a.program_scope = '' ORDER BY p.id LIMIT {p}",
        ):
            _, entry_id, created, event_id, program, processed, owner, asset_id, bucket, amount, reference = row
            if asset_id not in self.symbols or not self._follows("PARTICIPANT", owner):
                continue
            if self.ahead(created, program, processed, event_id):
                continue
            symbol, amount = self.symbols[asset_id], to_decimal(amount)
            self._balance_undo[owner][(symbol, bucket)] += amount
            if bucket == "HELD" and reference is not None:
                self._held_undo[owner][(symbol, reference)] += amount
            if asset_id in self.lot_assets and amount > 0:
                self._new_credits.add(entry_id)

    def _read_takes(self) -> None:
        if not self.lot_assets:
            return
        for _, lot_id, amount, created, event_id, program, processed in self._pages(
            "SELECT t.id, t.lot_id, t.amount, e.created_at, e.event_id, ev.program_id, ev.processed_at "
            "FROM lot_take AS t JOIN journal_entry AS e ON e.id = t.entry_id "
            "LEFT JOIN event AS ev ON ev.id = e.event_id "
            "WHERE t.id > {p} AND COALESCE(e.organisation_id, '') = {p} ORDER BY t.id LIMIT {p}",  # the id range
        ):
            if not self.ahead(created, program, processed, event_id):
                self._takes[lot_id] -= to_decimal(amount)  # a take of -5 is given back as +5

    def _read_history(self) -> None:
        for row in self._pages(
            "SELECT h.id, h.owner_type, h.owner_id, h.state_type, h.key, h.operation, h.old_value, "
            "h.program_id, h.changed_at, h.event_id, ev.program_id, ev.processed_at "
            "FROM state_history AS h LEFT JOIN event AS ev ON ev.id = h.event_id "
            "WHERE h.id > {p} AND h.organisation_id = {p} ORDER BY h.id LIMIT {p}",
        ):
            _, owner_type, owner_id, state_type, key, operation, old, tier_program, at, event_id, program, processed = row  # fmt: skip  # noqa: E501
            if state_type == "tier" and tier_program != self.window.program_id:
                continue
            if self._follows(owner_type, owner_id) and not self.ahead(at, program, processed, event_id):
                # only the oldest change since matters: undoing them all ends at its old value
                self._first_changes[(owner_type, owner_id)].setdefault((state_type, key), (operation, old))

    # --- building a start ---------------------------------------------------------------------

    def participant(self, participant_id: str) -> EntityState:
        """The participant as it was just ahead of the window."""
        found = statements.rows(
            "SELECT external_id, status FROM participant WHERE id = {p}", [participant_id], (str, str)
        )
        external_id, status = found[0] if found else (None, "ACTIVE")
        tags, counters, attributes = load_entity_state("PARTICIPANT", participant_id)
        tiers = {
            key: TierState(level=level, rank=rank)
            for key, level, rank in statements.rows(
                'SELECT tier_key, level, "rank" FROM participant_tier WHERE participant_id = {p} AND program_id = {p}',
                [participant_id, self.window.program_id],
                (str, str, int),
            )
        }
        entity = EntityState(
            id=participant_id,
            external_id=external_id,
            status=status,
            tags=tags,
            counters=counters,
            attributes=attributes,
            tiers=tiers,
            balances=self._balances(participant_id),
            holds=self._holds(participant_id),
            lots=self._lots(participant_id),
        )
        self._undo_state(("PARTICIPANT", participant_id), entity)
        return entity

    def program(self) -> ProgramState:
        """The program's tags, counters and attributes just ahead of the window (its wallet is
        not replayed: PREFUNDED funding is checked when the ledger posts, not by rules)."""
        tags, counters, attributes = load_entity_state("PROGRAM", self.window.program_id)
        state = EntityState(tags=tags, counters=counters, attributes=attributes)
        self._undo_state(("PROGRAM", self.window.program_id), state)
        return ProgramState(tags=state.tags, counters=state.counters, attributes=state.attributes)

    def _balances(self, participant_id: str) -> dict[str, Balance]:
        balances: dict[str, Balance] = {}
        for asset_id, bucket, amount in statements.rows(
            "SELECT asset_id, bucket, balance FROM account WHERE entity_type = 'PARTICIPANT' AND entity_id = {p} "
            "AND program_scope = ''",
            [participant_id],
            (str, str, to_decimal),
        ):
            if asset_id in self.symbols:
                balance = balances.setdefault(self.symbols[asset_id], Balance())
                setattr(balance, _FIELD[bucket], amount)
        for (symbol, bucket), amount in self._balance_undo.get(participant_id, {}).items():
            balance = balances.setdefault(symbol, Balance())
            setattr(balance, _FIELD[bucket], getattr(balance, _FIELD[bucket]) - amount)
        return balances

    def _holds(self, participant_id: str) -> dict[str, dict[str, Decimal]]:
        held: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for asset_id, reference, amount in statements.rows(
            "SELECT a.asset_id, h.reference_id, h.amount FROM held_reference AS h JOIN account AS a "
            "ON a.id = h.account_id WHERE a.entity_type = 'PARTICIPANT' AND a.entity_id = {p} "
            "AND a.program_scope = ''",
            [participant_id],
            (str, str, to_decimal),
        ):
            if asset_id in self.symbols:
                held[(self.symbols[asset_id], reference)] += amount
        for (symbol, reference), amount in self._held_undo.get(participant_id, {}).items():
            held[(symbol, reference)] -= amount
        holds: dict[str, dict[str, Decimal]] = {}
        for (symbol, reference), amount in sorted(held.items()):
            if amount != 0:
                holds.setdefault(symbol, {})[reference] = amount
        return holds

    def _lots(self, participant_id: str) -> dict[str, list[Lot]]:
        """Lots made ahead of the window, each with the value the window's takes gave back; a
        lot closed since (spent or expired) reopens AVAILABLE, or DEFERRED until its maturity."""
        if not self.lot_assets:
            return {}
        lots: dict[str, list[Lot]] = {}
        ids = sorted(self.lot_assets)
        for row in statements.fetch(
            LotRecord,
            f"entity_type = 'PARTICIPANT' AND entity_id = {{p}} AND program_scope = '' "
            f"AND asset_id IN ({statements.marks(len(ids))})",
            [participant_id, *ids],
        ):
            if row.credit_entry_id in self._new_credits and row.source_lot_id is None:
                continue  # credited by the window (or after it)
            if row.id not in self._takes and row.status not in ("DEFERRED", "AVAILABLE", "HELD"):
                continue  # closed ahead of the window
            lot = to_lot(row)
            remaining = lot.remaining + self._takes.get(row.id, Decimal(0))
            if remaining <= 0:
                continue
            if lot.status in (LotStatus.CONSUMED, LotStatus.EXPIRED):
                deferred = lot.matures_at is not None and lot.matures_at > self.window.first_at
                lot.status = LotStatus.DEFERRED if deferred else LotStatus.AVAILABLE
            lots.setdefault(self.symbols[row.asset_id], []).append(msgspec.structs.replace(lot, remaining=remaining))
        return lots

    def _undo_state(self, owner: tuple[str, str], state: EntityState) -> None:
        """Take the owner's changes since the window began back out: each key returns to the
        value its oldest change since found."""
        tags = set(state.tags)
        for (state_type, key), (operation, old) in self._first_changes.get(owner, {}).items():
            if state_type == "tag":
                (tags.discard if operation == "add" else tags.add)(key)
            elif state_type == "attribute":
                _put(state.attributes, key, old)
            elif state_type == "counter":
                _undo_counter(state.counters, key, old)
            elif state_type == "tier":
                if old is None:
                    state.tiers.pop(key, None)
                else:
                    state.tiers[key] = TierState(level=old, rank=0)  # the replay reads the rank from the program
        state.tags = sorted(tags)


def _put(mapping: dict[str, str], key: str, value: str | None) -> None:
    if value is None:
        mapping.pop(key, None)
    else:
        mapping[key] = value


def _undo_counter(counters: dict[str, CounterState], key: str, old: str | None) -> None:
    if old is None:
        counters.pop(key, None)
        return
    current = counters.get(key)
    value = Decimal(old)
    counters[key] = CounterState(
        value=value,
        reset_after=current.reset_after if current else None,
        last_reset_at=current.last_reset_at if current else None,
    )
