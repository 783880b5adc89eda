"""Payout settings: the sandbox gateway is for development only; amounts per currency."""

from __future__ import annotations

import pytest

from core.domain.payouts import DestinationKind
from core.errors import FeatureUnavailable
from entrypoints.payouts import make_payout_gateways, payout_rules
from entrypoints.settings import Environment, SettingsError, load_settings

PRODUCTION = {"SUPABASE_JWT_SECRET": "x" * 40}


def test_the_sandbox_is_refused_in_production():
    with pytest.raises(SettingsError) as refused:
        load_settings({**PRODUCTION, "CHORUS_PAYOUT_PROVIDER": "sandbox"})
    assert any("sandbox" in problem for problem in refused.value.problems)


def test_development_without_a_paystack_key_uses_the_sandbox():
    settings = load_settings({}, environment=Environment.DEVELOPMENT)
    assert settings.payouts.provider == "sandbox"
    gateways = make_payout_gateways(settings)
    assert gateways.for_kind(DestinationKind.BANK_ACCOUNT).provider == "sandbox"


def test_production_without_keys_disables_payouts_without_crashing():
    gateways = make_payout_gateways(load_settings(PRODUCTION))
    with pytest.raises(FeatureUnavailable) as unavailable:
        gateways.for_kind(DestinationKind.BANK_ACCOUNT)
    assert unavailable.value.code == "payouts_unavailable"


def test_minimums_and_caps_per_currency():
    settings = load_settings(
        {
            **PRODUCTION,
            "CHORUS_PAYOUT_MINIMUM_MINOR": "ngn:100, GHS:5",
            "CHORUS_PAYOUT_DAILY_CAP_MINOR": "NGN:1000",
        }
    )
    rules = payout_rules(settings)
    assert (rules.minimums["NGN"], rules.minimums["GHS"], rules.minimums["USD"]) == (100, 5, 500)
    assert rules.daily_caps["NGN"] == 1000
    for bad in ("NGN", "XYZ:5", "NGN:-1", "NGN:0"):
        with pytest.raises(SettingsError):
            load_settings({**PRODUCTION, "CHORUS_PAYOUT_MINIMUM_MINOR": bad})


def test_settings_built_by_hand_never_get_a_sandbox_in_production():
    from dataclasses import replace

    dev = load_settings({}, environment=Environment.DEVELOPMENT)
    gateways = make_payout_gateways(replace(dev, environment=Environment.PRODUCTION))
    with pytest.raises(FeatureUnavailable):
        gateways.for_kind(DestinationKind.BANK_ACCOUNT)
