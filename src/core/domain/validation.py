"""Votes as stored, the rules that govern validation, which votes are admissible, how much
gold a validator is served, and what a settled clip teaches its voters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from core.domain.accuracy import (
    DEFAULT_GOLD_RATE,
    AccuracyConfig,
    ValidatorAccuracy,
    ValidatorStanding,
)
from core.domain.clips import Clip, ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import ConsensusPolicy, DawidSkenePolicy
from core.domain.dawid_skene import sigmoid
from core.domain.events import DomainEvent
from core.domain.reservations import ReservedSlots, has_free_slot, listened_until
from core.errors import InvalidInput

MAX_QUEUE_PAGE = 50


@dataclass(frozen=True, slots=True)
class ValidationRules:
    """Everything configurable about validation, in one value the use cases share.

    Gold serving: a validator on probation, and one past the newcomer sample whose
    informedness s + p − 1 is under ``junk_informedness``, is served gold only until it
    recovers (their votes on pending clips would weigh nothing); a newcomer (fewer than
    ``newcomer_gold_answers`` gold answers) is served ``newcomer_gold_rate`` gold, everyone
    else ``gold_rate``; a ``gold_rate`` of 0 turns gold serving off for newcomers too. A vote
    sent sooner than ``min_listen_fraction`` of the clip's duration after the clip was served
    is ``too_fast``."""

    policy: ConsensusPolicy = field(default_factory=DawidSkenePolicy)
    accuracy: AccuracyConfig = field(default_factory=AccuracyConfig)
    gold_rate: float = DEFAULT_GOLD_RATE
    newcomer_gold_rate: float = 0.3
    newcomer_gold_answers: int = 5
    junk_informedness: float = 0.2
    min_listen_fraction: float = 0.8

    def __post_init__(self) -> None:
        if not (0.0 <= self.gold_rate < 1.0 and 0.0 <= self.newcomer_gold_rate < 1.0):
            raise InvalidInput("Gold rates must lie in [0, 1).", code="invalid_config")
        if self.newcomer_gold_answers < 0:
            raise InvalidInput("newcomer_gold_answers must be ≥ 0.", code="invalid_config")
        if not -1.0 <= self.junk_informedness <= 1.0:
            raise InvalidInput("junk_informedness must lie in [−1, 1].", code="invalid_config")
        if not 0.0 <= self.min_listen_fraction <= 2.0:
            raise InvalidInput("min_listen_fraction must lie in [0, 2].", code="invalid_config")

    def gold_serving(self, standing: ValidatorStanding) -> GoldServing:
        """How much gold this validator's next page carries."""
        if standing.on_probation:
            return GoldServing(1.0, only_gold=True)
        if self.gold_rate == 0.0:
            return GoldServing(0.0, only_gold=False)  # gold serving is off
        if standing.gold_answers < self.newcomer_gold_answers:
            return GoldServing(self.newcomer_gold_rate, only_gold=False)
        if standing.reliability.informedness < self.junk_informedness:
            return GoldServing(1.0, only_gold=True)
        return GoldServing(self.gold_rate, only_gold=False)


@dataclass(frozen=True, slots=True)
class GoldServing:
    """The share of a page that is gold; ``only_gold`` pages carry nothing else (and may come
    back short)."""

    share: float
    only_gold: bool


@dataclass(frozen=True, slots=True)
class Serving:
    """A clip handed to a validator by the queue (or an offline batch), when it was first
    handed over. Only pending clips and gold clips are ever served."""

    validator_id: UUID
    clip_id: UUID
    served_at: datetime


def heard_in_time(
    serving: Serving, duration_ms: int, now: datetime, min_listen_fraction: float
) -> bool:
    """Whether ``min_listen_fraction`` of the clip's duration passed since it was served."""
    listening = timedelta(milliseconds=duration_ms * min_listen_fraction)
    return now - serving.served_at >= listening


@dataclass(frozen=True, slots=True)
class Admission:
    """Why a vote cannot count (``barred``; ``None`` when it can), and the validator's new
    listening clock when the vote is within its reservation and was heard in time."""

    barred: VoteOutcome | None = None
    listened_until: datetime | None = None


