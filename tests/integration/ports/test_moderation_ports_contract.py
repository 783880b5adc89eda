"""One contract, two implementations: the moderation fakes used by the unit tests keep the
same promises as the Postgres adapters (flags, cases, the audit log, the daily earnings rows,
targets and activity)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from core.domain.clips import AudioInfo, Clip, ClipTally
from core.domain.fraud import FraudSignal, SignalKind
from core.domain.moderation import (
    Action,
    ActorKind,
    Decision,
    DecisionReason,
    Flag,
    FlagReason,
    FlagStatus,
    TargetRef,
    TargetType,
)
from core.domain.visibility import Visibility
from core.ports.moderation import ActivityWindow
from tests.integration.ports.members import T0, member


async def a_clip(uow_factory, owner: uuid.UUID, *, minutes: int = 0, sha: str | None = None):
    clip = Clip(
        id=uuid.uuid4(),
        contributor_id=owner,
        client_id=uuid.uuid4(),
        language="yo",
        prompt="  the prompt  ",
        audio_key="clips/x.wav",
        audio=AudioInfo("wav", "audio/wav", 2000, 1000),
        tally=ClipTally(),
        visibility=Visibility.VISIBLE,
        queue_rank=2,
        created_at=T0 + timedelta(minutes=minutes),
        audio_sha256=sha,
    )
    async with uow_factory() as uow:
        assert await uow.clips.add_if_absent(clip)
        await uow.commit()
    return clip


def a_flag(target: TargetRef, reporter: uuid.UUID | None, reason=FlagReason.OFFENSIVE, *,
           counts: bool = True, minutes: int = 0, note: str | None = None) -> Flag:  # fmt: skip
    return Flag(uuid.uuid4(), target, reporter, reason, note, counts and reporter is not None,
                FlagStatus.OPEN, T0 + timedelta(minutes=minutes))  # fmt: skip


async def test_targets_are_locked_and_hidden(uow_factory):
    owner = await member(uow_factory, "Ada")
    clip = await a_clip(uow_factory, owner)
    ref = TargetRef(TargetType.CLIP, clip.id)
    async with uow_factory() as uow:
        target = await uow.moderation_targets.lock(ref)
        assert target is not None
        assert (target.owner_id, target.visibility, target.preview) == (
            owner, Visibility.VISIBLE, "the prompt"
        )  # fmt: skip
        await uow.moderation_targets.set_visibility(ref, Visibility.HIDDEN)
        profile = await uow.moderation_targets.lock(TargetRef(TargetType.PROFILE, owner))
        assert profile is not None
        assert (profile.owner_id, profile.preview) == (owner, "Ada")
        assert await uow.moderation_targets.lock(TargetRef(TargetType.LIVE_STREAM, owner)) is None
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.clips.get(clip.id)).visibility is Visibility.HIDDEN


async def test_one_open_flag_per_reporter_and_per_automatic_reason(uow_factory):
    owner, first, second = [await member(uow_factory) for _ in range(3)]
    ref = TargetRef(TargetType.CLIP, (await a_clip(uow_factory, owner)).id)
    async with uow_factory() as uow:
        assert await uow.flags.add(a_flag(ref, first), owner)
        assert not await uow.flags.add(a_flag(ref, first, FlagReason.OTHER), owner)
        assert await uow.flags.add(a_flag(ref, second, counts=False), owner)
        assert await uow.flags.add(a_flag(ref, None, FlagReason.REPEATED_AUDIO), owner)
        assert not await uow.flags.add(a_flag(ref, None, FlagReason.REPEATED_AUDIO), owner)
        assert await uow.flags.add(a_flag(ref, None, FlagReason.UPLOAD_BURST), owner)
        assert await uow.flags.counting_reporters(ref) == 1
        assert await uow.flags.settle(ref, FlagStatus.UPHELD, T0) == 4
        assert await uow.flags.counting_reporters(ref) == 0
        assert await uow.flags.add(a_flag(ref, first), owner)  # a new open flag after that
        assert await uow.flags.reasons_for([ref]) == {
            ref: {FlagReason.OFFENSIVE: 3, FlagReason.REPEATED_AUDIO: 1,
                  FlagReason.UPLOAD_BURST: 1}
        }  # fmt: skip
        assert await uow.flags.against_member(owner) == {
            FlagStatus.UPHELD: {FlagReason.OFFENSIVE: 2, FlagReason.REPEATED_AUDIO: 1,
                                FlagReason.UPLOAD_BURST: 1},
            FlagStatus.OPEN: {FlagReason.OFFENSIVE: 1},
        }  # fmt: skip
        assert await uow.flags.raised_by(first) == {FlagStatus.UPHELD: 1, FlagStatus.OPEN: 1}
        await uow.commit()


async def test_cases_open_reopen_close_and_queue_oldest_first(uow_factory):
    owner, reporter = await member(uow_factory), await member(uow_factory)
    clips = [await a_clip(uow_factory, owner, minutes=n) for n in range(3)]
    async with uow_factory() as uow:
        for n, clip in enumerate(clips):
            target = await uow.moderation_targets.lock(TargetRef(TargetType.CLIP, clip.id))
            assert target is not None
            flag = a_flag(target.ref, reporter, minutes=n, note=f"note {n}")
            await uow.flags.add(flag, owner)
            case = await uow.moderation_cases.open(target, T0 + timedelta(minutes=n), uuid.uuid4())
            again = await uow.moderation_cases.open(target, T0 + timedelta(hours=1), uuid.uuid4())
            assert (again.id, again.opened_at) == (case.id, case.opened_at)
        first = clips[0]
        ref = TargetRef(TargetType.CLIP, first.id)
        await uow.moderation_cases.mark_auto_hidden(ref)
        assert (await uow.moderation_cases.get(ref)).auto_hidden
        page = await uow.moderation_cases.queue(after=None, limit=2)
        assert [item.case.target.id for item in page] == [clips[0].id, clips[1].id]
        assert (page[0].open_flags, page[0].counting_reporters, page[0].notes) == (
            1, 1, ("note 0",)
        )  # fmt: skip
        assert page[0].reasons == {FlagReason.OFFENSIVE: 1}
        after = (page[-1].case.opened_at, page[-1].case.id)
        rest = await uow.moderation_cases.queue(after=after, limit=2)
        assert [item.case.target.id for item in rest] == [clips[2].id]
        target = await uow.moderation_targets.lock(ref)
        await uow.moderation_cases.close(target, T0 + timedelta(hours=2), uuid.uuid4())
        closed = await uow.moderation_cases.get(ref)
        assert (closed.is_open, closed.auto_hidden) == (False, False)
        reopened = await uow.moderation_cases.open(target, T0 + timedelta(hours=3), uuid.uuid4())
        assert (reopened.is_open, reopened.opened_at) == (True, T0 + timedelta(hours=3))
        await uow.commit()


async def test_the_audit_log_pages_newest_first_and_knows_the_latest_per_target(uow_factory):
    owner, moderator = await member(uow_factory), await member(uow_factory)
    clip = await a_clip(uow_factory, owner)
    ref = TargetRef(TargetType.CLIP, clip.id)
    decisions = [
        Decision(
            uuid.uuid4(),
            ref,
            owner,
            action,
            DecisionReason.SPAM,
            None,
            moderator,
            ActorKind.MODERATOR,
            T0 + timedelta(minutes=n),
            {"n": n},
        )
        for n, action in enumerate([Action.HIDE, Action.RESTORE, Action.REMOVE])
    ]
    async with uow_factory() as uow:
        for decision in decisions:
            await uow.decisions.append(decision)
        await uow.commit()
    async with uow_factory() as uow:
        newest = await uow.decisions.page(before=None, limit=2)
        assert [d.action for d in newest] == [Action.REMOVE, Action.RESTORE]
        older = await uow.decisions.page(before=(newest[-1].created_at, newest[-1].id), limit=5)
        assert [d.action for d in older] == [Action.HIDE]
        assert older[0] == decisions[0]
        assert await uow.decisions.page(before=None, limit=5, member_id=moderator) == []
        assert len(await uow.decisions.page(before=None, limit=5, target=ref)) == 3
        latest = await uow.decisions.latest_for([ref, TargetRef(TargetType.CLIP, uuid.uuid4())])
        assert latest == {ref: decisions[2]}


async def test_daily_earnings_rows_lock_add_and_show_withheld_days(uow_factory):
    first, second = await member(uow_factory), await member(uow_factory)
    day = date(2026, 1, 1)
    async with uow_factory() as uow:
        rows = await uow.daily_earnings.lock(day, "NGN", [second, first, first])
        assert {m: (r.earned_minor, r.withheld_minor) for m, r in rows.items()} == {
            first: (0, 0), second: (0, 0)
        }  # fmt: skip
        await uow.daily_earnings.add(day, "NGN", paid={first: 700}, withheld={second: 300})
        await uow.commit()
    async with uow_factory() as uow:
        rows = await uow.daily_earnings.lock(day, "NGN", [first, second])
        assert (rows[first].earned_minor, rows[second].withheld_minor) == (700, 300)
        await uow.daily_earnings.add(day, "NGN", paid={first: 100}, withheld={first: 50})
        await uow.commit()
    async with uow_factory() as uow:
        (shown,) = await uow.daily_earnings.withheld_days(first, 10)
        assert (shown.day, shown.earned_minor, shown.withheld_minor) == (day, 800, 50)
        assert await uow.daily_earnings.withheld_days(uuid.uuid4(), 10) == []


async def test_signals_and_activity(uow_factory):
    busy, calm = await member(uow_factory), await member(uow_factory)
    for n in range(3):
        await a_clip(uow_factory, busy, minutes=60 + n)
    await a_clip(uow_factory, busy, minutes=0)
    await a_clip(uow_factory, calm, minutes=90)
    async with uow_factory() as uow:
        window = ActivityWindow(T0 + timedelta(minutes=30), more_than=2)
        bursts = await uow.activity.heavy_uploaders(window)
        assert [(b.profile_id, b.count) for b in bursts] == [(busy, 3)]
        assert await uow.activity.heavy_voters(window) == []
        signal = FraudSignal(uuid.uuid4(), busy, SignalKind.UPLOAD_BURST, T0, {"count": 3})
        await uow.fraud_signals.add(signal)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.fraud_signals.for_member(busy, 5) == [signal]


async def test_clips_with_the_same_audio_oldest_first(uow_factory):
    owner, other = await member(uow_factory), await member(uow_factory)
    sha = "ab" * 32
    first = await a_clip(uow_factory, owner, minutes=0, sha=sha)
    second = await a_clip(uow_factory, other, minutes=1, sha=sha)
    await a_clip(uow_factory, other, minutes=2, sha="cd" * 32)
    unhashed = await a_clip(uow_factory, other, minutes=3)
    async with uow_factory() as uow:
        assert [c.id for c in await uow.clips.with_same_audio(second, 5)] == [first.id]
        assert [c.id for c in await uow.clips.with_same_audio(first, 5)] == [second.id]
        assert await uow.clips.with_same_audio(unhashed, 5) == []
