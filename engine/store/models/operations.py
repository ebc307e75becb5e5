"""Tables of reports and operations: the ledger's hourly rollup and the API's request logs.

    ledger_rollup       per (organisation, program, asset, hour, category): the signed change of
                        members' holdings made by the organisation's entries up to its watermark
    ledger_rollup_head  per organisation: the last journal sequence folded into the rollup
    request_log         one API request of an organisation, its bodies redacted (A189)

The rollup is derived from the journal, never written by anything but the fold
(`engine/store/reports/rollup.py`), and checked against the journal by `accrual verify`.
"""

from __future__ import annotations

import peewee

from engine.store.db import utcnow
from engine.store.fields import AmountField, UTCDateTimeField
from engine.store.models.core import BaseModel, Organisation


class LedgerRollup(BaseModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    organisation_id: peewee.Field[str]
    program_id = peewee.CharField(max_length=36, default="")
    asset_id = peewee.CharField(max_length=36)
    hour = UTCDateTimeField()  # the start of the UTC hour of the entries' ids (UUIDv7 time)
    category = peewee.CharField(max_length=16)  # issued redeemed expired forfeited adjusted
    amount = AmountField(default=0)  # the members' signed change

    class Meta:
        table_name = "ledger_rollup"
        indexes = ((("organisation", "hour", "program_id", "asset_id", "category"), True),)


class LedgerRollupHead(BaseModel):
    """`id` is the organisation id; `sequence` the last journal sequence the rollup holds."""

    sequence = peewee.BigIntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "ledger_rollup_head"


class RequestLog(BaseModel):
    """`id` is a UUIDv7 (ordering by id is ordering by time); `request_id` is `req_` + 26
    characters, the value of the response's `X-Request-Id` header, made from the id (A267).
    Three indexes and no more, each written at its end: the id, (organisation, id), which also
    serves the organisation's foreign key, and the request id."""

    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE", index=False)
    organisation_id: peewee.Field[str]
    request_id = peewee.CharField(max_length=40)
    method = peewee.CharField(max_length=10)
    path = peewee.CharField(max_length=2048)
    route_pattern = peewee.CharField(max_length=255, null=True)
    status_code = peewee.SmallIntegerField()
    duration_ms = peewee.FloatField()
    auth_type = peewee.CharField(max_length=16, default="api_key")
    api_key_id = peewee.CharField(max_length=36, null=True)
    error_code = peewee.CharField(max_length=64, null=True)
    ip_address = peewee.CharField(max_length=64, null=True)
    user_agent = peewee.CharField(max_length=512, null=True)
    request_body = peewee.TextField(null=True)
    response_body = peewee.TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "request_log"
        indexes = ((("organisation", "id"), False), (("request_id",), False))
