from __future__ import annotations

import pytest

from engine.store.shared_reads import remembered, sharing_reads


def test_a_read_runs_once_per_block_and_every_time_outside_one():
    loads: list[str] = []

    def load() -> str:
        loads.append("x")
        return f"value {len(loads)}"

    assert remembered("k", load) == "value 1" and remembered("k", load) == "value 2"
    with sharing_reads():
        assert remembered("k", load) == remembered("k", load) == "value 3"
        assert remembered("other", load) == "value 4"
    with sharing_reads():  # a new group reads afresh
        assert remembered("k", load) == "value 5"
    assert len(loads) == 5


def test_a_failed_load_is_not_remembered():
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("database busy")
        return 7

    with sharing_reads():
        with pytest.raises(RuntimeError, match="busy"):
            remembered("k", flaky)
        assert remembered("k", flaky) == 7 and remembered("k", flaky) == 7
    assert len(attempts) == 2
