"""CHORUS_REWARD_CURRENCY and CHORUS_REWARD_HOLDING_HOURS, and the rules built from them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.rewards import RewardRules
from core.errors import InvalidInput
from entrypoints.rules import reward_rules
from entrypoints.settings import Environment, SettingsError, load_settings


def test_defaults_pay_in_naira_after_72_hours():
    rules = reward_rules(load_settings({}, environment=Environment.TEST))
    assert rules == RewardRules("NGN", timedelta(hours=72))


def test_both_can_be_set():
    settings = load_settings(
        {"CHORUS_REWARD_CURRENCY": "ghs", "CHORUS_REWARD_HOLDING_HOURS": "0"},
        environment=Environment.TEST,
    )
    assert reward_rules(settings) == RewardRules("GHS", timedelta(0))


def test_bad_values_are_each_reported():
    with pytest.raises(SettingsError) as error:
        load_settings(
            {"CHORUS_REWARD_CURRENCY": "EUR", "CHORUS_REWARD_HOLDING_HOURS": "-1"},
            environment=Environment.TEST,
        )
    assert [p.split(":")[0] for p in error.value.problems] == [
        "CHORUS_REWARD_CURRENCY",
        "CHORUS_REWARD_HOLDING_HOURS",
    ]


def test_the_rules_refuse_what_settings_would_never_give():
    with pytest.raises(InvalidInput):
        RewardRules("XYZ")
    with pytest.raises(InvalidInput):
        RewardRules("NGN", timedelta(hours=-1))
    assert RewardRules("usd").currency == "USD"
