"""What must hold in the stored data whatever happened — crashes, outages, retries, several
API processes and workers at once — checked by ``chorus doctor`` on a live database.

Each ``Invariant`` has a stable ``code`` and says its rule in words; the rules are the ones of
docs/money.md, docs/clips-and-validation.md and docs/worker.md. The checks themselves are
queries (adapters/postgres/invariants.py) written against the domain's own definitions below
and elsewhere in ``core`` (``FLOWS``, the member account kinds, which vote outcomes count and
earn, the verdict a decision stands for), never against a copy of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.clips import ClipStatus, Verdict, VoteOutcome
from core.domain.jobs import JobStatus
from core.domain.ledger import TransactionKind
from core.domain.rewards import AGREEING_VERDICT, Decision, RewardKind


@dataclass(frozen=True, slots=True)
class Invariant:
    code: str
    area: str
    rule: str


LEDGER_BALANCED = Invariant(
    "ledger_balanced", "ledger", "Every currency's postings sum to zero across all accounts."
)
TRANSACTIONS_BALANCED = Invariant(
    "transactions_balanced", "ledger", "Each transaction's postings sum to zero per currency."
)
TRANSACTIONS_FOLLOW_FLOWS = Invariant(
    "transactions_follow_flows",
    "ledger",
    "Each transaction has exactly two postings, a debit of its kind's source account kind and "
    "a credit of its destination, and touches no other member's accounts.",
)
CLOSINGS_MATCH = Invariant(
    "closings_match",
    "ledger",
    "A release, reversal, settlement or failure closes a transaction of the kind its flow "
    "closes and moves exactly what that one credited; no other kind closes anything.",
)
CLOSED_AT_MOST_ONCE = Invariant(
    "closed_at_most_once",
    "ledger",
    "An earning is released or reversed, a payout hold settled or failed, at most once.",
)
BALANCES_MATCH_POSTINGS = Invariant(
    "balances_match_postings",
    "ledger",
    "A member account's balance is the sum of its postings and its lifetime earnings the sum "
    "of its earning and reversal postings; platform accounts keep no running balance.",
)
MEMBER_BALANCES_NOT_NEGATIVE = Invariant(
    "member_balances_not_negative",
    "ledger",
    "No member's pending, available or payout-hold balance is below zero.",
)
OPEN_EARNINGS_MATCH_JOURNAL = Invariant(
    "open_earnings_match_journal",
    "ledger",
    "The release queue lists exactly the earnings that are neither released nor reversed.",
)
EARNED_ONCE = Invariant(
    "earned_once",
    "rewards",
    "A member earns each reward kind at most once per clip (no clip is paid twice).",
)
REWARDS_FOR_DECISIONS = Invariant(
    "rewards_for_decisions",
    "rewards",
    "Every earning is for a clip decided accepted or rejected: clip_accepted only to the "
    "contributor of an accepted clip, validation_agreed only to a validator whose vote on it "
    "counted (or came late within an offline reservation, or, on a gold clip, whose gold "
    "answer was paid with its shadow round), agreed with the decision and was not on "
    "probation.",
)
ONE_VOTE_PER_VALIDATOR = Invariant(
    "one_vote_per_validator", "votes", "A validator has at most one vote on a clip."
)
TALLIES_MATCH_VOTES = Invariant(
    "tallies_match_votes",
    "votes",
    "A clip that is not gold has as valid and invalid vote counts its counted votes of each "
    "verdict, as log-odds sum the sum of their evidence, and as established votes the counted "
    "votes of established validators (gold clips' counters are their shadow tally).",
)
DECIDED_ONCE = Invariant(
    "decided_once",
    "votes",
    "A clip has a decision time exactly when it left pending, and at most one clip.decided "
    "event (among those the outbox still keeps).",
)
OUTBOX_ROWS_CONSISTENT = Invariant(
    "outbox_rows_consistent",
    "outbox",
    "Exactly the running jobs hold a lease (worker and expiry); only done or dead jobs have "
    "finished; a job that was ever claimed counts at least one attempt.",
)
OUTBOX_LEASES_ABANDONED = Invariant(
    "outbox_leases_not_abandoned",
    "outbox",
    "No running job's lease ended longer ago than the allowed delay (a live worker hands "
    "such jobs back within a quarter of the lease).",
)
PUSH_SENDS_ABANDONED = Invariant(
    "push_sends_not_abandoned",
    "push",
    "No push delivery has been sending for longer than the worker lease plus the allowed "
    "delay (a live worker marks such deliveries uncertain).",
)
PUSH_ONCE_PER_DEVICE = Invariant(
    "push_once_per_device",
    "push",
    "A notification is delivered to a device at most once.",
)

INVARIANTS: tuple[Invariant, ...] = (
    LEDGER_BALANCED,
    TRANSACTIONS_BALANCED,
    TRANSACTIONS_FOLLOW_FLOWS,
    CLOSINGS_MATCH,
    CLOSED_AT_MOST_ONCE,
    BALANCES_MATCH_POSTINGS,
    MEMBER_BALANCES_NOT_NEGATIVE,
    OPEN_EARNINGS_MATCH_JOURNAL,
    EARNED_ONCE,
    REWARDS_FOR_DECISIONS,
    ONE_VOTE_PER_VALIDATOR,
    TALLIES_MATCH_VOTES,
    DECIDED_ONCE,
    OUTBOX_ROWS_CONSISTENT,
    OUTBOX_LEASES_ABANDONED,
    PUSH_SENDS_ABANDONED,
    PUSH_ONCE_PER_DEVICE,
)

# -- the domain's definitions the checks are written against ----------------------------------

TALLIED_OUTCOMES = frozenset({VoteOutcome.COUNTED})
"""The votes a ``ClipTally`` counts (late, unsolicited, rushed, ignored and gold votes change
nothing)."""

EARNING_OUTCOMES = frozenset({VoteOutcome.COUNTED})
"""The votes that may earn ``validation_agreed`` when their clip is decided
(``rewards.votes_that_may_earn``)."""

RESERVED_EARNING_OUTCOMES = frozenset({VoteOutcome.LATE_RESERVED})
"""Votes within an offline reservation that arrived after the decision: paid at once when
they agree (``rewards.post_reserved_vote_reward``)."""

GOLD_EARNING_OUTCOMES = frozenset({VoteOutcome.GOLD})
"""The gold answers that may earn when their clip's shadow round settles
(``rewards.gold_answers_that_may_earn``)."""

EVIDENCE_TOLERANCE = 1e-6
"""How far a stored log-odds sum may drift from the sum of its votes' evidence (floats)."""

