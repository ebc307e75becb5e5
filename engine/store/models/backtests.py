"""Backtests asked for through the API (D36): what was asked, how far the run has come, and the
difference it found. The run itself reads the history and writes only this row."""

from __future__ import annotations

import peewee

from engine.store.fields import JSONField, UTCDateTimeField
from engine.store.models.core import Organisation, Program, Timestamped


class BacktestRun(Timestamped):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program = peewee.ForeignKeyField(Program, on_delete="CASCADE")
    program_id: peewee.Field[str]
    status = peewee.CharField(max_length=16, default="PENDING")  # PENDING RUNNING COMPLETED FAILED
    candidate = peewee.TextField()  # the candidate bundle's YAML, as given
    against = peewee.TextField(null=True)  # the baseline bundle's YAML; null: the program as applied
    window_from = UTCDateTimeField(null=True)
    window_to = UTCDateTimeField(null=True)
    last = peewee.IntegerField(null=True)
    sample = peewee.IntegerField(default=20)
    done = peewee.IntegerField(default=0)  # events replayed
    total = peewee.IntegerField(null=True)  # events in the window, once known
    result = JSONField(null=True)  # the difference, as `accrual backtest --json` prints it
    error_code = peewee.CharField(max_length=64, null=True)
    error_message = peewee.TextField(null=True)
    completed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "backtest_run"
        indexes = ((("organisation", "program", "id"), False),)
