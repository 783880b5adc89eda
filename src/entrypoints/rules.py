"""Domain configuration built from settings."""

from __future__ import annotations

from datetime import timedelta

from core.domain.accuracy import AccuracyConfig
from core.domain.consensus import ConsensusConfig, policy_named
from core.domain.fraud import FraudRules
from core.domain.reservations import OfflineRules
from core.domain.rewards import RewardRules
from core.domain.validation import ValidationRules
from entrypoints.settings import Settings


def validation_rules(settings: Settings) -> ValidationRules:
    consensus = ConsensusConfig(
        accept_threshold=settings.consensus_accept_threshold,
        reject_threshold=settings.consensus_reject_threshold,
        vote_cap=settings.vote_cap,
        dispute_band=settings.consensus_dispute_band,
        require_established=settings.consensus_established_gold_answers > 0,
    )
    return ValidationRules(
        policy=policy_named(settings.consensus_policy, consensus),
        accuracy=AccuracyConfig(
            probation_floor=max(0.5, settings.probation_floor),
            probation_min_gold_answers=settings.probation_min_gold_answers,
            established_gold_answers=settings.consensus_established_gold_answers,
        ),
        gold_rate=settings.gold_rate,
        newcomer_gold_rate=settings.newcomer_gold_rate,
        newcomer_gold_answers=settings.newcomer_gold_answers,
        junk_informedness=settings.gold_only_below_informedness,
        min_listen_fraction=settings.min_listen_fraction,
    )


def reward_rules(settings: Settings) -> RewardRules:
    return RewardRules(
        currency=settings.reward_currency,
        holding=timedelta(hours=settings.reward_holding_hours),
        daily_cap_minor=settings.moderation.daily_earnings_caps.get(settings.reward_currency),
    )


def fraud_rules(settings: Settings) -> FraudRules:
    return FraudRules(
        uploads_per_hour=settings.moderation.uploads_per_hour,
        votes_per_hour=settings.moderation.votes_per_hour,
    )


def offline_rules(settings: Settings) -> OfflineRules:
    return OfflineRules(
        reservation_ttl=timedelta(hours=settings.sync_reservation_hours),
        max_reserved=settings.sync_max_reserved_clips,
    )
