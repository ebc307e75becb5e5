"""Engine tests on a real database: SQLite, and PostgreSQL too when TEST_POSTGRES_URL is set.

`fresh_db` is an empty database, `db` an upgraded one with a connection open for the test's
thread, `queue` the SqlHuey queue on it, and `world` a small organisation (tests/engine/world.py).
"""

from __future__ import annotations

import pytest

from engine.queue import configure_queue, reset_queue
from engine.store.migrations import upgrade
from engine.worker.tasks import register_task_bodies
from tests.databases import BACKENDS, close_database, open_database
from tests.engine.consumer import FAST
from tests.engine.world import World


@pytest.fixture(params=BACKENDS)
def fresh_db(request, tmp_path):
    """A database with no schema yet."""
    db = open_database(request.param, tmp_path)
    yield db
    close_database(db)


@pytest.fixture
def db(fresh_db):
    """An upgraded database with an open connection for the test's thread; the queue a test
    configured on it is forgotten afterwards."""
    upgrade(fresh_db)
    with fresh_db.connection_context():
        yield fresh_db
    reset_queue()


@pytest.fixture
def queue(db):
    """The queue, with the worker's task bodies registered in this process (drains run them)."""
    register_task_bodies()
    return configure_queue(db, None, FAST)


@pytest.fixture
def pts_scale() -> int:
    """The scale of the world's PTS: cents here; a directory's conftest may say otherwise."""
    return 2


@pytest.fixture
def world(db, pts_scale):
    return World(pts_scale=pts_scale)
