"""Every file under snapshots/ belongs to a test module that still exists.

syrupy reports unused snapshots of modules it collects, but not of a deleted test directory.
"""

from tests.conftest import SNAPSHOTS, TESTS


def test_no_orphan_snapshot_files():
    orphans = []
    for path in SNAPSHOTS.rglob("*"):
        if not path.is_file() or path.name == ".gitkeep":
            continue
        relative = path.relative_to(SNAPSHOTS)
        module = relative.with_suffix(".py") if path.suffix == ".ambr" else relative.parent.with_suffix(".py")
        if not (TESTS / module).exists():
            orphans.append(str(relative))
    assert not orphans, f"orphan snapshot files: {orphans}"
