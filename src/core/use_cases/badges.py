"""Use cases of badges: the catalogue and its administration, awards (automatic, from the
published standing, and manual), and a member's badges with progress."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.accuracy import ValidatorRecord
from core.domain.badges import (
    STANDING_METRICS,
    Award,
    AwardSource,
    Badge,
    BadgeChanges,
    BadgeDraft,
    BadgeStanding,
    Due,
    MetricSnapshot,
    Progress,
    badges_due,
    change_badge,
    check_reason,
    new_badge,
    visible_to_others,
)
from core.domain.events import DomainEvent
from core.domain.identity import Principal, Profile, ProfileStatus, Role, ensure_role
from core.domain.member_stats import MemberStats, Metric
from core.domain.streaks import local_day, week_start
from core.errors import Conflict, NotFound
from core.ports.badges import Holding
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork

STANDING_BATCH = 500


def _badge_not_found() -> NotFound:
    return NotFound("No such badge.", code="badge_not_found")


def _member_not_found() -> NotFound:
    return NotFound("No such member.", code="profile_not_found")


def badge_standing(record: ValidatorRecord) -> BadgeStanding:
    """What badges may use of a validator's record: the standing the last refit published
    (accuracy and the gold answers behind it) and agreed validations."""
    return BadgeStanding(
        accuracy=record.published_accuracy,
        sample=record.published_gold_answers or 0,
        agreed=record.history.consensus_agreed,
        as_of=record.published_at,
    )


async def snapshot_of(
    uow: UnitOfWork,
    profile: Profile,
    stats: MemberStats,
    at: datetime,
    *,
    with_standing: bool = True,
) -> MetricSnapshot:
    """The member's metrics at ``at`` (their day and week in their time zone); the consensus
    model's record is read only when ``with_standing``."""
    standing = (
        badge_standing(await uow.validator_stats.get(profile.id))
        if with_standing
        else BadgeStanding()
    )
    today = local_day(at, profile.time_zone)
    return MetricSnapshot(stats=stats, standing=standing, today=today, monday=week_start(today))


async def grant(
    uow: UnitOfWork,
    *,
    profile_id: UUID,
    due: Sequence[Due],
    now: datetime,
    ids: IdGenerator,
    source: AwardSource = AwardSource.AUTOMATIC,
    reason: str | None = None,
    awarded_by: UUID | None = None,
) -> list[Award]:
    """Award ``due`` badges in the caller's unit of work. Badges the member already holds
    (for that period) are left alone — the database refuses a second row, so concurrent
    grants of one badge award it once. Records ``badge.awarded`` for each new award (the
    member's feed entry and push, and the ``badge_awarded`` analytics event, follow from
    it); returns the new awards."""
    if not due:
        return []
    wanted = {(item.badge.id, item.period): item.badge for item in due}
    awards = [
        Award(
            id=ids.new_id(),
            profile_id=profile_id,
            badge_id=badge_id,
            period=period,
            awarded_at=now,
            source=source,
            reason=reason,
            awarded_by=awarded_by,
        )
        for badge_id, period in wanted
    ]
    added = list(await uow.awards.add_all(awards))
    for award in added:
        uow.record(_awarded_event(ids.new_id(), award, wanted[(award.badge_id, award.period)]))
    return added


def _awarded_event(event_id: UUID, award: Award, badge: Badge) -> DomainEvent:
    payload: dict[str, str] = {
        "awardId": str(award.id),
        "profileId": str(award.profile_id),
        "badgeId": str(badge.id),
        "badgeCode": badge.code,
        "badgeName": badge.name,
        "metric": badge.criterion.metric.value,
        "source": award.source.value,
    }
    if award.period:
        payload["period"] = award.period
    return DomainEvent(
        id=event_id, name="badge.awarded", occurred_at=award.awarded_at, payload=payload
    )


async def award_qualifying(
    uow: UnitOfWork,
    *,
    profile: Profile,
    stats: MemberStats,
    metrics: Collection[Metric],
    now: datetime,
    ids: IdGenerator,
    week_of: datetime | None = None,
) -> list[Award]:
    """Award every active badge about ``metrics`` that the member now qualifies for; a
    weekly goal is judged in the week of ``week_of`` (the contribution's, when one was just
    counted), else this week. Banned members earn nothing."""
    if not metrics or profile.status is ProfileStatus.BANNED:
        return []
    badges = await uow.badges.active_for(metrics)
    if not badges:
        return []
    needs_standing = any(badge.criterion.metric in STANDING_METRICS for badge in badges)
    snapshot = await snapshot_of(uow, profile, stats, week_of or now, with_standing=needs_standing)
    return await grant(
        uow, profile_id=profile.id, due=badges_due(badges, snapshot), now=now, ids=ids
    )