LIFETIME_EARNING_KINDS = frozenset({TransactionKind.REWARD_EARNED, TransactionKind.REWARD_REVERSED})
"""Lifetime earnings are what was earned less what was reversed (``MemberBalance``)."""

CONTRIBUTOR_REWARD = (RewardKind.CLIP_ACCEPTED, ClipStatus(Decision.ACCEPTED.value))
"""The contributor's reward and the one decision that pays it (``calculate_rewards``)."""

VALIDATOR_REWARD = RewardKind.VALIDATION_AGREED

DECISION_VERDICTS: Mapping[ClipStatus, Verdict] = {
    ClipStatus(decision.value): Verdict(verdict) for decision, verdict in AGREEING_VERDICT.items()
}
"""The decisions that pay, and the verdict an agreeing vote gave (``AGREEING_VERDICT``)."""

DECISION_EVENT = ("clip.decided", "clipId")
"""The event a decision records, and the payload key naming its clip."""

LEASED_JOB_STATUSES = frozenset({JobStatus.RUNNING})
FINISHED_JOB_STATUSES = frozenset({JobStatus.DONE, JobStatus.DEAD})


@dataclass(frozen=True, slots=True)
class CheckWindow:
    """When the check runs, and how long past its end a lease may go unrecovered before
    it counts as abandoned (a worker may be restarting; a lease is recovered every quarter
    lease by a live one)."""

    now: datetime
    abandoned_after: timedelta
    push_lease: timedelta


@dataclass(frozen=True, slots=True)
class Finding:
    """What one invariant's check found: how many rows break it and the first few of them
    (column → value; never a push token or a payload)."""

    invariant: Invariant
    violations: int
    examples: tuple[Mapping[str, object], ...] = ()

    @property
    def holds(self) -> bool:
        return self.violations == 0


@dataclass(frozen=True, slots=True)
class HealthReport:
    findings: tuple[Finding, ...]
    checked_at: datetime
    duration_seconds: float

    @property
    def healthy(self) -> bool:
        return all(finding.holds for finding in self.findings)

    @property
    def violated(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if not finding.holds)
