"""The ledger's hourly rollup: members' flows per (program, asset, hour, category), kept so a
report costs the hours it spans, not the history (A187).

An organisation's journal is a chain: entries take sequence numbers under the ledger head's lock,
so the committed entries are always a prefix 1..N of the chain. The rollup holds exactly the
entries up to its watermark (`ledger_rollup_head.sequence`); `fold` adds the next ones, in
sequence order, and moves the watermark in the same transaction. A report reads the rollup for
whole hours and the entries themselves for what the rollup cannot answer: the entries after the
watermark, and the parts of hours cut by a boundary (`engine/store/reports/ledger.py`). So the
rollup is never a counter that can drift: it is a function of an immutable prefix of the journal,
and `accrual verify` recomputes it (`verify_rollup`).

An entry counts at the time of its id (UUIDv7: the millisecond it was written), which is what
the primary key orders by; its hour is that time's UTC hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from engine.store import statements
from engine.store.db import database_proxy, utcnow, write_transaction
from engine.store.fields import to_decimal
from engine.store.models import LedgerRollup, LedgerRollupHead
from engine.store.reports.flows import EntryDelta, PostingRow, entry_deltas

HOUR = timedelta(hours=1)
ENTRIES_PER_FOLD = 500  # entries folded per transaction

RowKey = tuple[str, str, datetime, str]  # program, asset, hour, category


def id_time(entry_id: str) -> datetime:
    """The moment a UUIDv7 id was made (millisecond precision)."""
    millis = int(entry_id.replace("-", "")[:12], 16)
    return datetime.fromtimestamp(millis / 1000, UTC)


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def id_floor(moment: datetime) -> str:
    """The smallest UUIDv7 id of `moment`'s millisecond: `id >= id_floor(t)` is made at or after t
    (the millisecond is rounded up, so an id of the millisecond before t is never included)."""
    micros = moment.timestamp() * 1_000_000
    millis = int(-(-micros // 1000))
    text = f"{millis:012x}0000000000000000000000"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:32]}"


_POSTINGS = (
    "SELECT j.id, j.program_id, j.action_type, p.asset_id, p.entity_type, p.entity_id, p.amount "
    "FROM journal_entry AS j JOIN posting AS p ON p.entry_id = j.id WHERE j.organisation_id = {p} AND {where} "
    "ORDER BY j.sequence, p.position"
)


def member_deltas(organisation_id: str, where: str, params: list[object]) -> list[EntryDelta]:
    """The member deltas of the organisation's entries matching `where` (SQL over `j`, the entry,
    with `{p}` placeholders)."""
    mark = database_proxy.obj.param
    sql = _POSTINGS.format(p=mark, where=where.format(p=mark))
    rows = database_proxy.obj.execute_sql(sql, [organisation_id, *params]).fetchall()
    return entry_deltas(
        PostingRow(row[0], row[1] or "", row[2], row[3], row[4], row[5], to_decimal(row[6])) for row in rows
    )


def watermark(organisation_id: str) -> int:
    head = LedgerRollupHead.get_or_none(LedgerRollupHead.id == organisation_id)
    return head.sequence if head is not None else 0


def fold(now: datetime | None = None, limit: int = ENTRIES_PER_FOLD) -> int:
    """Fold up to `limit` entries past the watermark of each organisation that has some, one
    organisation per transaction; returns how many entries were folded (the scheduler's job)."""
    folded = 0
    behind = database_proxy.obj.execute_sql(
        "SELECT h.id FROM ledger_head AS h LEFT JOIN ledger_rollup_head AS r ON r.id = h.id "
        "WHERE h.sequence > COALESCE(r.sequence, 0) ORDER BY h.id"
    ).fetchall()
    for (organisation_id,) in behind:
        if folded >= limit:
            break
        folded += fold_organisation(organisation_id, limit - folded, now or utcnow())
    return folded


def fold_organisation(organisation_id: str, limit: int, now: datetime) -> int:
    with write_transaction():
        LedgerRollupHead.insert(id=organisation_id, sequence=0, updated_at=now).on_conflict_ignore().execute()
        (head,) = statements.fetch(LedgerRollupHead, "id = {p}", [organisation_id], for_update=True)
        last = database_proxy.obj.execute_sql(
            f"SELECT sequence FROM ledger_head WHERE id = {database_proxy.obj.param}", [organisation_id]
        ).fetchone()
        upto = min(last[0] if last else 0, head.sequence + limit)
        if upto <= head.sequence:
            return 0
        deltas = member_deltas(organisation_id, "j.sequence > {p} AND j.sequence <= {p}", [head.sequence, upto])
        _add_to_rollup(organisation_id, deltas)
        LedgerRollupHead.update(sequence=upto, updated_at=now).where(LedgerRollupHead.id == organisation_id).execute()
        return upto - head.sequence


def grouped(deltas: Iterable[EntryDelta]) -> dict[RowKey, Decimal]:
    sums: dict[RowKey, Decimal] = {}
    for delta in deltas:
        key = (delta.program_id, delta.asset_id, hour_of(id_time(delta.entry_id)), delta.category)
        sums[key] = sums.get(key, Decimal(0)) + delta.delta
    return sums


def _add_to_rollup(organisation_id: str, deltas: list[EntryDelta]) -> None:
    """Add the deltas to their rows (read, add, write: the head's lock keeps other folds out)."""
    sums = grouped(deltas)
    if not sums:
        return
    hours = sorted({key[2] for key in sums})
    existing = {
        (row.program_id, row.asset_id, row.hour, row.category): row
        for row in LedgerRollup.select().where(
            (LedgerRollup.organisation == organisation_id) & (LedgerRollup.hour.in_(hours))
        )
    }
    new_rows = []
    for key, amount in sums.items():
        row = existing.get(key)
        if row is not None:
            LedgerRollup.update(amount=row.amount + amount).where(LedgerRollup.id == row.id).execute()
        else:
            program_id, asset_id, hour, category = key
            new_rows.append(
                {
                    "organisation": organisation_id,
                    "program_id": program_id,
                    "asset_id": asset_id,
                    "hour": hour,
                    "category": category,
                    "amount": amount,
                }
            )
    for start in range(0, len(new_rows), 200):
        LedgerRollup.insert_many(new_rows[start : start + 200]).execute()


def count_behind(now: datetime | None = None) -> int:
    """How many entries wait to be folded (for `accrual sweep`'s progress and `accrual status`)."""
    row = database_proxy.obj.execute_sql(
        "SELECT COALESCE(SUM(h.sequence - COALESCE(r.sequence, 0)), 0) FROM ledger_head AS h "
        "LEFT JOIN ledger_rollup_head AS r ON r.id = h.id"
    ).fetchone()
    return int(row[0] or 0)


def verify_rollup(organisation_id: str) -> list[str]:
    """Problems of the organisation's rollup: every row must equal the sum of its entries up to the
    watermark (an empty list when it does)."""
    with database_proxy.obj.atomic():
        mark = watermark(organisation_id)
        expected = grouped(member_deltas(organisation_id, "j.sequence <= {p}", [mark]))
        stored = {
            (row.program_id, row.asset_id, row.hour, row.category): row.amount
            for row in LedgerRollup.select().where(LedgerRollup.organisation == organisation_id)
        }
    problems = []
    for key in sorted(expected.keys() | stored.keys(), key=lambda k: (k[2], k[0], k[1], k[3])):
        want, have = expected.get(key, Decimal(0)), stored.get(key, Decimal(0))
        if want != have:
            problems.append(f"rollup {key[3]} of asset {key[1]} at {key[2].isoformat()}: {have}, entries say {want}")
    return problems
