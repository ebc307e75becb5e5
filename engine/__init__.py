"""Rules as data, the pure evaluator, the ledger, storage and the worker.

The pure modules know nothing of Peewee or Huey; only the storage and worker modules do.
"""
