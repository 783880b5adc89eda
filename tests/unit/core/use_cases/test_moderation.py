"""Flags, the queue, decisions and their effects, the audit log, clip feedback and the fraud
defences — use cases over the in-memory fakes."""

from __future__ import annotations

import uuid

import pytest

from core.domain.accuracy import ValidatorRecord
from core.domain.clips import Verdict, Visibility, VoteOutcome
from core.domain.fraud import FraudRules, SignalKind
from core.domain.identity import Principal, ProfileStatus, Role
from core.domain.ledger import TransactionKind
from core.domain.live import LiveMessage, LiveStream, StreamStatus
from core.domain.member_notifications import PushToken, draft_for_event
from core.domain.moderation import ActorKind, FlagReason, FlagStatus, TargetRef, TargetType
from core.domain.rewards import RewardRules
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.use_cases.clips import ClipUpload, ListMyClips, SubmitClip, ViewClip
from core.use_cases.fraud import FlagActivityBursts
from core.use_cases.live import CloseLiveRoom, ListChatMessages, ListLiveStreams
from core.use_cases.moderation import (
    AuditQuery,
    CreateFlag,
    DecideModeration,
    DecisionCommand,
    FlagCommand,
    ReadModerationAudit,
    ReadModerationQueue,
)
from core.use_cases.moderation_standing import GetMemberStanding
from core.use_cases.validation import SubmitVote
from tests.fake_clips import FakeAudioInspector, InMemoryBlobStore, fake_audio
from tests.fakes import FakeLiveVideo, FakeTextScreener, FakeUnitOfWork
from tests.unit.core.use_cases.test_rewards import AGREED_RATE, World

SERVICE = Principal(profile=None, is_service=True)


class ModerationWorld(World):
    def __init__(self, threshold: int = 3) -> None:
        super().__init__()
        self.threshold = threshold
        self.moderator = self.member(Role.MODERATOR)
        self.admin = self.member(Role.ADMIN)

    def voting(self) -> SubmitVote:
        return SubmitVote(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            rules=self.rules,
            rewards=self.rewards,
        )

    async def flag(self, reporter: Principal, kind: str, target_id: uuid.UUID, reason: str,
                   **more: object):  # fmt: skip
        create = CreateFlag(
            uow_factory=self.uow,
            clock=self.clock,
            ids=self.ids,
            voting=self.voting(),
            threshold=self.threshold,
        )
        return await create(reporter, FlagCommand(kind, target_id, reason, **more))  # type: ignore[arg-type]

    async def decide(self, actor: Principal, kind: str, target_id: uuid.UUID, action: str,
                     reason: str = "offensive", note: str | None = None):  # fmt: skip
        decide = DecideModeration(uow_factory=self.uow, clock=self.clock, ids=self.ids)
        return await decide(actor, DecisionCommand(kind, target_id, action, reason, note))

    async def queue(self, actor: Principal, limit: int = 50):
        return await ReadModerationQueue(uow_factory=self.uow)(actor, after=None, limit=limit)

    async def audit(self, actor: Principal, **query: object):
        return await ReadModerationAudit(uow_factory=self.uow)(actor, AuditQuery(**query))  # type: ignore[arg-type]

    def store_principal(self, principal: Principal) -> Principal:
        """The member as stored now (after moderation changed them)."""
        return Principal(profile=self.store.profiles[principal.profile_id])

    def books_balance(self) -> bool:
        total = sum(p.amount.amount_minor for t in self.store.ledger.transactions
                    for p in t.postings)  # fmt: skip
        return total == 0

    def clip_of(self, clip_id: uuid.UUID):
        return self.store.clips.clips[clip_id]

    def stream(self, host: Principal) -> LiveStream:
        stream_id = uuid.uuid4()
        stream = LiveStream(stream_id, host.profile_id, "Yoruba hour", "yo", f"live-{stream_id}",
                            StreamStatus.LIVE, self.clock.now(), None, frozenset(), 0)  # fmt: skip
        self.store.live.streams[stream.id] = stream
        return stream


@pytest.fixture
def world() -> ModerationWorld:
    return ModerationWorld()


# -- flags ---------------------------------------------------------------------------------


