"""Shared fixtures. Snapshots live under the top-level `snapshots/`, mirroring `tests/`."""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.amber import AmberSnapshotExtension
from syrupy.extensions.json import JSONSnapshotExtension
from syrupy.location import PyTestLocation

ROOT = Path(__file__).resolve().parent.parent
TESTS, SNAPSHOTS = ROOT / "tests", ROOT / "snapshots"


def _mirror(location: PyTestLocation) -> Path:
    """tests/a/b/test_x.py -> snapshots/a/b/"""
    return SNAPSHOTS / Path(location.filepath).resolve().parent.relative_to(TESTS)


class TopLevelAmber(AmberSnapshotExtension):
    """One `.ambr` file per test module: snapshots/<sub>/test_x.ambr."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(_mirror(test_location))


class TopLevelJSON(JSONSnapshotExtension):
    """One JSON file per assertion: snapshots/<sub>/test_x/<test_name>.json."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(_mirror(test_location) / test_location.basename)


@pytest.fixture
def snapshot(snapshot):
    return snapshot.use_extension(TopLevelAmber)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(TopLevelJSON)
