"""Votes as stored, the rules that govern validation, and how decided clips score their
validators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from core.domain.accuracy import DEFAULT_GOLD_RATE, AccuracyConfig, ValidatorAccuracy
from core.domain.clips import Clip, ClipStatus, Verdict, VoteOutcome
from core.domain.consensus import ConsensusPolicy, WeightedPolicy
from core.domain.events import DomainEvent
from core.errors import InvalidInput

MAX_QUEUE_PAGE = 50


@dataclass(frozen=True, slots=True)
class ValidationRules:
    """Everything configurable about validation, in one value the use cases share."""

    policy: ConsensusPolicy = field(default_factory=WeightedPolicy)
    accuracy: AccuracyConfig = field(default_factory=AccuracyConfig)
    gold_rate: float = DEFAULT_GOLD_RATE

    def __post_init__(self) -> None:
        if not 0.0 <= self.gold_rate < 1.0:
            raise InvalidInput("The gold rate must lie in [0, 1).", code="invalid_config")


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One stored vote, with the validator's standing snapshot and what the vote did."""

    id: UUID
    clip_id: UUID
    validator_id: UUID
    verdict: Verdict
    outcome: VoteOutcome
    accuracy: float
    on_probation: bool
    created_at: datetime


def accuracy_deltas_for_settled_clip(
    votes: Iterable[VoteRecord], status: ClipStatus
) -> Mapping[UUID, ValidatorAccuracy]:
    """When a clip is decided every vote on it — counted, ignored or the deciding one —
    teaches its validator's accuracy something (nothing for ``disputed``)."""
    deltas: dict[UUID, ValidatorAccuracy] = {}
    for vote in votes:
        before = deltas.get(vote.validator_id, ValidatorAccuracy())
        deltas[vote.validator_id] = before.after_settled_clip(vote.verdict, status)
    return {k: v for k, v in deltas.items() if v != ValidatorAccuracy()}


def gold_slots(page_size: int, gold_rate: float, draw: float) -> int:
    """How many gold clips a page of ``page_size`` carries: the expected share, with the
    fractional part decided by ``draw`` in [0, 1), so small pages still get gold sometimes."""
    expected = page_size * gold_rate
    whole = int(expected)
    return min(page_size, whole + (1 if draw < expected - whole else 0))


def clip_decided(
    event_id: UUID,
    clip: Clip,
    status: ClipStatus,
    votes: Iterable[VoteRecord],
    decided_at: datetime,
    decided_by: str = "consensus",
) -> DomainEvent:
    """The ``clip.decided`` event: what rewards, notifications and badges react to."""
    return DomainEvent(
        id=event_id,
        name="clip.decided",
        occurred_at=decided_at,
        payload={
            "clipId": str(clip.id),
            "contributorId": str(clip.contributor_id),
            "status": status.value,
            "language": clip.language,
            "decidedAt": decided_at.isoformat(),
            "decidedBy": decided_by,
            "votes": [
                {
                    "validatorId": str(vote.validator_id),
                    "verdict": vote.verdict.value,
                    "outcome": vote.outcome.value,
                    "onProbation": vote.on_probation,
                }
                for vote in votes
            ],
        },
    )
