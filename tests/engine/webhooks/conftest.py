"""Webhook tests share the worker tests' database, queue and organisation."""

from tests.engine.worker.conftest import db, queue, world  # noqa: F401 - fixtures