async def test_three_distinct_reporters_hide_a_clip_once_pending_review(world):
    clip_id, _ = await world.clip()
    reporters = [world.member() for _ in range(3)]
    first = await world.flag(reporters[0], "clip", clip_id, "offensive", note="shouting")
    second = await world.flag(reporters[1], "clip", clip_id, "noise_or_silence")
    assert (first.hidden, second.hidden) == (False, False)
    assert world.clip_of(clip_id).visibility is Visibility.VISIBLE
    third = await world.flag(reporters[2], "clip", clip_id, "offensive")
    assert third.hidden
    assert world.clip_of(clip_id).visibility is Visibility.HIDDEN
    (hide,) = world.store.moderation.decisions
    assert (hide.action.value, hide.reason.value, hide.actor_kind) == (
        "hide", "flag_threshold", ActorKind.SYSTEM
    )  # fmt: skip
    with pytest.raises(NotFound):  # a hidden clip can no longer be flagged
        await world.flag(world.member(), "clip", clip_id, "offensive")
    (item,) = (await world.queue(world.moderator)).items
    assert (item.case.auto_hidden, item.open_flags, item.counting_reporters) == (True, 3, 3)
    assert item.reasons == {FlagReason.OFFENSIVE: 2, FlagReason.NOISE_OR_SILENCE: 1}
    assert item.notes == ("shouting",)
    assert world.events("moderation.decided") == []  # the owner hears of decisions only
    assert [e.payload["hidTarget"] for e in world.events("flag.created")] == [False, False, True]


async def test_reporters_on_probation_count_for_nothing(world):
    clip_id, _ = await world.clip()
    for _ in range(3):
        reporter = world.member()
        world.store.clips.stats[reporter.profile_id] = ValidatorRecord(on_probation=True)
        assert not (await world.flag(reporter, "clip", clip_id, "offensive")).flag.counts
    assert world.clip_of(clip_id).visibility is Visibility.VISIBLE
    (item,) = (await world.queue(world.moderator)).items
    assert (item.open_flags, item.counting_reporters) == (3, 0)


async def test_one_open_flag_per_reporter_and_target_and_never_ones_own(world):
    clip_id, owner = await world.clip()
    reporter = world.member()
    await world.flag(reporter, "clip", clip_id, "offensive")
    with pytest.raises(Conflict) as again:
        await world.flag(reporter, "clip", clip_id, "other")
    assert again.value.code == "already_flagged"
    with pytest.raises(PermissionDenied) as own:
        await world.flag(owner, "clip", clip_id, "offensive")
    assert own.value.code == "own_content"
    for kind, target_id, reason, code in [
        ("clip", clip_id, "harassment", "invalid_reason"),
        ("song", clip_id, "offensive", "invalid_target_type"),
    ]:
        with pytest.raises(InvalidInput) as bad:
            await world.flag(world.member(), kind, target_id, reason)
        assert bad.value.code == code
    with pytest.raises(NotFound):
        await world.flag(world.member(), "clip", uuid.uuid4(), "offensive")
    suspended = world.member()
    world.set_status(suspended, ProfileStatus.SUSPENDED)
    with pytest.raises(PermissionDenied):
        await world.flag(world.store_principal(suspended), "clip", clip_id, "offensive")


async def test_a_flag_takes_the_clip_out_of_the_reporters_queue(world):
    clip_id, _ = await world.clip()
    reporter = world.member()
    await world.flag(reporter, "clip", clip_id, "wrong_language")
    assert (reporter.profile_id, clip_id) in world.store.clips.skips


async def test_no_and_report_casts_the_vote_in_the_flags_transaction(world):
    clip_id, _ = await world.clip()
    served, unserved = world.member(), world.member()
    world.serve(served, clip_id)
    counted = await world.flag(
        served, "clip", clip_id, "noise_or_silence", also_vote=Verdict.INVALID
    )
    assert counted.vote is not None
    assert counted.vote.outcome is VoteOutcome.COUNTED
    blind = await world.flag(unserved, "clip", clip_id, "offensive", also_vote=Verdict.INVALID)
    assert blind.vote is not None
    assert blind.vote.outcome is VoteOutcome.UNSOLICITED  # never served to them
    voted = world.member()
    await world.vote(voted, clip_id, Verdict.VALID)
    kept = await world.flag(voted, "clip", clip_id, "offensive", also_vote=Verdict.INVALID)
    assert (kept.vote, kept.vote_refused) == (None, "already_voted")
    with pytest.raises(InvalidInput) as only_invalid:
        await world.flag(world.member(), "clip", clip_id, "other", also_vote=Verdict.VALID)
    assert only_invalid.value.code == "invalid_also_vote"


