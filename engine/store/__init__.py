"""Storage: peewee models on SQLite or PostgreSQL, schema upgrades, and the double-entry ledger.

The pure core (`engine.model`, `engine.rules`, `engine.evaluator`) never sees peewee; the queue,
the worker, the command line and the API use it beside this package. Entry points: `db.connect`,
`migrations.upgrade`, `effects.post_event_effects`, `context.load_event_context`,
`operations.*`, `ledger.verify.verify`.
"""
