"""Offline batches' rules: reservations hold vote slots, the cap bounds who is paid, a vote
within its reservation always finds its slot, and the listening clock is fair to phones that
listened offline but not to rushers."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote, VoteOutcome
from core.domain.consensus import ConsensusConfig, MajorityPolicy, cast_vote
from core.domain.reservations import (
    ClipSlots,
    OfflineRules,
    Reservation,
    ReservedSlots,
    has_free_slot,
    listened_until,
)
from core.domain.validation import Serving, ValidationRules, admit_vote
from core.errors import InvalidInput

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TTL = timedelta(hours=24)
CLIP_MS = 2000
FRACTION = 0.8


def rules(cap: int = 5, fraction: float = 0.0) -> ValidationRules:
    config = ConsensusConfig(vote_cap=cap, require_established=False)
    return ValidationRules(policy=MajorityPolicy(config), min_listen_fraction=fraction)


def reservation(
    validator: uuid.UUID, at: datetime = T0, clip: uuid.UUID | None = None
) -> Reservation:
    return Reservation(validator, clip or uuid.uuid4(), uuid.uuid4(), at, at + TTL)


def test_rules_refuse_nonsense():
    with pytest.raises(InvalidInput):
        OfflineRules(reservation_ttl=timedelta(0))
    with pytest.raises(InvalidInput):
        OfflineRules(max_reserved=0)


@given(counted=st.integers(0, 10), holding=st.integers(0, 10), cap=st.integers(2, 10))
def test_a_slot_is_free_exactly_while_votes_and_reservations_stay_under_the_cap(
    counted, holding, cap
):
    assert has_free_slot(counted, holding, cap) == (counted + holding < cap)
    slots = ClipSlots(uuid.uuid4(), True, counted, holding)
    assert slots.may_reserve(cap) == has_free_slot(counted, holding, cap)
    assert not ClipSlots(uuid.uuid4(), False, 0, 0).may_reserve(cap)


@given(
    settled=st.booleans(),
    counted=st.integers(0, 4),
    others=st.integers(0, 4),
    waited=st.floats(0, 100),
)
def test_a_vote_within_its_reservation_always_finds_its_slot(settled, counted, others, waited):
    """Counted, late_reserved or (heard too soon) too_fast — never crowded out, never late,
    never unsolicited, whatever the others hold."""
    me = uuid.uuid4()
    own = reservation(me)
    now = T0 + timedelta(seconds=waited)
    admission = admit_vote(
        tally=ClipTally(valid_votes=counted),
        settled=settled,
        serving=Serving(me, own.clip_id, T0),
        slots=ReservedSlots(own, others),
        clock=None,
        duration_ms=CLIP_MS,
        now=now,
        rules=rules(fraction=FRACTION),
    )
    heard = waited >= CLIP_MS * FRACTION / 1000
    if not heard:
        assert admission.barred is VoteOutcome.TOO_FAST
        assert admission.listened_until is None
    else:
        assert admission.barred is (VoteOutcome.LATE_RESERVED if settled else None)
        assert admission.listened_until == T0 + timedelta(milliseconds=CLIP_MS * FRACTION)


def test_an_expired_or_used_reservation_is_no_reservation():
    me = uuid.uuid4()
    own = reservation(me)
    serving = Serving(me, own.clip_id, T0)
    common = {"tally": ClipTally(), "serving": serving, "clock": None, "duration_ms": CLIP_MS,
              "rules": rules(cap=2)}  # fmt: skip
    after_expiry = T0 + TTL
    settled = admit_vote(settled=True, slots=ReservedSlots(own), now=after_expiry, **common)  # type: ignore[arg-type]
    assert settled.barred is VoteOutcome.LATE
    used = replace(own, used_at=T0 + timedelta(minutes=1))
    full = admit_vote(
        settled=False, slots=ReservedSlots(used, 2), now=T0 + timedelta(hours=1), **common
    )  # type: ignore[arg-type]
    assert full.barred is VoteOutcome.CROWDED_OUT


def test_without_a_reservation_the_online_rules_apply_in_their_order():
    me = uuid.uuid4()
    clip = uuid.uuid4()
    base = {"tally": ClipTally(valid_votes=1), "slots": ReservedSlots(None, 1), "clock": None,
            "duration_ms": CLIP_MS, "rules": rules(cap=3, fraction=FRACTION)}  # fmt: skip
    later = T0 + timedelta(minutes=5)
    never = admit_vote(settled=False, serving=None, now=later, **base)  # type: ignore[arg-type]
    assert never.barred is VoteOutcome.UNSOLICITED
    served = Serving(me, clip, T0)
    assert admit_vote(settled=True, serving=served, now=T0, **base).barred is VoteOutcome.LATE  # type: ignore[arg-type]
    rushed = admit_vote(settled=False, serving=served, now=T0, **base)  # type: ignore[arg-type]
    assert rushed.barred is VoteOutcome.TOO_FAST
    fits = admit_vote(settled=False, serving=served, now=later, **base)  # type: ignore[arg-type]
    assert fits == fits.__class__()
    crowded = admit_vote(
        settled=False, serving=served, now=later, **{**base, "slots": ReservedSlots(None, 2)}
    )  # type: ignore[arg-type]
    assert crowded.barred is VoteOutcome.CROWDED_OUT


listens = st.lists(st.tuples(st.integers(1000, 15_000), st.floats(0, 600)), min_size=1, max_size=40)


@given(batches=st.lists(listens, min_size=1, max_size=3), gaps=st.lists(st.floats(0, 3600)),
       late=st.floats(0, 86_400))  # fmt: skip
def test_a_phone_that_listened_offline_is_never_too_fast(batches, gaps, late):
    """Batches handed out over time, each clip heard in full one after the other (pauses
    between clips), votes pushed later in the order made: every vote is in time."""
    clock: datetime | None = None
    ear = T0  # when the phone's listening ends so far
    handed_out = T0
    votes: list[tuple[datetime, int]] = []
    for number, batch in enumerate(batches):
        handed_out += timedelta(seconds=gaps[number] if number < len(gaps) else 0)
        ear = max(ear, handed_out)
        for duration_ms, pause in batch:
            ear += timedelta(seconds=pause) + timedelta(milliseconds=duration_ms)
            votes.append((handed_out, duration_ms))
    synced = ear + timedelta(seconds=late)
    for reserved_at, duration_ms in votes:
        clock = listened_until(clock, reserved_at, duration_ms, FRACTION)
        assert clock <= synced


@given(durations=st.lists(st.integers(1000, 15_000), min_size=1, max_size=100),
       waited=st.floats(0, 3600))  # fmt: skip
def test_a_rusher_gets_no_more_votes_in_than_fit_the_time_since_the_batch(durations, waited):
    now = T0 + timedelta(seconds=waited)
    clock: datetime | None = None
    admitted_ms = 0.0
    for duration_ms in durations:
        until = listened_until(clock, T0, duration_ms, FRACTION)
        if until <= now:
            clock = until
            admitted_ms += duration_ms * FRACTION
    assert admitted_ms <= waited * 1000 + 1e-6


class ClipWithOfflineBatches(RuleBasedStateMachine):
    """One clip, online validators and offline batches in any order, with the real rules:
    while pending, counted votes plus holding reservations never pass the cap; validators
    paid (agreeing counted votes, agreeing late votes within reservations) never number
    more than the cap; a vote within its reservation is never crowded out or late."""

    @initialize(cap=st.integers(2, 6))
    def start(self, cap: int) -> None:
        self.cap = cap
        self.rules = rules(cap=cap)
        self.now = T0
        self.tally = ClipTally(prior_log_odds=0.0)
        self.reservations: dict[int, Reservation] = {}
        self.served: dict[int, datetime] = {}
        self.outcomes: dict[int, tuple[VoteOutcome, Verdict]] = {}
        self.within_reservation: set[int] = set()
        self.clip = uuid.uuid4()

    def _id(self, who: int) -> uuid.UUID:
        return uuid.UUID(int=who + 1)

    def _holding(self, but: int | None = None) -> int:
        return sum(1 for who, r in self.reservations.items() if who != but and r.holds_at(self.now))

    @rule(who=st.integers(0, 12))
    def reserve(self, who: int) -> None:
        held = self.reservations.get(who)
        assume(who not in self.outcomes and not (held and held.holds_at(self.now)))
        slots = ClipSlots(
            self.clip, not self.tally.status.is_settled, self.tally.counted_votes, self._holding()
        )
        if slots.may_reserve(self.cap):
            self.reservations[who] = reservation(self._id(who), self.now, self.clip)
            self.served.setdefault(who, self.now)

    @rule(who=st.integers(0, 12))
    def serve_online(self, who: int) -> None:
        self.served.setdefault(who, self.now)

    @rule(who=st.integers(0, 12), valid=st.booleans())
    def vote(self, who: int, valid: bool) -> None:
        assume(who not in self.outcomes)
        verdict = Verdict.VALID if valid else Verdict.INVALID
        own = self.reservations.get(who)
        if own is not None and own.holds_at(self.now):
            self.within_reservation.add(who)
        serving = (
            Serving(self._id(who), self.clip, self.served[who]) if who in self.served else None
        )
        admission = admit_vote(
            tally=self.tally,
            settled=self.tally.status.is_settled,
            serving=serving,
            slots=ReservedSlots(own, self._holding(but=who)),
            clock=None,
            duration_ms=CLIP_MS,
            now=self.now,
            rules=self.rules,
        )
        outcome = admission.barred
        if outcome is None:
            vote = Vote(self._id(who), verdict, 1.0 if valid else -1.0)
            result = cast_vote(self.tally, vote, self.rules.policy)
            self.tally, outcome = result.tally, result.outcome
        self.outcomes[who] = (outcome, verdict)
        if own is not None:
            self.reservations[who] = replace(own, used_at=self.now)

    @rule(hours=st.integers(1, 30))
    def wait(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @invariant()
    def counted_and_holding_stay_under_the_cap(self) -> None:
        if hasattr(self, "tally") and not self.tally.status.is_settled:
            assert self.tally.counted_votes + self._holding() <= self.cap

    @invariant()
    def no_more_paid_than_the_cap(self) -> None:
        if not hasattr(self, "tally"):
            return
        agreeing = self.tally.status.verdict
        paid = [
            who
            for who, (outcome, verdict) in self.outcomes.items()
            if outcome in (VoteOutcome.COUNTED, VoteOutcome.LATE_RESERVED) and verdict is agreeing
        ]
        assert len(paid) <= self.cap

    @invariant()
    def votes_within_reservations_find_their_slot(self) -> None:
        if not hasattr(self, "tally"):
            return
        for who in self.within_reservation:
            assert self.outcomes[who][0] in (VoteOutcome.COUNTED, VoteOutcome.LATE_RESERVED)

    @precondition(lambda self: hasattr(self, "tally"))
    @invariant()
    def a_settled_clip_stays_settled(self) -> None:
        if self.tally.status is not ClipStatus.PENDING:
            assert self.tally.counted_votes <= self.cap


ClipWithOfflineBatches.TestCase.settings = settings(max_examples=150, stateful_step_count=40)
TestClipWithOfflineBatches = ClipWithOfflineBatches.TestCase
