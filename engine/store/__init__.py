"""Storage: peewee models on SQLite or PostgreSQL, schema upgrades, and the double-entry ledger.

    db, fields, statements   the database, exact column types, hot statements built once
    models/, migrations      the tables, and the schema steps `accrual db upgrade` applies
    context                  what evaluating one stored event needs (participants resolved)
    effects, applier         writing an evaluation's result in one transaction
    followups                the SYSTEM events of SCHEDULE_EVENT and BROADCAST
    lanes                    which event of a participant a worker may claim next
    ledger/                  accounts, journal, movements, holds, maturity, `accrual verify`
    catalog, tier_types      programs, assets, rules and tier types; the `Bundle` rebuilt
    programs, budgets        a program's compiled version; budget periods
    participants, owner_state, operations, lookups
                             participants, their state, direct balance operations, lookups
    checkpoint               SQLite WAL checkpoints off the writers' path

The pure core (`engine.model`, `engine.rules`, `engine.evaluator`) never sees peewee; the queue,
the worker, the command line and the API use it beside this package. Entry points: `db.connect`,
`migrations.upgrade`, `effects.post_event_effects`, `context.load_event_context`,
`operations.*`, `ledger.verify.verify`.
"""
