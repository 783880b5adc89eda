"""CHORUS_SYNC_* and the offline rules built from them; the worker prunes sync state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.reservations import OfflineRules
from entrypoints.rules import offline_rules
from entrypoints.settings import Environment, SettingsError, load_settings


def test_defaults_reserve_for_a_day_and_remember_operations_a_month():
    settings = load_settings({}, environment=Environment.TEST)
    assert offline_rules(settings) == OfflineRules(timedelta(hours=24), 200)
    assert settings.sync_op_retention_days == 30


def test_they_can_be_set():
    settings = load_settings(
        {
            "CHORUS_SYNC_RESERVATION_HOURS": "48",
            "CHORUS_SYNC_MAX_RESERVED_CLIPS": "50",
            "CHORUS_SYNC_OP_RETENTION_DAYS": "90",
        },
        environment=Environment.TEST,
    )
    assert offline_rules(settings) == OfflineRules(timedelta(hours=48), 50)
    assert settings.sync_op_retention_days == 90


def test_operations_are_never_forgotten_before_30_days():
    with pytest.raises(SettingsError) as error:
        load_settings(
            {"CHORUS_SYNC_OP_RETENTION_DAYS": "7", "CHORUS_SYNC_RESERVATION_HOURS": "0"},
            environment=Environment.TEST,
        )
    assert [p.split(":")[0] for p in error.value.problems] == [
        "CHORUS_SYNC_RESERVATION_HOURS",
        "CHORUS_SYNC_OP_RETENTION_DAYS",
    ]
