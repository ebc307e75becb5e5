"""`accrual worker` refuses a database without the current schema, with a clear message."""

from __future__ import annotations

from click.testing import CliRunner

from engine.cli import main
from engine.queue import reset_queue


def test_worker_refuses_a_database_that_was_not_upgraded(tmp_path):
    result = CliRunner().invoke(main, ["worker", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"])
    reset_queue()
    assert result.exit_code == 1
    assert "schema_not_current" in result.output and "accrual db upgrade" in result.output


def test_worker_reports_an_invalid_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("ACCRUAL_EVENT_LEASE_S", "forever")
    result = CliRunner().invoke(main, ["worker", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1 and "worker_setting_invalid" in result.output