async def test_a_refused_flag_keeps_no_vote(world):
    clip_id, _ = await world.clip()
    reporter = world.member()
    await world.flag(reporter, "clip", clip_id, "offensive")
    with pytest.raises(Conflict):
        await world.flag(reporter, "clip", clip_id, "offensive", also_vote=Verdict.INVALID)
    assert not any(v.validator_id == reporter.profile_id for v in world.store.clips.votes.values())


async def test_messages_streams_and_profiles_are_flagged_and_hidden_too(world):
    host = world.member()
    stream = world.stream(host)
    message = LiveMessage(uuid.uuid4(), stream.id, host.profile_id, "call me", world.clock.now())
    world.store.live.messages.append(message)
    reporters = [world.member() for _ in range(3)]
    for reporter in reporters:
        await world.flag(reporter, "live_message", message.id, "spam")
    assert (await ListChatMessages(uow_factory=world.uow)(stream.id)).items == ()
    for reporter in reporters:
        await world.flag(reporter, "live_stream", stream.id, "harassment")
        await world.flag(reporter, "profile", host.profile_id, "impersonation")
    assert (await ListLiveStreams(uow_factory=world.uow)()).items == ()
    with pytest.raises(NotFound):
        await ListChatMessages(uow_factory=world.uow)(stream.id)
    assert world.store.profiles[host.profile_id].visibility is Visibility.HIDDEN
    assert len((await world.queue(world.moderator)).items) == 3


# -- the queue and the audit log -------------------------------------------------------------


async def test_only_moderators_read_the_queue_and_only_admins_the_audit_log(world):
    member = world.member()
    with pytest.raises(PermissionDenied):
        await world.queue(member)
    with pytest.raises(PermissionDenied):
        await world.audit(member)
    with pytest.raises(PermissionDenied):
        await world.audit(world.moderator)
    assert await world.audit(world.admin) == []
    with pytest.raises(InvalidInput):
        await world.audit(world.admin, target_type="clip")


async def test_the_queue_is_oldest_first_a_page_at_a_time(world):
    clips = []
    for _ in range(3):
        clip_id, _ = await world.clip()
        await world.flag(world.member(), "clip", clip_id, "other")
        clips.append(clip_id)
        world.clock.advance(minutes=1)
    first = await world.queue(world.moderator, limit=2)
    assert [i.case.target.id for i in first.items] == clips[:2]
    rest = await ReadModerationQueue(uow_factory=world.uow)(
        world.moderator, after=first.next, limit=2
    )
    assert ([i.case.target.id for i in rest.items], rest.next) == ([clips[2]], None)


# -- decisions -------------------------------------------------------------------------------


async def accepted_clip(world: ModerationWorld):
    clip_id, owner = await world.clip("ha")
    voters = [world.member(), world.member()]
    for voter in voters:
        await world.vote(voter, clip_id)
    return clip_id, owner, voters


async def test_remove_reverses_the_pending_rewards_and_restore_shows_the_clip_again(world):
    clip_id, owner, voters = await accepted_clip(world)
    for _ in range(3):
        await world.flag(world.member(), "clip", clip_id, "offensive")
    world.clock.advance(hours=100)  # past the holding period: hidden earnings stay pending
    assert (await world.release()()).released == 0
    decision = await world.decide(world.moderator, "clip", clip_id, "remove")
    assert decision.summary["earningsReversed"] == 3
    assert world.clip_of(clip_id).visibility is Visibility.REMOVED
    for member in (owner, *voters):
        balance = await world.balance(member)
        assert (balance.pending.amount_minor, balance.available.amount_minor) == (0, 0)
    assert world.books_balance()
    flags = [s.flag.status for s in world.store.moderation.flags]
    assert flags == [FlagStatus.UPHELD] * 3
    assert (await world.queue(world.moderator)).items == ()
    (told,) = world.events("moderation.decided")
    assert (told.payload["profileId"], told.payload["reason"]) == (str(owner.profile_id),
                                                                   "offensive")  # fmt: skip
    draft = draft_for_event(told)
    assert draft is not None
    assert draft.data["reason"] == "offensive"

    restored = await world.decide(world.moderator, "clip", clip_id, "restore", "mistake")
    assert restored.summary["visibility"] == ["removed", "visible"]
    assert world.clip_of(clip_id).visibility is Visibility.VISIBLE
    reversed_ = [
        t for t in world.store.ledger.transactions if t.kind is TransactionKind.REWARD_REVERSED
    ]
    assert len(reversed_) == 3  # a removal's reversal is not undone


