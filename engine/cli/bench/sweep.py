"""`accrual bench sweep`: lots expired per second by the scheduler's sweep (`settle_due_lots`: each
expiry a journal entry of its own, with its postings, its place in the hash chain, a lot_take row
and the balances), beside a hand-written `UPDATE lot SET status = 'EXPIRED', remaining = 0` of the
same rows in the same run: the floor, rows changed and nothing else.

    >>> print("\\n".join(render(measure(lots=20_000, per_holder=1))))

The lots are credited through the ledger before the clock starts (`build_expiring_lots`, which the
sweep's real-process tests use too), all expiring at one moment; the sweep then runs as `accrual
sweep --until` does, batch after batch until nothing is due, and `accrual verify` checks the
result. The reference then opens the same rows again and expires them with one UPDATE. Each
backend runs in a scratch place: a temporary SQLite file, and a throwaway PostgreSQL schema
(`accrual_bench`, dropped afterwards) when a PostgreSQL URL is given.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from engine.store.db import close_all, connect, new_id, utcnow, write_transaction
from engine.store.ledger import movements
from engine.store.ledger.journal import Ledger
from engine.store.ledger.movements import Entity
from engine.store.ledger.verify import verify
from engine.store.migrations import upgrade
from engine.store.models import Asset, LotRecord, Organisation, Participant, Program, ProgramAsset
from engine.store.sweeps import settle_due_lots

BENCH_SCHEMA = "accrual_bench"
LOTS_PER_TRANSACTION = 2000  # credits of the setup per transaction
SWEEP_LIMIT = 500  # holders per `settle_due_lots` call, as the scheduler asks
EARNED_AT = datetime(2026, 1, 1, tzinfo=UTC)
EXPIRES_AT = EARNED_AT + timedelta(days=365)


@dataclass(frozen=True)
class Figure:
    backend: str
    lots: int
    holders: int
    setup_s: float  # crediting the lots through the ledger
    sweep_s: float
    update_s: float  # the reference: one UPDATE of the same rows
    verified: bool

    @property
    def expired_per_second(self) -> float:
        return self.lots / self.sweep_s

    @property
    def updated_per_second(self) -> float:
        return self.lots / self.update_s

    @property
    def ratio(self) -> float:
        return self.expired_per_second / self.updated_per_second


@dataclass(frozen=True)
class ExpiringLots:
    organisation_id: str
    program_id: str
    asset_id: str
    participant_ids: list[str]


def build_expiring_lots(
    holders: int,
    per_holder: int,
    *,
    earned_at: datetime = EARNED_AT,
    expires_at: datetime = EXPIRES_AT,
    amount: Decimal = Decimal(10),
) -> ExpiringLots:
    """An organisation with one program, one LOT asset and `holders` participants, each credited
    `per_holder` lots of `amount` through the ledger (earned a second apart from `earned_at`), all
    expiring at `expires_at`; about `LOTS_PER_TRANSACTION` credits per transaction."""
    org = Organisation.create(name=f"sweep-{new_id()}")
    program = Program.create(organisation=org, key="sweep", name="Sweep")
    asset = Asset.create(organisation=org, symbol="MILES", name="Miles", scale=0, inventory_mode="LOT")
    ProgramAsset.create(program=program, asset=asset)
    now = utcnow()
    ids = [new_id() for _ in range(holders)]
    people = [
        {"id": ids[n], "organisation": org.id, "external_id": f"p{n}", "created_at": now, "updated_at": now}
        for n in range(holders)
    ]
    with write_transaction():
        for start in range(0, holders, 500):
            Participant.insert_many(people[start : start + 500]).execute()
    step = max(1, LOTS_PER_TRANSACTION // per_holder)
    for start in range(0, holders, step):
        with write_transaction():
            ledger = Ledger(org.id)
            for participant_id in ids[start : start + step]:
                for n in range(per_holder):
                    movements.credit(
                        ledger,
                        asset,
                        program.id,
                        Entity("PARTICIPANT", participant_id),
                        amount,
                        as_of=earned_at + timedelta(seconds=n),
                        expires_at=expires_at,
                        description="earned",
                    )
            ledger.finish()
    return ExpiringLots(org.id, program.id, asset.id, ids)


def sweep_all(now: datetime, limit: int = SWEEP_LIMIT) -> int:
    """Settle everything due at `now`, as `accrual sweep --until` does; returns the lots settled."""
    settled = 0
    while True:
        swept = settle_due_lots(now, limit)
        settled += len(swept.settled)
        if swept.holders < limit:
            return settled


def measure(lots: int, per_holder: int = 1, postgres_url: str | None = None) -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as scratch:
        figures.append(_run("sqlite", f"sqlite:///{Path(scratch) / 'bench.db'}", lots, per_holder))
    if postgres_url:
        with scratch_schema(postgres_url) as url:
            figures.append(_run("postgresql", url, lots, per_holder))
    return figures


def render(figures: list[Figure]) -> list[str]:
    lines = [
        (
            f"{'database':<10} {'lots':>7} {'holders':>7} {'setup s':>8} {'sweep s':>8} {'expired/s':>10} "
            f"{'UPDATE rows/s':>14} {'ratio':>7}  verify"
        )
    ]
    for f in figures:
        lines.append(
            f"{f.backend:<10} {f.lots:>7} {f.holders:>7} {f.setup_s:>8.1f} {f.sweep_s:>8.1f} "
            f"{f.expired_per_second:>10,.0f} {f.updated_per_second:>14,.0f} {f.ratio:>7.4f}  "
            f"{'ok' if f.verified else 'MISMATCH'}"
        )
    lines.append("sweep: settle_due_lots, one EXPIRY entry (postings, hash chain, lot_take, balances) per lot;")
    lines.append("UPDATE: one hand-written UPDATE of the same rows to EXPIRED, in one transaction")
    return lines


@contextlib.contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """The PostgreSQL `url` with its search path on a new empty schema, dropped afterwards."""
    admin = connect(url)
    with admin.connection_context():
        admin.execute_sql(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE; CREATE SCHEMA {BENCH_SCHEMA}")
    close_all(admin)
    joiner = "&" if "?" in url else "?"
    try:
        yield f"{url}{joiner}options={quote(f'-csearch_path={BENCH_SCHEMA}')}"
    finally:
        admin = connect(url)
        with admin.connection_context():
            admin.execute_sql(f"DROP SCHEMA IF EXISTS {BENCH_SCHEMA} CASCADE")
        close_all(admin)


def _run(backend: str, url: str, lots: int, per_holder: int) -> Figure:
    db = connect(url)
    upgrade(db)
    holders = max(1, lots // per_holder)
    try:
        with db.connection_context():
            started = time.perf_counter()
            built = build_expiring_lots(holders, per_holder)
            setup_s = time.perf_counter() - started
            started = time.perf_counter()
            settled = sweep_all(EXPIRES_AT)
            sweep_s = time.perf_counter() - started
            if settled != holders * per_holder:
                raise RuntimeError(f"the sweep settled {settled} of {holders * per_holder} lots")
            verified = verify().ok
            update_s = _reference_update(db, built.asset_id, holders * per_holder)
    finally:
        close_all(db)
    return Figure(backend, holders * per_holder, holders, setup_s, sweep_s, update_s, verified)


def _reference_update(db, asset_id: str, lots: int) -> float:
    """Open the swept lots again (untimed), then time one UPDATE expiring them all."""
    p = db.param
    zero = LotRecord.remaining.db_value(Decimal(0))
    with write_transaction(db):
        db.execute_sql(f"UPDATE lot SET status = 'AVAILABLE', remaining = amount WHERE asset_id = {p}", (asset_id,))
    started = time.perf_counter()
    with write_transaction(db):
        cursor = db.execute_sql(
            f"UPDATE lot SET status = 'EXPIRED', remaining = {p}, updated_at = {p} "
            f"WHERE asset_id = {p} AND status IN ('DEFERRED', 'AVAILABLE', 'HELD') AND expires_at <= {p}",
            (zero, LotRecord.updated_at.db_value(utcnow()), asset_id, LotRecord.expires_at.db_value(EXPIRES_AT)),
        )
    elapsed = time.perf_counter() - started
    if cursor.rowcount != lots:
        raise RuntimeError(f"the reference UPDATE changed {cursor.rowcount} of {lots} rows")
    return elapsed
