"""Worker settings from the environment: defaults, overrides, and coded errors."""

from __future__ import annotations

import pytest

from engine.settings import WorkerSettingError, WorkerSettings


def test_defaults_follow_the_decisions():
    settings = WorkerSettings.from_env({})
    assert settings.event_retry_delays_s == (2, 4, 8, 16, 32)
    assert settings.event_max_attempts == 6
    assert settings.webhook_max_attempts == 8
    assert not settings.webhooks_allow_private
    assert settings.request_log_retention_days == 30


def test_overrides():
    settings = WorkerSettings.from_env(
        {
            "ACCRUAL_EVENT_RETRY_DELAYS": "0, 0",
            "ACCRUAL_EVENT_LEASE_S": "2.5",
            "ACCRUAL_WEBHOOK_RETRY_DELAYS": "0,0,0",
            "ACCRUAL_WEBHOOKS_ALLOW_PRIVATE": "1",
            "ACCRUAL_REQUEST_LOG_RETENTION_DAYS": "7.5",
        }
    )
    assert settings.request_log_retention_days == 7.5
    assert settings.event_retry_delays_s == (0, 0) and settings.event_max_attempts == 3
    assert settings.event_lease_s == 2.5
    assert settings.webhook_max_attempts == 4
    assert settings.webhooks_allow_private


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACCRUAL_EVENT_LEASE_S", "soon"),
        ("ACCRUAL_EVENT_LEASE_S", "-1"),
        ("ACCRUAL_EVENT_RETRY_DELAYS", "1,,2"),
        ("ACCRUAL_EVENT_RETRY_DELAYS", ",".join(["1"] * 21)),
        ("ACCRUAL_WEBHOOKS_ALLOW_PRIVATE", "maybe"),
        ("ACCRUAL_REQUEST_LOG_RETENTION_DAYS", "0"),
        ("ACCRUAL_REQUEST_LOG_RETENTION_DAYS", "forever"),
    ],
)
def test_invalid_values_are_coded_errors(name, value):
    with pytest.raises(WorkerSettingError) as info:
        WorkerSettings.from_env({name: value})
    assert info.value.code == "worker_setting_invalid"
    assert info.value.details["variable"] == name