async def test_released_earnings_stay_with_their_members(world):
    clip_id, owner, _ = await accepted_clip(world)
    world.clock.advance(hours=100)
    await world.release()()
    decision = await world.decide(world.moderator, "clip", clip_id, "remove", "fraud")
    assert decision.summary["earningsReversed"] == 0
    assert (await world.balance(owner)).available.amount_minor > 0


async def test_dismiss_shows_again_what_the_flags_hid_and_closes_the_case(world):
    clip_id, _ = await world.clip()
    reporters = [world.member() for _ in range(3)]
    for reporter in reporters:
        await world.flag(reporter, "clip", clip_id, "offensive")
    decision = await world.decide(world.moderator, "clip", clip_id, "dismiss", "report_unfounded")
    assert decision.summary["flagsSettled"] == 3
    assert world.clip_of(clip_id).visibility is Visibility.VISIBLE
    assert {s.flag.status for s in world.store.moderation.flags} == {FlagStatus.DISMISSED}
    # New reports open a new case.
    await world.flag(reporters[0], "clip", clip_id, "offensive")
    assert len((await world.queue(world.moderator)).items) == 1


async def test_a_moderators_hide_is_not_undone_by_a_dismissal(world):
    clip_id, _ = await world.clip()
    await world.decide(world.moderator, "clip", clip_id, "hide", "spam")
    decision = await world.decide(world.moderator, "clip", clip_id, "dismiss", "report_unfounded")
    assert "visibility" not in decision.summary
    assert world.clip_of(clip_id).visibility is Visibility.HIDDEN


async def test_who_may_decide(world):
    clip_id, _ = await world.clip()
    member = world.member()
    with pytest.raises(PermissionDenied) as role:
        await world.decide(member, "clip", clip_id, "hide")
    assert role.value.code == "role_required"
    with pytest.raises(PermissionDenied) as admin:
        await world.decide(world.moderator, "profile", world.admin.profile_id, "ban_user")
    assert admin.value.code == "target_is_admin"
    other_moderator = world.member(Role.MODERATOR)
    with pytest.raises(PermissionDenied):
        await world.decide(world.moderator, "profile", other_moderator.profile_id, "suspend_user")
    await world.decide(world.admin, "profile", other_moderator.profile_id, "suspend_user", "spam")
    for bad in ({"action": "delete"}, {"reason": "flag_threshold"}, {"note": "x" * 501}):
        command = {"action": "hide", "reason": "spam", "note": None} | bad
        with pytest.raises(InvalidInput):
            await world.decide(world.moderator, "clip", clip_id, **command)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await world.decide(world.moderator, "clip", uuid.uuid4(), "hide")


async def test_suspension_stops_votes_uploads_and_payouts_and_restore_lifts_it(world):
    clip_id, owner = await world.clip()
    await world.decide(world.moderator, "clip", clip_id, "suspend_user", "spam")
    suspended = world.store_principal(owner)
    assert suspended.profile.status is ProfileStatus.SUSPENDED
    other, _ = await world.clip()
    with pytest.raises(PermissionDenied):
        await world.vote(suspended, other)
    (told,) = world.events("moderation.decided")
    assert told.payload["action"] == "suspend_user"
    await world.decide(world.moderator, "profile", owner.profile_id, "restore", "appeal_granted")
    assert world.store.profiles[owner.profile_id].status is ProfileStatus.ACTIVE


