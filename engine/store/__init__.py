"""Storage: peewee models on SQLite or PostgreSQL, schema upgrades, and the double-entry ledger.

The only package that imports peewee. Entry points: `db.connect`, `migrations.upgrade`,
`effects.post_event_effects`, `context.load_event_context`, `operations.*`, `verify.verify`.
"""
