"""Use cases of rewards: earning when a clip is decided, release after the holding period,
reversal when moderation removes a clip."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.clips import Clip, ClipStatus, Visibility
from core.domain.events import DomainEvent
from core.domain.fraud import (
    CapSplit,
    SignalKind,
    earning_day,
    split_by_daily_cap,
    totals_by_member,
)
from core.domain.identity import Principal, Profile, ProfileStatus, Role, ensure_role
from core.domain.ledger import JournalTransaction, reward_earned, reward_released, reward_reversed
from core.domain.money import Money
from core.domain.rewards import (
    Earning,
    RewardKind,
    RewardRules,
    ValidatorVote,
    calculate_rewards,
    gold_answers_that_may_earn,
    release_due,
    votes_that_may_earn,
)
from core.domain.validation import VoteRecord
from core.errors import Conflict, InvalidInput, NotFound
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.moderation import CapDay
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.fraud_signals import record_fraud_signal

MAX_RELEASE_BATCH = 1000


# -- earning -------------------------------------------------------------------------------


async def post_decision_rewards(
    uow: UnitOfWork,
    *,
    clip: Clip,
    status: ClipStatus,
    votes: Sequence[VoteRecord],
    decided_at: datetime,
    ids: IdGenerator,
    rules: RewardRules,
) -> tuple[JournalTransaction, ...]:
    """Post what a clip decision earns, in the caller's unit of work — the one that decides
    the clip, so the decision and its rewards are committed together or not at all.

    Rules: an accepted clip earns its contributor ``clip_accepted``; every validator whose
    counted vote matched the decision earns ``validation_agreed`` (late, unsolicited, rushed
    and weightless votes and votes of validators on probation earn nothing); amounts are the
    rates in force at ``decided_at`` for the clip's language in ``rules.currency``; a member
    who is not active (suspended or banned) earns nothing; an earning that would take a
    member past ``rules.daily_cap`` that UTC day is not paid (the vote still counted);
    earnings land in ``pending``. A
    ``disputed`` clip earns nothing. Each earning has the reference
    ``reward:{clip}:{kind}:{member}``, so posting the same decision again records nothing new.
    Records ``reward.earned`` for each new earning; returns the new earnings.
    """
    return await _post_earnings(
        uow,
        clip=clip,
        status=status,
        votes=votes_that_may_earn(votes),
        decided_at=decided_at,
        ids=ids,
        rules=rules,
        contributor_earns=True,
    )


async def post_gold_round_rewards(
    uow: UnitOfWork,
    *,
    clip: Clip,
    votes: Sequence[VoteRecord],
    settled_at: datetime,
    ids: IdGenerator,
    rules: RewardRules,
) -> tuple[JournalTransaction, ...]:
    """When a gold clip's shadow round settles, the validators of that round whose answer
    matches the clip's known verdict earn ``validation_agreed``, exactly as they would have on
    any clip (same rates, same references, same rules on probation and inactive members); the
    contributor earns nothing new. ``votes`` are the round's votes the policy would have
    counted (the caller leaves out weightless ones, which earn nothing on any clip); answers
    whose reply said late are ``gold_late`` and earn nothing."""
    return await _post_earnings(
        uow,
        clip=clip,
        status=clip.status,
        votes=gold_answers_that_may_earn(votes),
        decided_at=settled_at,
        ids=ids,
        rules=rules,
        contributor_earns=False,
    )


async def post_reserved_vote_reward(
    uow: UnitOfWork,
    *,
    clip: Clip,
    vote: VoteRecord,
    status: ClipStatus,
    decided_at: datetime,
    paid_at: datetime,
    ids: IdGenerator,
    rules: RewardRules,
) -> tuple[JournalTransaction, ...]:
    """A vote within its offline reservation came after the clip settled (``late_reserved``;
    the reservation kept a slot for it under the cap): it earns ``validation_agreed`` when it
    agrees with ``status``, exactly as if it had come before — the rate in force at
    ``decided_at``, the same reference, no earning on probation or for an inactive member —
    earned at ``paid_at`` (its holding period starts then). On a gold clip ``status`` is the
    known verdict and ``decided_at`` when the shadow round settled."""
    earning = ValidatorVote(vote.validator_id, vote.verdict.value, on_probation=vote.on_probation)
    return await _post_earnings(
        uow,
        clip=clip,
        status=status,
        votes=(earning,),
        decided_at=decided_at,
        ids=ids,
        rules=rules,
        contributor_earns=False,
        paid_at=paid_at,
    )


async def _post_earnings(
    uow: UnitOfWork,
    *,
    clip: Clip,
    status: ClipStatus,
    votes: Sequence[ValidatorVote],
    decided_at: datetime,
    ids: IdGenerator,
    rules: RewardRules,
    contributor_earns: bool,
    paid_at: datetime | None = None,
) -> tuple[JournalTransaction, ...]:
    if status.verdict is None:
        return ()
    rates = await uow.reward_rates.in_force(
        currency=rules.currency, language=clip.language, at=decided_at
    )
    if not rates:
        return ()
    earnings = [
        earning
        for earning in calculate_rewards(
            decision=status.value,
            contributor_id=clip.contributor_id,
            votes=votes,
            currency=rules.currency,
            language=clip.language,
            decided_at=decided_at,
            rates=rates,
        )
        if contributor_earns or earning.kind is not RewardKind.CLIP_ACCEPTED
    ]
    if not earnings:
        return ()
    earners = await uow.profiles.get_many({earning.profile_id for earning in earnings})
    payable = [earning for earning in earnings if _may_earn(earners.get(earning.profile_id))]
    if not payable:
        return ()
    cap = await _daily_cap(uow, payable, at=decided_at, rules=rules)
    paid = payable if cap is None else cap.split.paid
    transactions = [
        reward_earned(
            transaction_id=ids.new_id(),
            profile_id=earning.profile_id,
            clip_id=clip.id,
            reward_kind=earning.kind.value,
            amount=earning.amount,
            occurred_at=paid_at or decided_at,
        )
        for earning in paid
    ]
    posted = await uow.ledger.post_all(transactions) if transactions else ()
    new = tuple(tx for tx, is_new in zip(transactions, posted, strict=True) if is_new)
    if cap is not None:
        await cap.record(uow, new, clip=clip, ids=ids)
    for tx in new:
        uow.record(_earned_event(ids.new_id(), tx))
    return new


@dataclass(frozen=True, slots=True)
class _CapToday:
    """The daily cap applied to one decision's earnings: the earners' day rows (locked until
    the decision commits, so concurrent decisions paying one member cannot both pass the cap)
    and which earnings fit."""

    at: datetime
    today: Mapping[UUID, CapDay]
    split: CapSplit[Earning]
    cap: Money

    async def record(
        self, uow: UnitOfWork, new: Sequence[JournalTransaction], *, clip: Clip, ids: IdGenerator
    ) -> None:
        """Add what was paid and withheld to the day rows; the first time a member hits the
        cap on a day is a fraud signal."""
        withheld = totals_by_member(self.split.withheld)
        await uow.daily_earnings.add(
            earning_day(self.at),
            self.cap.currency,
            paid={tx.member_id: tx.amount.amount_minor for tx in new},
            withheld=withheld,
        )
        for member, amount in sorted(withheld.items()):
            if self.today[member].withheld_minor == 0:
                await record_fraud_signal(
                    uow,
                    profile_id=member,
                    kind=SignalKind.EARNINGS_CAP,
                    detail={"clipId": str(clip.id), "withheldMinor": amount,
                            "capMinor": self.cap.amount_minor, "currency": self.cap.currency},
                    now=self.at,
                    ids=ids,
                )  # fmt: skip


async def _daily_cap(
    uow: UnitOfWork, earnings: Sequence[Earning], *, at: datetime, rules: RewardRules
) -> _CapToday | None:
    cap = rules.daily_cap
    if cap is None:
        return None
    members = sorted({earning.profile_id for earning in earnings})
    today = await uow.daily_earnings.lock(earning_day(at), cap.currency, members)
    earned = {member: row.earned_minor for member, row in today.items()}
    return _CapToday(at, today, split_by_daily_cap(earnings, earned, cap), cap)


def _may_earn(profile: Profile | None) -> bool:
    """Suspended and banned members earn nothing (SPEC §3)."""
    return profile is not None and profile.status is ProfileStatus.ACTIVE


def _earned_event(event_id: UUID, tx: JournalTransaction) -> DomainEvent:
    return DomainEvent(
        id=event_id,
        name="reward.earned",
        occurred_at=tx.occurred_at,
        payload={
            "transactionId": str(tx.id),
            "profileId": str(tx.member_id),
            "clipId": tx.metadata.get("clip_id"),
            "rewardKind": tx.metadata.get("reward_kind"),
            "amountMinor": tx.amount.amount_minor,
            "currency": tx.amount.currency,
        },
    )


# -- release -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReleaseSummary:
    """What one run released: how many earnings, in how many batches, and the total per
    currency (minor units)."""

    released: int
    batches: int
    totals: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ReleaseMaturedEarnings:
    """Move every earning whose holding period is over from ``pending`` to ``available``.

    Rules: an earning is due from ``earned_at + holding`` on; it is released once (reference
    ``release:{earning}``, and the journal closes an earning only once, so a release never
    races a reversal into both); earnings of clips hidden or removed by moderation are held
    back. Each batch is its own transaction and skips earnings another process is releasing,
    so any number of processes may run this at the same time. One ``reward.released`` event
    per member and currency per batch (``profileId``, ``amountMinor``, ``currency``,
    ``earnings``).
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: RewardRules
    batch_size: int = 200

    async def __call__(self, *, max_batches: int | None = None) -> ReleaseSummary:
        if not 1 <= self.batch_size <= MAX_RELEASE_BATCH:
            raise InvalidInput(
                f"The batch size must be 1–{MAX_RELEASE_BATCH}.", code="invalid_batch_size"
            )
        released, batches = 0, 0
        totals: dict[str, int] = {}
        while max_batches is None or batches < max_batches:
            done = await self._batch()
            if not done:
                break
            batches += 1
            released += len(done)
            for tx in done:
                totals[tx.amount.currency] = (
                    totals.get(tx.amount.currency, 0) + tx.amount.amount_minor
                )
            if len(done) < self.batch_size:
                break
        return ReleaseSummary(released, batches, totals)

    async def _batch(self) -> list[JournalTransaction]:
        async with self.uow_factory() as uow:
            now = self.clock.now()
            due = await uow.ledger.lock_due_earnings(
                earned_up_to=now - self.rules.holding, limit=self.batch_size
            )
            releases = [
                reward_released(transaction_id=self.ids.new_id(), earning=earning, occurred_at=now)
                for earning in due
                if release_due(earning.occurred_at, now, self.rules.holding)
            ]
            if not releases:
                return []
            posted = await uow.ledger.post_all(releases)
            done = [tx for tx, is_new in zip(releases, posted, strict=True) if is_new]
            for event in _released_events(self.ids, done, now):
                uow.record(event)
            await uow.commit()
        return done


