"""Domain configuration built from settings."""

from __future__ import annotations

from datetime import timedelta

from core.domain.accuracy import AccuracyConfig
from core.domain.consensus import ConsensusConfig, policy_named
from core.domain.rewards import RewardRules
from core.domain.validation import ValidationRules
from entrypoints.settings import Settings


def validation_rules(settings: Settings) -> ValidationRules:
    consensus = ConsensusConfig(
        accept_threshold=settings.consensus_accept_threshold,
        reject_threshold=settings.consensus_reject_threshold,
        vote_cap=settings.vote_cap,
    )
    return ValidationRules(
        policy=policy_named(settings.consensus_policy, consensus),
        accuracy=AccuracyConfig(
            probation_floor=max(0.5, settings.probation_floor),
            probation_min_gold_answers=settings.probation_min_gold_answers,
        ),
        gold_rate=settings.gold_rate,
    )


def reward_rules(settings: Settings) -> RewardRules:
    return RewardRules(
        currency=settings.reward_currency,
        holding=timedelta(hours=settings.reward_holding_hours),
    )