async def test_a_ban_ends_streams_freezes_payouts_and_switches_devices_off_at_once(world):
    clip_id, owner = await world.clip()
    stream = world.stream(owner)
    token = PushToken("ExponentPushToken[abc]", owner.profile_id, None, None, True,
                      world.clock.now(), world.clock.now())  # fmt: skip
    world.store.notifications.tokens[token.token] = token
    decision = await world.decide(world.moderator, "clip", clip_id, "ban_user", "fraud", "farm")
    assert world.store.profiles[owner.profile_id].status is ProfileStatus.BANNED
    assert world.store.live.streams[stream.id].status is StreamStatus.ENDED
    assert owner.profile_id in world.store.payouts.frozen
    device = world.store.notifications.tokens[token.token]
    assert (device.active, device.deactivated_reason) == (False, "banned")
    assert decision.summary == {
        "status": ["active", "banned"],
        "streamsEnded": [str(stream.id)],
        "payoutsFrozen": True,
        "devicesDeactivated": 1,
        "flagsSettled": 0,
    }
    assert decision.note == "farm"
    names = [e.name for e in world.store.outbox]
    assert names[-3:] == ["stream.ended", "live.room_close_requested", "moderation.decided"]
    video = FakeLiveVideo()
    video.rooms[stream.room_name] = {}
    await CloseLiveRoom(video=video)(world.events("live.room_close_requested")[0])
    assert video.deleted == [stream.room_name]
    (entry,) = await world.audit(world.admin, member_id=owner.profile_id)
    assert entry.id == decision.id
    with pytest.raises(Conflict):
        await world.decide(world.admin, "clip", clip_id, "ban_user", "fraud")


async def test_a_failing_effect_leaves_nothing_behind(world):
    clip_id, owner = await world.clip()
    world.stream(owner)
    before = world.store.profiles[owner.profile_id]

    class Broken(Exception):
        pass

    class BrokenPayouts:
        async def set_frozen(self, *args: object, **kwargs: object) -> None:
            raise Broken

    class FreezeFails(FakeUnitOfWork):
        async def __aenter__(self):
            opened = await super().__aenter__()
            opened.payouts = BrokenPayouts()  # type: ignore[assignment]
            return opened

    def uow() -> FakeUnitOfWork:
        return FreezeFails(world.store)

    decide = DecideModeration(uow_factory=uow, clock=world.clock, ids=world.ids)
    with pytest.raises(Broken):
        await decide(world.moderator, DecisionCommand("clip", clip_id, "ban_user", "fraud"))
    assert world.store.profiles[owner.profile_id] == before
    assert all(s.is_live for s in world.store.live.streams.values())
    assert world.store.moderation.decisions == []


# -- what contributors learn ----------------------------------------------------------------


async def test_contributors_see_why_a_clip_was_rejected_or_removed(world):
    clip_id, owner = await world.clip()
    for _ in range(2):
        await world.vote(world.member(), clip_id, Verdict.INVALID)
    await world.flag(world.member(), "clip", clip_id, "noise_or_silence")
    view = await ViewClip(uow_factory=world.uow)(owner, clip_id)
    assert view.feedback is not None
    assert (view.feedback.invalid_votes, dict(view.feedback.flag_reasons)) == (
        2, {"noise_or_silence": 1}
    )  # fmt: skip
    await world.decide(world.moderator, "clip", clip_id, "remove", "noise_or_silence")
    (mine,) = await ListMyClips(uow_factory=world.uow)(owner, before=None, limit=10)
    assert mine.feedback is not None
    assert (mine.feedback.action, mine.feedback.reason) == ("remove", "noise_or_silence")
    other = world.member()
    with pytest.raises(NotFound):  # removed: only moderation sees it
        await ViewClip(uow_factory=world.uow)(other, clip_id)
    fine, _ = await world.clip()
    assert (await ViewClip(uow_factory=world.uow)(other, fine)).feedback is None


# -- fraud defences --------------------------------------------------------------------------


async def test_repeated_audio_from_two_members_is_flagged_for_review(world):
    def submit(screener: FakeTextScreener | None = None) -> SubmitClip:
        return SubmitClip(uow_factory=world.uow, blobs=InMemoryBlobStore(),
                          inspector=FakeAudioInspector(), clock=world.clock, ids=world.ids,
                          rules=world.rules, screener=screener or FakeTextScreener())  # fmt: skip

    audio = fake_audio(3000)
    first, second = world.member(), world.member()
    original = await submit()(first, ClipUpload(uuid.uuid4(), "yo", "Bawo ni", audio))
    assert world.store.moderation.flags == []
    world.clock.advance(seconds=5)
    copy = await submit()(second, ClipUpload(uuid.uuid4(), "yo", "Bawo ni", audio))
    (stored,) = world.store.moderation.flags
    assert stored.flag.target == TargetRef(TargetType.CLIP, copy.clip.id)
    assert (stored.flag.reason, stored.flag.automatic) == (FlagReason.REPEATED_AUDIO, True)
    assert str(original.clip.id) in (stored.flag.note or "")
    (signal,) = world.store.moderation.signals
    assert (signal.kind, signal.profile_id) == (SignalKind.REPEATED_AUDIO, second.profile_id)
    assert [e.payload["kind"] for e in world.events("fraud.signal")] == ["repeated_audio"]
    (item,) = (await world.queue(world.moderator)).items
    assert (item.case.target.id, item.counting_reporters) == (copy.clip.id, 0)
    with pytest.raises(InvalidInput) as blocked:
        await submit(FakeTextScreener({"badword": "blocked_word"}))(
            first, ClipUpload(uuid.uuid4(), "yo", "a badword", fake_audio(2000))
        )
    assert (blocked.value.code, blocked.value.extra["category"]) == (
        "content_blocked", "blocked_word"
    )  # fmt: skip


