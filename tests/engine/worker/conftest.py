"""Worker tests count whole points: their world's PTS has scale 0 (balances read "5", not "5.00")."""

from __future__ import annotations

import pytest


@pytest.fixture
def pts_scale() -> int:
    return 0