# -- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListBadges:
    """The catalogue: every active badge with its criterion, in catalogue order. Any
    signed-in member (or service) may read it."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal) -> Sequence[Badge]:
        if not principal.is_service:
            principal.require_member()
        async with self.uow_factory() as uow:
            return await uow.badges.list_all(include_retired=False)


@dataclass(frozen=True, slots=True)
class ListAllBadges:
    """Admins: every badge, retired ones included."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal) -> Sequence[Badge]:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            return await uow.badges.list_all(include_retired=True)


@dataclass(frozen=True, slots=True)
class GetBadge:
    """Admins: one badge, retired or not."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, badge_id: UUID) -> Badge:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            badge = await uow.badges.get(badge_id)
        if badge is None:
            raise _badge_not_found()
        return badge


@dataclass(frozen=True, slots=True)
class CreateBadge:
    """An admin adds a badge to the catalogue.

    Rules: admins and the service identity only; the code is unique (409
    ``badge_code_taken``) and never changes; the criterion is validated
    (``core.domain.badges.Criterion``: 422 with a specific code). Members who already
    qualify earn it at their next fact that moves its metric (accuracy badges: at the next
    standing sweep)."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, draft: BadgeDraft) -> Badge:
        ensure_role(principal, Role.ADMIN)
        badge = new_badge(self.ids.new_id(), draft, self.clock.now())
        async with self.uow_factory() as uow:
            if not await uow.badges.add(badge):
                raise Conflict("A badge with this code exists.", code="badge_code_taken")
            await uow.commit()
        return badge


@dataclass(frozen=True, slots=True)
class UpdateBadge:
    """An admin changes a badge's name, description, position or criterion, or retires it
    (``retired: true``; ``false`` brings it back).

    Rules: admins and the service identity only; unknown badges 404; the criterion is
    validated as on creation. Awards already made stay: a badge once earned stays earned.
    Retired badges are not awarded and not listed in the catalogue; members who earned them
    keep them."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, badge_id: UUID, changes: BadgeChanges) -> Badge:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            badge = await uow.badges.get(badge_id)
            if badge is None:
                raise _badge_not_found()
            updated = change_badge(badge, changes, self.clock.now())
            await uow.badges.save(updated)
            await uow.commit()
        return updated


# -- awards ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManualAward:
    """The result of a manual award: the award, and whether this call made it."""

    award: Award
    badge: Badge
    created: bool


@dataclass(frozen=True, slots=True)
class AwardBadge:
    """An admin or a service awards a badge by hand, with a reason.

    Rules: admins and the service identity only (members 403); the badge (by id or code)
    and the member must exist (404 ``badge_not_found`` / ``profile_not_found``) and the
    badge must not be retired (409 ``badge_retired``); weekly badges are earned, not given
    (409 ``badge_not_manual``); the reason (1–500 characters) and who gave it are recorded
    with the award; banned members get nothing (409 ``member_banned``). Idempotent: a
    member who holds the badge keeps the first award (``created`` is false) and nothing new
    is recorded. A new award notifies the member like an automatic one."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(
        self,
        principal: Principal,
        *,
        profile_id: UUID,
        reason: str,
        badge_id: UUID | None = None,
        badge_code: str | None = None,
    ) -> ManualAward:
        ensure_role(principal, Role.ADMIN)
        why = check_reason(reason)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            badge = await _find_badge(uow, badge_id, badge_code)
            if not badge.is_active:
                raise Conflict("This badge is retired.", code="badge_retired")
            if badge.criterion.repeats:
                raise Conflict("Weekly badges are earned, not given.", code="badge_not_manual")
            profile = await uow.profiles.get(profile_id)
            if profile is None:
                raise _member_not_found()
            if profile.status is ProfileStatus.BANNED:
                raise Conflict("Banned members get no badges.", code="member_banned")
            added = await grant(
                uow,
                profile_id=profile.id,
                due=[Due(badge)],
                now=now,
                ids=self.ids,
                source=AwardSource.MANUAL,
                reason=why,
                awarded_by=principal.profile_id,
            )
            if added:
                await uow.commit()
                return ManualAward(added[0], badge, created=True)
            held = await uow.awards.find(profile.id, badge.id, "")
        assert held is not None
        return ManualAward(held, badge, created=False)


