"""Badge, statistics, goal and leaderboard use cases with in-memory fakes."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.accuracy import ValidatorAccuracy, ValidatorRecord
from core.domain.badges import BadgeChanges, BadgeDraft, Criterion
from core.domain.clips import AudioInfo, Clip, ClipStatus, ClipTally, Visibility
from core.domain.events import DomainEvent
from core.domain.goals import WeeklyGoal
from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.leaderboards import Board
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.use_cases.badges import (
    AwardBadge,
    AwardStandingBadges,
    CreateBadge,
    GetMemberBadges,
    ListBadges,
    UpdateBadge,
)
from core.use_cases.leaderboards import GetLeaderboard
from core.use_cases.member_stats import (
    GetMyStats,
    PruneCountedEvents,
    RecordMemberActivity,
    SetWeeklyGoal,
)
from tests.fakes import FakeUnitOfWork, FixedClock, InMemoryStore, SequentialIds

ADA = uuid.UUID("00000000-0000-4000-8000-00000000000a")
BOB = uuid.UUID("00000000-0000-4000-8000-00000000000b")
ADMIN = uuid.UUID("00000000-0000-4000-8000-0000000000ad")
SERVICE = Principal(profile=None, is_service=True)
MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.clock = FixedClock(MONDAY)
        self.ids = SequentialIds()
        for member in (ADA, BOB):
            self.store.profiles[member] = Profile.new(member, self.clock.now())
        admin = replace(Profile.new(ADMIN, self.clock.now()), role=Role.ADMIN)
        self.store.profiles[ADMIN] = admin
        self.record = RecordMemberActivity(self.uow, self.clock, self.ids)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)

    def principal(self, member: uuid.UUID) -> Principal:
        return Principal(profile=self.store.profiles[member])

    async def badge(self, code: str, **criterion: object) -> uuid.UUID:
        criterion.setdefault("threshold", None)
        made = await CreateBadge(self.uow, self.clock, self.ids)(
            SERVICE,
            BadgeDraft(code=code, name=code.title(), criterion=Criterion.parse(**criterion)),  # type: ignore[arg-type]
        )
        return made.id

    async def happen(self, name: str, at: datetime | None = None, **payload: object) -> DomainEvent:
        event = DomainEvent(self.ids.new_id(), name, at or self.clock.now(), payload)
        await self.record(event)
        return event

    def awarded(self) -> list[DomainEvent]:
        return [e for e in self.store.outbox if e.name == "badge.awarded"]


@pytest.fixture
def world() -> World:
    return World()


async def test_crossing_a_threshold_awards_once_even_when_events_repeat(world: World):
    badge = await world.badge("five", metric="clips_accepted", threshold=5)
    events = [
        await world.happen("clip.decided", contributorId=str(ADA), status="accepted", language="yo")
        for _ in range(6)
    ]
    for event in events:  # the outbox delivers at least once
        await world.record(event)
    stats = await GetMyStats(world.uow, world.clock)(world.principal(ADA))
    assert stats.clips_accepted == 6
    [awarded] = world.awarded()
    assert awarded.payload["badgeId"] == str(badge)
    assert awarded.payload["profileId"] == str(ADA)
    assert awarded.payload["badgeCode"] == "five"
    assert awarded.payload["source"] == "automatic"


async def test_per_language_badges_count_that_language_only(world: World):
    await world.badge("yoruba", metric="clips_submitted", threshold=2, language="yo")
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    await world.happen("clip.submitted", profileId=str(ADA), language="ha")
    assert world.awarded() == []
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    assert len(world.awarded()) == 1


async def test_agreement_badges_follow_the_consensus_models_count(world: World):
    await world.badge("agree", metric="validations_agreed", threshold=1)
    world.store.clips.stats[BOB] = ValidatorRecord(ValidatorAccuracy(consensus_agreed=1))
    await world.happen(
        "clip.decided",
        contributorId=str(ADA),
        status="accepted",
        language="yo",
        votes=[{"validatorId": str(BOB), "verdict": "valid", "outcome": "counted"}],
    )
    [awarded] = world.awarded()
    assert awarded.payload["profileId"] == str(BOB)


async def test_events_of_unknown_members_change_nothing(world: World):
    await world.happen("clip.submitted", profileId=str(uuid.uuid4()), language="yo")
    assert world.store.badges.stats == {}


async def test_banned_members_are_counted_but_earn_nothing(world: World):
    await world.badge("first", metric="clips_submitted", threshold=1)
    world.store.profiles[ADA] = replace(world.store.profiles[ADA], status=ProfileStatus.BANNED)
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    assert world.store.badges.stats[ADA].clips_submitted == 1
    assert world.awarded() == []


async def test_a_reversal_takes_the_clip_back_from_its_language(world: World):
    clip_id = await _accepted_clip(world)
    await world.happen("reward.earned", profileId=str(ADA), amountMinor=5_000, currency="NGN")
    await world.happen(
        "reward.reversed",
        profileId=str(ADA),
        clipId=str(clip_id),
        rewardKind="clip_accepted",
        amountMinor=5_000,
        currency="NGN",
    )
    stats = await GetMyStats(world.uow, world.clock)(world.principal(ADA))
    assert stats.clips_accepted == 0
    assert stats.lifetime_earnings == {"NGN": 0}


async def _accepted_clip(world: World) -> uuid.UUID:
    clip = Clip(
        id=uuid.uuid4(),
        contributor_id=ADA,
        client_id=uuid.uuid4(),
        language="ig",
        prompt="Hi",
        audio_key="clips/x.wav",
        audio=AudioInfo("wav", "audio/wav", 2000, 1000),
        tally=ClipTally(status=ClipStatus.ACCEPTED),
        visibility=Visibility.REMOVED,
        queue_rank=0,
        created_at=world.clock.now(),
    )
    world.store.clips.clips[clip.id] = clip
    await world.happen("clip.decided", contributorId=str(ADA), status="accepted", language="ig")
    return clip.id


async def test_manual_awards_need_an_admin_or_the_service(world: World):
    badge = await world.badge("hero", metric="manual")
    award = AwardBadge(world.uow, world.clock, world.ids)
    with pytest.raises(PermissionDenied) as refused:
        await award(world.principal(BOB), profile_id=ADA, reason="nice", badge_id=badge)
    assert refused.value.code == "role_required"
    by_service = await award(SERVICE, profile_id=ADA, reason="  Helped   moderate ", badge_id=badge)
    assert by_service.created
    assert by_service.award.reason == "Helped moderate"
    assert by_service.award.awarded_by is None
    again = await award(world.principal(ADMIN), profile_id=ADA, reason="again", badge_code="hero")
    assert not again.created
    assert again.award == by_service.award
    assert len(world.awarded()) == 1
    assert world.awarded()[0].payload["source"] == "manual"
    assert "reason" not in world.awarded()[0].payload  # free text stays out of analytics


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        ({"badge_code": "nope", "reason": "x"}, NotFound, "badge_not_found"),
        ({"badge_id": uuid.uuid4(), "reason": "x"}, NotFound, "badge_not_found"),
        (
            {"badge_code": "hero", "reason": "x", "profile_id": uuid.uuid4()},
            NotFound,
            "profile_not_found",
        ),
        ({"badge_code": "hero", "reason": "   "}, InvalidInput, "invalid_reason"),
        ({"badge_code": "goal", "reason": "x"}, Conflict, "badge_not_manual"),
    ],
)
async def test_manual_award_errors(world: World, call, error, code):
    await world.badge("hero", metric="manual")
    await world.badge("goal", metric="weekly_goal")
    call = {"profile_id": ADA} | call
    with pytest.raises(error) as refused:
        await AwardBadge(world.uow, world.clock, world.ids)(SERVICE, **call)
    assert refused.value.code == code


async def test_retired_badges_are_neither_listed_nor_awarded(world: World):
    badge = await world.badge("first", metric="clips_submitted", threshold=1)
    await UpdateBadge(world.uow, world.clock)(SERVICE, badge, BadgeChanges(retired=True))
    assert await ListBadges(world.uow)(world.principal(ADA)) == []
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    assert world.awarded() == []
    with pytest.raises(Conflict):
        await AwardBadge(world.uow, world.clock, world.ids)(
            SERVICE, profile_id=ADA, reason="x", badge_id=badge
        )


async def test_members_cannot_manage_the_catalogue_and_codes_are_unique(world: World):
    draft = BadgeDraft("first", "First", Criterion.parse(metric="clips_submitted", threshold=1))
    with pytest.raises(PermissionDenied):
        await CreateBadge(world.uow, world.clock, world.ids)(world.principal(ADA), draft)
    await CreateBadge(world.uow, world.clock, world.ids)(world.principal(ADMIN), draft)
    with pytest.raises(Conflict) as taken:
        await CreateBadge(world.uow, world.clock, world.ids)(world.principal(ADMIN), draft)
    assert taken.value.code == "badge_code_taken"


async def test_accuracy_badges_follow_the_published_standing_not_the_live_counts(world: World):
    await world.badge("sharp", metric="accuracy", threshold=0.95, min_sample=200)
    live_only = ValidatorAccuracy(gold_right=400)  # live: 400 right gold answers…
    world.store.clips.stats[ADA] = ValidatorRecord(
        live_only, published_accuracy=0.97, published_gold_answers=150
    )  # …published: 150
    world.store.clips.stats[BOB] = ValidatorRecord(
        published_accuracy=0.95, published_gold_answers=200
    )
    sweep = AwardStandingBadges(world.uow, world.clock, world.ids, batch_size=1)
    summary = await sweep()
    assert summary.awarded == 1
    assert [e.payload["profileId"] for e in world.awarded()] == [str(BOB)]
    assert (await sweep()).awarded == 0


async def test_a_member_sees_progress_and_others_see_no_private_badges(world: World):
    await world.badge("twenty", metric="clips_accepted", threshold=20)
    await world.badge("paid", metric="payouts_paid", threshold=1)
    await world.badge("first", metric="clips_accepted", threshold=1)
    for _ in range(5):
        await world.happen("clip.decided", contributorId=str(ADA), status="accepted", language="yo")
    view = GetMemberBadges(world.uow, world.clock)
    mine = await view(world.principal(ADA), ADA)
    assert [item.badge.code for item in mine.earned] == ["first"]
    progress = {item.badge.code: item.progress for item in mine.progress}
    assert set(progress) == {"twenty", "paid"}
    assert progress["twenty"].fraction == 0.25
    assert int(progress["twenty"].current) == 5
    theirs = await view(world.principal(BOB), ADA)
    assert {item.badge.code for item in theirs.progress} == {"twenty"}
    admins = await view(world.principal(ADMIN), ADA)
    assert {item.badge.code for item in admins.progress} == {"twenty", "paid"}
    with pytest.raises(NotFound):
        await view(world.principal(BOB), uuid.uuid4())


async def test_weekly_goal_is_awarded_once_per_week_in_the_members_time_zone(world: World):
    await world.badge("goal", metric="weekly_goal")
    world.store.profiles[ADA] = replace(world.store.profiles[ADA], time_zone="Africa/Nairobi")
    await SetWeeklyGoal(world.uow, world.clock, world.ids)(
        world.principal(ADA), WeeklyGoal(clips=2)
    )
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    sunday_night = datetime(2026, 3, 8, 21, 30, tzinfo=UTC)  # Monday 00:30 in Nairobi
    await world.happen("clip.submitted", sunday_night, profileId=str(ADA), language="yo")
    assert world.awarded() == []  # one clip in each week
    await world.happen("clip.submitted", sunday_night, profileId=str(ADA), language="yo")
    [first] = world.awarded()
    assert first.payload["period"] == "2026-W11"
    world.clock.current = sunday_night + timedelta(days=7)
    for _ in range(3):
        await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    assert [e.payload["period"] for e in world.awarded()] == ["2026-W11", "2026-W12"]


async def test_setting_a_goal_already_met_awards_the_week_at_once(world: World):
    await world.badge("goal", metric="weekly_goal")
    for _ in range(3):
        await world.happen(
            "validation.submitted", profileId=str(ADA), language="yo", outcome="counted"
        )
    progress = await SetWeeklyGoal(world.uow, world.clock, world.ids)(
        world.principal(ADA), WeeklyGoal(validations=3)
    )
    assert progress.met
    assert progress.week == "2026-W10"
    assert len(world.awarded()) == 1


async def test_stats_read_streaks_against_today(world: World):
    for day in range(3):
        await world.happen(
            "clip.submitted", MONDAY + timedelta(days=day), profileId=str(ADA), language="yo"
        )
    world.clock.current = MONDAY + timedelta(days=2)
    stats = await GetMyStats(world.uow, world.clock)(world.principal(ADA))
    assert (stats.current_streak, stats.longest_streak) == (3, 3)
    world.clock.current = MONDAY + timedelta(days=4)
    stats = await GetMyStats(world.uow, world.clock)(world.principal(ADA))
    assert (stats.current_streak, stats.longest_streak) == (0, 3)


async def test_leaderboards_show_names_only_of_members_who_opted_in(world: World):
    world.store.profiles[ADA] = replace(
        world.store.profiles[ADA], display_name="Ada", show_on_leaderboards=True
    )
    world.store.profiles[BOB] = replace(world.store.profiles[BOB], display_name="Bob")
    for member, clips in ((ADA, 2), (BOB, 3)):
        for _ in range(clips):
            await world.happen(
                "clip.decided", contributorId=str(member), status="accepted", language="yo"
            )
    board = await GetLeaderboard(world.uow, world.clock)(world.principal(ADA), "yo")
    assert [(e.rank, e.display_name, e.count) for e in board.entries] == [
        (1, None, 3),
        (2, "Ada", 2),
    ]
    empty = await GetLeaderboard(world.uow, world.clock)(
        world.principal(ADA), "yo", board=Board.VALIDATIONS, week="2026-W01"
    )
    assert empty.entries == []


async def test_old_counted_event_marks_are_pruned(world: World):
    await world.happen("clip.submitted", profileId=str(ADA), language="yo")
    world.clock.advance(days=8)
    prune = PruneCountedEvents(world.uow, world.clock, retention=timedelta(days=7), batch_size=1)
    assert await prune() == 1
    assert world.store.badges.counted == {}


async def test_a_first_payout_earns_its_badge_which_only_the_member_sees(world: World):
    await world.badge("first-payout", metric="payouts_paid", threshold=1)
    await world.happen("payout.paid", profileId=str(ADA), payoutId=str(uuid.uuid4()))
    await world.happen("payout.paid", profileId=str(ADA), payoutId=str(uuid.uuid4()))
    [awarded] = world.awarded()
    assert awarded.payload["badgeCode"] == "first-payout"
    view = GetMemberBadges(world.uow, world.clock)
    assert [e.badge.code for e in (await view(world.principal(ADA), ADA)).earned] == [
        "first-payout"
    ]
    assert (await view(world.principal(BOB), ADA)).earned == []