def admit_vote(
    *,
    tally: ClipTally,
    settled: bool,
    serving: Serving | None,
    slots: ReservedSlots,
    clock: datetime | None,
    duration_ms: int,
    now: datetime,
    rules: ValidationRules,
) -> Admission:
    """Which votes may count. ``tally`` is the clip's pending tally (a gold clip's shadow),
    ``settled`` whether it settled since the voter was served it, ``clock`` the voter's
    listening clock (read only when ``slots.own`` holds).

    Within a holding reservation: ``too_fast`` if the listening clock it would set is still
    ahead of ``now``; else ``late_reserved`` if settled meanwhile; else it counts (its slot
    was kept). Otherwise: ``unsolicited`` if never served, ``late`` if settled, ``too_fast``
    if sooner than ``min_listen_fraction`` of the clip after serving, ``crowded_out`` when
    counted votes and others' holding reservations fill the cap; else it counts."""
    own = slots.own_holding(now)
    if own is not None:
        until = listened_until(clock, own.reserved_at, duration_ms, rules.min_listen_fraction)
        if until > now:
            return Admission(VoteOutcome.TOO_FAST)
        return Admission(VoteOutcome.LATE_RESERVED if settled else None, until)
    if serving is None:
        return Admission(VoteOutcome.UNSOLICITED)
    if settled:
        return Admission(VoteOutcome.LATE)
    if not heard_in_time(serving, duration_ms, now, rules.min_listen_fraction):
        return Admission(VoteOutcome.TOO_FAST)
    if not has_free_slot(tally.counted_votes, slots.others, rules.policy.config.vote_cap):
        return Admission(VoteOutcome.CROWDED_OUT)
    return Admission()


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One stored vote: what it said, what it did, and what it weighed when cast."""

    id: UUID
    clip_id: UUID
    validator_id: UUID
    verdict: Verdict
    outcome: VoteOutcome
    evidence: float
    accuracy: float  # the validator's balanced accuracy when voting (for operators)
    on_probation: bool
    established: bool
    created_at: datetime

    def as_vote(self) -> Vote:
        """The vote as the policy saw it when it was cast."""
        return Vote(
            self.validator_id, self.verdict, self.evidence, self.on_probation, self.established
        )


def valid_probability(tally: ClipTally) -> float:
    """P(valid) of a clip given its prior and counted votes."""
    return sigmoid(tally.log_odds)


def lessons_of_settled_clip(
    votes: Iterable[VoteRecord], status: ClipStatus, valid_probability: float
) -> Mapping[UUID, ValidatorAccuracy]:
    """When a clip is settled (decided or disputed) each solicited, timely vote on it teaches
    its validator: q = ``valid_probability`` of the clip to the cells of what they said (q is
    1 or 0 when an admin gives the verdict). Late, unsolicited and rushed votes teach nothing."""
    lessons: dict[UUID, ValidatorAccuracy] = {}
    for vote in votes:
        if not vote.outcome.teaches_on_settlement:
            continue
        before = lessons.get(vote.validator_id, ValidatorAccuracy())
        lessons[vote.validator_id] = before.after_settled_clip(
            vote.verdict, status, valid_probability
        )
    return lessons


def tally_of_counted_votes(status: ClipStatus, votes: Iterable[VoteRecord]) -> ClipTally:
    """A (non-gold) tally rebuilt from the stored votes that counted; the prior it started
    from is not stored with the votes and comes back as 0."""
    tally = ClipTally(status=status)
    for vote in votes:
        if vote.outcome is VoteOutcome.COUNTED:
            tally = tally.with_counted_vote(vote.as_vote())
    return tally


@dataclass(frozen=True, slots=True)
class VoteTarget:
    """A clip as one validator's vote finds it: locked, with its serving to that validator
    (``None``: never served), whether its language has gold clips (if not, everyone counts
    as established there) and until when reservations may hold slots on it (the latest
    expiry of any reservation ever made on it; ``None``: never reserved)."""

    clip: Clip
    serving: Serving | None
    language_has_gold: bool
    reserved_until: datetime | None = None

    def may_be_reserved(self, now: datetime) -> bool:
        """Whether a reservation may still hold a slot (only then are they read)."""
        return self.reserved_until is not None and now < self.reserved_until


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