async def _find_badge(uow: UnitOfWork, badge_id: UUID | None, code: str | None) -> Badge:
    badge = None
    if badge_id is not None:
        badge = await uow.badges.get(badge_id)
    elif code is not None:
        badge = await uow.badges.by_code(code)
    if badge is None or (badge_id is not None and code is not None and badge.code != code):
        raise _badge_not_found()
    return badge


@dataclass(frozen=True, slots=True)
class StandingSweepSummary:
    awarded: int
    badges: int


@dataclass(frozen=True, slots=True)
class AwardStandingBadges:
    """Periodic task: award the accuracy badges whose criterion members' *published*
    standing now meets. The standing changes only when the consensus model is refitted, so
    awards follow refits and never reveal which single answer made the difference.

    Rules: a set-based query per accuracy badge finds members without it whose published
    accuracy and gold-answer sample reach the criterion (never one member at a time);
    batches of ``batch_size`` members, one transaction each; banned members are left out.
    Safe beside everything else: awards are idempotent."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    batch_size: int = STANDING_BATCH

    async def __call__(self) -> StandingSweepSummary:
        async with self.uow_factory() as uow:
            badges = await uow.badges.active_for([Metric.ACCURACY])
        awarded = 0
        for badge in badges:
            while True:
                added = await self._batch(badge)
                awarded += added
                if added < self.batch_size:
                    break
        return StandingSweepSummary(awarded=awarded, badges=len(badges))

    async def _batch(self, badge: Badge) -> int:
        async with self.uow_factory() as uow:
            members = await uow.awards.standing_candidates(badge, self.batch_size)
            now = self.clock.now()
            added = 0
            for member in members:
                added += len(
                    await grant(uow, profile_id=member, due=[Due(badge)], now=now, ids=self.ids)
                )
            await uow.commit()
        return added


# -- a member's badges -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EarnedBadge:
    """A badge a member holds: when first and last earned, and how many times."""

    badge: Badge
    first_awarded_at: datetime
    last_awarded_at: datetime
    times: int

    @classmethod
    def of(cls, badge: Badge, holding: Holding) -> EarnedBadge:
        return cls(badge, holding.first_awarded_at, holding.last_awarded_at, holding.times)


@dataclass(frozen=True, slots=True)
class BadgeProgress:
    badge: Badge
    progress: Progress


@dataclass(frozen=True, slots=True)
class MemberBadges:
    """A member's earned badges (with dates) and progress toward the others."""

    profile_id: UUID
    earned: Sequence[EarnedBadge]
    progress: Sequence[BadgeProgress]


@dataclass(frozen=True, slots=True)
class GetMemberBadges:
    """Any signed-in member reads a member's badges: the earned ones with when they were
    first and last earned, and progress (current value, threshold, fraction) toward every
    active automatic badge not yet earned — weekly badges show this week's progress even
    when earned before.

    Rules: unknown (and banned) members are not found; badges about private metrics
    (earnings, payouts, accuracy, agreement, goals) are shown only to the member
    themselves, admins and services; nothing else about the member is shown (no reasons of
    manual awards, no time zone). Reads maintained counters only: its cost does not grow
    with the member's history."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock

    async def __call__(self, principal: Principal, profile_id: UUID) -> MemberBadges:
        if not principal.is_service:
            principal.require_member()
        sees_private = principal.is_service or principal.profile_id == profile_id
        sees_private = sees_private or principal.role is Role.ADMIN
        async with self.uow_factory() as uow:
            profile = await uow.profiles.get(profile_id)
            if profile is None or profile.status is ProfileStatus.BANNED:
                raise _member_not_found()
            every_badge = await uow.badges.list_all(include_retired=True)
            holdings = {held.badge_id: held for held in await uow.awards.held_by(profile_id)}
            stats = await uow.member_stats.get(profile_id)
            catalogue = [badge for badge in every_badge if badge.is_active]
            needs_standing = sees_private and any(
                b.criterion.metric in STANDING_METRICS for b in catalogue
            )
            snapshot = await snapshot_of(
                uow, profile, stats, self.clock.now(), with_standing=needs_standing
            )

        def shown(badge: Badge) -> bool:
            return sees_private or visible_to_others(badge)

        progress = [
            BadgeProgress(badge, snapshot.progress(badge.criterion))
            for badge in catalogue
            if shown(badge)
            and badge.criterion.is_automatic
            and (badge.id not in holdings or badge.criterion.repeats)
        ]
        earned = [
            EarnedBadge.of(badge, holdings[badge.id])
            for badge in every_badge
            if badge.id in holdings and shown(badge)
        ]
        return MemberBadges(profile_id=profile_id, earned=earned, progress=progress)
