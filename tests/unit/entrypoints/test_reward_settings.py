"""CHORUS_REWARD_CURRENCY, CHORUS_REWARD_HOLDING_HOURS and CHORUS_DAILY_EARNINGS_CAP_MINOR, and
the rules built from them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain.rewards import RewardRules
from core.errors import InvalidInput
from entrypoints.rules import reward_rules
from entrypoints.settings import Environment, SettingsError, load_settings


def test_defaults_pay_in_naira_after_72_hours_at_most_20000_naira_a_day():
    rules = reward_rules(load_settings({}, environment=Environment.TEST))
    assert rules == RewardRules("NGN", timedelta(hours=72), daily_cap_minor=2_000_000)


def test_all_can_be_set():
    settings = load_settings(
        {
            "CHORUS_REWARD_CURRENCY": "ghs",
            "CHORUS_REWARD_HOLDING_HOURS": "0",
            "CHORUS_DAILY_EARNINGS_CAP_MINOR": "GHS:5000,NGN:1",
        },
        environment=Environment.TEST,
    )
    assert reward_rules(settings) == RewardRules("GHS", timedelta(0), daily_cap_minor=5000)


def test_the_cap_can_be_switched_off_or_left_out_for_the_reward_currency():
    for value in ("off", "NGN:100"):
        settings = load_settings(
            {"CHORUS_REWARD_CURRENCY": "USD", "CHORUS_DAILY_EARNINGS_CAP_MINOR": value},
            environment=Environment.TEST,
        )
        assert reward_rules(settings).daily_cap is None


def test_a_bad_cap_is_reported():
    with pytest.raises(SettingsError) as error:
        load_settings({"CHORUS_DAILY_EARNINGS_CAP_MINOR": "NGN:-5"}, environment=Environment.TEST)
    assert [p.split(":")[0] for p in error.value.problems] == ["CHORUS_DAILY_EARNINGS_CAP_MINOR"]


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
    with pytest.raises(InvalidInput):
        RewardRules("NGN", daily_cap_minor=0)
    assert RewardRules("usd").currency == "USD"