def _released_events(
    ids: IdGenerator, releases: Iterable[JournalTransaction], now: datetime
) -> list[DomainEvent]:
    totals: dict[tuple[UUID, str], list[int]] = {}
    for tx in releases:
        total = totals.setdefault((tx.member_id, tx.amount.currency), [0, 0])
        total[0] += tx.amount.amount_minor
        total[1] += 1
    return [
        DomainEvent(
            id=ids.new_id(),
            name="reward.released",
            occurred_at=now,
            payload={
                "profileId": str(member_id),
                "amountMinor": amount,
                "currency": currency,
                "earnings": count,
            },
        )
        for (member_id, currency), (amount, count) in sorted(totals.items())
    ]


# -- reversal ------------------------------------------------------------------------------


async def reverse_clip_earnings(
    uow: UnitOfWork, *, clip_id: UUID, ids: IdGenerator, now: datetime, reason: str
) -> tuple[JournalTransaction, ...]:
    """Reverse the clip's earnings still pending, in the caller's unit of work (moderation's,
    when it removes the clip). Released earnings stay with their members. Each reversal has
    the reference ``reversal:{earning}``; an earning being released meanwhile is waited for
    and then left alone. Records ``reward.reversed`` (with the reversed earning's
    ``rewardKind``) for each reversal; returns them."""
    open_earnings = await uow.ledger.lock_open_earnings_of_clip(clip_id)
    reversals = [
        reward_reversed(transaction_id=ids.new_id(), earning=earning, occurred_at=now, memo=reason)
        for earning in open_earnings
    ]
    if not reversals:
        return ()
    posted = await uow.ledger.post_all(reversals)
    kinds = {
        reversal.id: earning.metadata.get("reward_kind")
        for reversal, earning in zip(reversals, open_earnings, strict=True)
    }
    new = tuple(tx for tx, is_new in zip(reversals, posted, strict=True) if is_new)
    for tx in new:
        uow.record(
            DomainEvent(
                id=ids.new_id(),
                name="reward.reversed",
                occurred_at=now,
                payload={
                    "transactionId": str(tx.id),
                    "earningId": str(tx.closes),
                    "profileId": str(tx.member_id),
                    "clipId": str(clip_id),
                    # What the reversed earning was for: member statistics take an
                    # accepted clip back when its ``clip_accepted`` earning is reversed.
                    "rewardKind": kinds[tx.id],
                    "amountMinor": tx.amount.amount_minor,
                    "currency": tx.amount.currency,
                },
            )
        )
    return new


@dataclass(frozen=True, slots=True)
class ReverseClipEarnings:
    """Reverse the pending earnings of a clip moderation removed.

    Rules: moderators, admins and the service identity only; the clip must exist and be
    removed (``clip_not_removed`` otherwise); still-pending earnings go back to
    ``rewards_expense``, released ones stay. Running it again reverses nothing more.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(
        self, principal: Principal, clip_id: UUID, reason: str
    ) -> tuple[JournalTransaction, ...]:
        ensure_role(principal, Role.ADMIN, Role.MODERATOR)
        async with self.uow_factory() as uow:
            clip = await uow.clips.get_for_update(clip_id)
            if clip is None:
                raise NotFound("Clip not found.", code="clip_not_found")
            if clip.visibility is not Visibility.REMOVED:
                raise Conflict(
                    "Only a removed clip's earnings are reversed.", code="clip_not_removed"
                )
            reversed_ = await reverse_clip_earnings(
                uow, clip_id=clip.id, ids=self.ids, now=self.clock.now(), reason=reason
            )
            await uow.commit()
        return reversed_
