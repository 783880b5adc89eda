"""Moderation's pure rules: what members may flag with, the threshold, who may decide what,
and what each decision does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.moderation import (
    AUTOMATIC_REASONS,
    MEMBER_REASONS,
    Action,
    DecisionReason,
    FlagReason,
    FlagStatus,
    StreamEnding,
    Target,
    TargetRef,
    TargetType,
    automatic_flag,
    decision_reason,
    member_flag,
    plan_decision,
    preview,
    public_name,
    reaches_threshold,
)
from core.domain.visibility import Visibility
from core.errors import Conflict, InvalidInput, PermissionDenied

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def profile(n: int, role: Role = Role.MEMBER, status: ProfileStatus = ProfileStatus.ACTIVE):
    return replace(Profile.new(UUID(int=n), NOW), role=role, status=status)


OWNER, REPORTER = profile(1), profile(2)
MODERATOR, ADMIN = Principal(profile(3, Role.MODERATOR)), Principal(profile(4, Role.ADMIN))
SERVICE = Principal(profile=None, is_service=True)


def target(kind: TargetType = TargetType.CLIP, visibility=Visibility.VISIBLE, *, owner=OWNER,
           live=False) -> Target:  # fmt: skip
    ref = TargetRef(kind, owner.id if kind is TargetType.PROFILE else UUID(int=100))
    return Target(ref, owner.id, visibility, "preview", live)


def flag_of(kind: TargetType, reason: str, *, probation: bool = False, note: str | None = None):
    return member_flag(
        flag_id=UUID(int=9),
        reporter=REPORTER,
        target=target(kind),
        reason=reason,
        note=note,
        reporter_on_probation=probation,
        now=NOW,
    )


@pytest.mark.parametrize("kind", list(TargetType))
def test_members_flag_with_the_reasons_of_the_kind_of_target_only(kind: TargetType) -> None:
    for reason in FlagReason:
        if reason in MEMBER_REASONS[kind]:
            flag = flag_of(kind, reason.value)
            assert (flag.reason, flag.status, flag.counts) == (reason, FlagStatus.OPEN, True)
        else:
            with pytest.raises(InvalidInput) as refused:
                flag_of(kind, reason.value)
            assert refused.value.code == "invalid_reason"


def test_clip_reasons_are_the_issues() -> None:
    assert {r.value for r in MEMBER_REASONS[TargetType.CLIP]} == {
        "offensive", "wrong_language", "does_not_match_prompt", "personal_information",
        "noise_or_silence", "other",
    }  # fmt: skip
    assert not AUTOMATIC_REASONS & set().union(*MEMBER_REASONS.values())


def test_a_flag_from_a_member_on_probation_counts_for_nothing() -> None:
    assert not flag_of(TargetType.CLIP, "offensive", probation=True).counts


def test_notes_are_trimmed_and_bounded_and_nobody_flags_their_own() -> None:
    assert flag_of(TargetType.CLIP, "other", note="  too   loud ").note == "too loud"
    assert flag_of(TargetType.CLIP, "other", note="   ").note is None
    with pytest.raises(InvalidInput):
        flag_of(TargetType.CLIP, "other", note="x" * 501)
    with pytest.raises(PermissionDenied) as own:
        member_flag(flag_id=UUID(int=9), reporter=OWNER, target=target(), reason="offensive",
                    note=None, reporter_on_probation=False, now=NOW)  # fmt: skip
    assert own.value.code == "own_content"


def test_automatic_flags_never_count_and_use_chorus_reasons_only() -> None:
    flag = automatic_flag(flag_id=UUID(int=1), target=target().ref,
                          reason=FlagReason.REPEATED_AUDIO, note="same audio", now=NOW)  # fmt: skip
    assert (flag.automatic, flag.counts) == (True, False)
    with pytest.raises(InvalidInput):
        automatic_flag(flag_id=UUID(int=1), target=target().ref, reason=FlagReason.OFFENSIVE,
                       note="", now=NOW)  # fmt: skip


@given(st.sampled_from(list(Visibility)), st.integers(0, 50), st.integers(1, 50))
def test_only_a_visible_target_is_hidden_and_only_at_the_threshold(
    visibility: Visibility, reporters: int, threshold: int
) -> None:
    hides = reaches_threshold(target(visibility=visibility), reporters, threshold)
    assert hides == (visibility is Visibility.VISIBLE and reporters >= threshold)


# -- decisions -------------------------------------------------------------------------


def plan(action: Action, tgt: Target | None = None, owner: Profile = OWNER, actor=MODERATOR,
         auto_hidden: bool = False):  # fmt: skip
    return plan_decision(action, tgt or target(owner=owner), owner, actor, auto_hidden=auto_hidden)


def test_dismiss_shows_again_only_what_the_flags_hid() -> None:
    hidden = target(visibility=Visibility.HIDDEN)
    assert plan(Action.DISMISS, hidden, auto_hidden=True).visibility is Visibility.VISIBLE
    assert plan(Action.DISMISS, hidden, auto_hidden=False).visibility is None
    dismissed = plan(Action.DISMISS)
    assert (dismissed.flags_become, dismissed.touches_owner) == (FlagStatus.DISMISSED, False)


def test_removing_a_clip_reverses_its_earnings_and_a_live_stream_ends() -> None:
    clip = plan(Action.REMOVE)
    assert (clip.visibility, clip.reverse_earnings) == (Visibility.REMOVED, True)
    stream = plan(Action.REMOVE, target(TargetType.LIVE_STREAM, live=True))
    assert (stream.end_streams, stream.reverse_earnings) == (StreamEnding.TARGET, False)
    ended = plan(Action.REMOVE, target(TargetType.LIVE_STREAM, live=False))
    assert ended.end_streams is StreamEnding.NONE
    name = plan(Action.REMOVE, target(TargetType.PROFILE))
    assert (name.clear_display_name, name.visibility) == (True, None)
    with pytest.raises(Conflict):
        plan(Action.REMOVE, target(visibility=Visibility.REMOVED))
    with pytest.raises(Conflict):
        plan(Action.HIDE, target(visibility=Visibility.REMOVED))


def test_restore_shows_the_target_and_on_a_profile_lifts_the_sanction() -> None:
    assert plan(Action.RESTORE, target(visibility=Visibility.REMOVED)).visibility is (
        Visibility.VISIBLE
    )
    suspended = profile(1, status=ProfileStatus.SUSPENDED)
    lifted = plan(Action.RESTORE, target(TargetType.PROFILE, owner=suspended), suspended)
    assert (lifted.member_status, lifted.visibility) == (ProfileStatus.ACTIVE, None)
    with pytest.raises(Conflict) as nothing:
        plan(Action.RESTORE)
    assert nothing.value.code == "nothing_to_restore"


def test_a_ban_ends_streams_freezes_payouts_and_switches_devices_off() -> None:
    ban = plan(Action.BAN_USER)
    assert ban.member_status is ProfileStatus.BANNED
    assert ban.end_streams is StreamEnding.ALL_OF_MEMBER
    assert (ban.freeze_payouts, ban.deactivate_devices, ban.touches_owner) == (True, True, True)
    suspend = plan(Action.SUSPEND_USER)
    assert suspend.member_status is ProfileStatus.SUSPENDED
    assert (suspend.freeze_payouts, suspend.deactivate_devices) == (False, False)


def test_sanctions_cannot_be_repeated() -> None:
    banned = profile(1, status=ProfileStatus.BANNED)
    suspended = profile(1, status=ProfileStatus.SUSPENDED)
    for action, owner, code in [
        (Action.BAN_USER, banned, "already_banned"),
        (Action.SUSPEND_USER, banned, "already_banned"),
        (Action.SUSPEND_USER, suspended, "already_suspended"),
    ]:
        with pytest.raises(Conflict) as again:
            plan(action, owner=owner)
        assert again.value.code == code
    assert plan(Action.BAN_USER, owner=suspended).member_status is ProfileStatus.BANNED


@pytest.mark.parametrize("action", [Action.SUSPEND_USER, Action.BAN_USER])
def test_who_may_sanction_whom(action: Action) -> None:
    admin_owner, moderator_owner = profile(5, Role.ADMIN), profile(6, Role.MODERATOR)
    for actor in (MODERATOR, ADMIN):
        with pytest.raises(PermissionDenied) as admin:
            plan(action, owner=admin_owner, actor=actor)
        assert admin.value.code == "target_is_admin"
    with pytest.raises(PermissionDenied) as peer:
        plan(action, owner=moderator_owner, actor=MODERATOR)
    assert peer.value.code == "target_is_moderator"
    assert plan(action, owner=moderator_owner, actor=ADMIN).member_status is not None
    assert plan(action, owner=moderator_owner, actor=SERVICE).member_status is not None


def test_nobody_decides_on_their_own_content_and_only_admins_lift_a_ban() -> None:
    assert MODERATOR.profile is not None
    with pytest.raises(PermissionDenied) as own:
        plan(Action.HIDE, owner=MODERATOR.profile, actor=MODERATOR)
    assert own.value.code == "own_case"
    banned = profile(1, status=ProfileStatus.BANNED)
    unban = target(TargetType.PROFILE, owner=banned)
    with pytest.raises(PermissionDenied) as lift:
        plan(Action.RESTORE, unban, banned, actor=MODERATOR)
    assert lift.value.code == "admin_required"
    assert plan(Action.RESTORE, unban, banned, actor=ADMIN).member_status is ProfileStatus.ACTIVE


def test_decision_reasons_are_codes_and_the_threshold_is_the_systems() -> None:
    assert decision_reason("spam") is DecisionReason.SPAM
    for bad in ("flag_threshold", "because", ""):
        with pytest.raises(InvalidInput):
            decision_reason(bad)


def test_a_hidden_profile_shows_no_name_and_previews_are_short() -> None:
    named = replace(OWNER, display_name="Ada")
    assert public_name(named) == "Ada"
    assert public_name(replace(named, visibility=Visibility.HIDDEN)) is None
    assert len(preview("word " * 100)) == 200
    assert preview(None) == ""