async def test_a_member_past_the_daily_cap_keeps_voting_but_earns_nothing_more_that_day():
    world = ModerationWorld()
    world.rewards = RewardRules(daily_cap_minor=2 * AGREED_RATE)
    busy = world.member()
    for _ in range(4):
        clip_id, _ = await world.clip()
        await world.vote(world.member(), clip_id)
        receipt = await world.vote(busy, clip_id)
        assert (receipt.outcome, receipt.decided_now) == (VoteOutcome.COUNTED, True)
    earned = [t for t in world.store.ledger.transactions if t.member_id == busy.profile_id]
    assert [t.kind for t in earned] == [TransactionKind.REWARD_EARNED] * 2
    (signal,) = [s for s in world.store.moderation.signals if s.profile_id == busy.profile_id]
    assert (signal.kind, signal.detail["withheldMinor"]) == (SignalKind.EARNINGS_CAP, AGREED_RATE)
    world.clock.advance(days=1)
    clip_id, _ = await world.clip()
    await world.vote(world.member(), clip_id)
    await world.vote(busy, clip_id)
    assert (await world.balance(busy)).pending.amount_minor == 3 * AGREED_RATE
    standing = await GetMemberStanding(uow_factory=world.uow, rules=world.rules)(
        world.moderator, busy.profile_id
    )
    (day,) = standing.capped_days
    assert (day.earned_minor, day.withheld_minor) == (2 * AGREED_RATE, 2 * AGREED_RATE)


async def test_bursts_of_votes_or_uploads_flag_the_member_once(world):
    uploader = world.member()
    scan = FlagActivityBursts(uow_factory=world.uow, clock=world.clock, ids=world.ids,
                              rules=FraudRules(uploads_per_hour=2, votes_per_hour=0))  # fmt: skip
    clip_ids = []
    for _ in range(3):
        submit = SubmitClip(uow_factory=world.uow, blobs=InMemoryBlobStore(),
                            inspector=FakeAudioInspector(), clock=world.clock, ids=world.ids,
                            rules=world.rules, screener=FakeTextScreener())  # fmt: skip
        upload = ClipUpload(uuid.uuid4(), "yo", "Hi", fake_audio(2000 + len(clip_ids)))
        clip_ids.append((await submit(uploader, upload)).clip.id)
    report = await scan()
    assert (report.upload_bursts, report.vote_bursts) == (1, 0)
    assert (await scan()).upload_bursts == 0  # the open flag is not repeated
    (stored,) = world.store.moderation.flags
    assert stored.flag.target == TargetRef(TargetType.PROFILE, uploader.profile_id)
    assert stored.flag.note == "3 uploads in the last hour (rate 2 per hour)"
    world.clock.advance(hours=2)
    assert (await scan()).upload_bursts == 0  # the burst is over
    standing = await GetMemberStanding(uow_factory=world.uow, rules=world.rules)(
        SERVICE, uploader.profile_id
    )
    assert [s.kind for s in standing.signals] == [SignalKind.UPLOAD_BURST]
    assert standing.flags_against == {FlagStatus.OPEN: {FlagReason.UPLOAD_BURST: 1}}


async def test_vote_bursts_are_seen_too(world):
    voter = world.member()
    for _ in range(3):
        clip_id, _ = await world.clip()
        await world.vote(voter, clip_id)
    scan = FlagActivityBursts(uow_factory=world.uow, clock=world.clock, ids=world.ids,
                              rules=FraudRules(uploads_per_hour=0, votes_per_hour=2))  # fmt: skip
    assert (await scan()).vote_bursts == 1
    bursts = [s for s in world.store.moderation.signals if s.kind is SignalKind.VOTE_BURST]
    assert [s.profile_id for s in bursts] == [voter.profile_id]
