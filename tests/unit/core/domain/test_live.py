"""Rules of live streams: lifecycle, who may do what, tokens' grants, chat, room events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.identity import Principal, Profile, ProfileStatus, Role
from core.domain.live import (
    MAX_MESSAGE_LENGTH,
    READ_ONLY_VIEWER_GRANTS,
    VIEWER_GRANTS,
    LiveGrants,
    LiveRole,
    LiveStream,
    RoomEvent,
    RoomEventKind,
    StreamStatus,
    apply_room_event,
    compose_message,
    end_stream,
    grants_for,
    participant_identity,
    start_stream,
)
from core.errors import Conflict, InvalidInput, PermissionDenied

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)
HOST_ID = UUID("00000000-0000-4000-8000-000000000001")


def profile(
    profile_id: UUID | None = None,
    role: Role = Role.MEMBER,
    status: ProfileStatus = ProfileStatus.ACTIVE,
) -> Profile:
    return replace(Profile.new(profile_id or uuid4(), T0), role=role, status=status)


HOST = profile(HOST_ID)


def go_live(
    host: Profile = HOST,
    title: str = "Yoruba hour",
    language: str = "yo",
    hosts_streams: tuple[LiveStream, ...] = (),
) -> LiveStream:
    return start_stream(
        stream_id=uuid4(),
        host=host,
        title=title,
        language=language,
        now=T0,
        hosts_streams=hosts_streams,
    )


STREAM = go_live()
later = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2)).map(lambda d: T0 + d)
profiles = st.builds(
    profile,
    profile_id=st.uuids(version=4),
    role=st.sampled_from(Role),
    status=st.sampled_from(ProfileStatus),
)
events = st.builds(
    RoomEvent,
    id=st.text(max_size=4),
    kind=st.sampled_from(RoomEventKind),
    room_name=st.sampled_from([STREAM.room_name, "live-other"]),
    participant_identity=st.sampled_from([None, participant_identity(HOST_ID), "a", "b", "c"]),
    participant_session=st.sampled_from([None, "PA_1", "PA_2", "PA_3", "PA_4"]),
)


def replay(stream: LiveStream, history: list[RoomEvent]) -> list[LiveStream]:
    states = [stream]
    for event in history:
        states.append(apply_room_event(states[-1], event, T0 + timedelta(hours=1)))
    return states


# --- room events ---------------------------------------------------------------------------


@given(st.lists(events, max_size=40))
def test_viewer_counts_never_negative_and_peak_covers_current(history: list[RoomEvent]) -> None:
    states = replay(STREAM, history)
    for before, after in pairwise(states):
        assert after.current_viewers >= 0
        assert after.peak_viewers >= after.current_viewers
        assert after.peak_viewers >= before.peak_viewers


@given(st.lists(events, max_size=30), events)
def test_applying_an_event_twice_is_applying_it_once(
    history: list[RoomEvent], event: RoomEvent
) -> None:
    stream = replay(STREAM, history)[-1]
    once = apply_room_event(stream, event, T0 + timedelta(hours=2))
    assert apply_room_event(once, event, T0 + timedelta(hours=3)) == once


@given(st.lists(events, max_size=30), st.lists(events, max_size=10))
def test_an_ended_stream_stays_ended(history: list[RoomEvent], more: list[RoomEvent]) -> None:
    finished = RoomEvent("evt-end", RoomEventKind.ROOM_FINISHED, STREAM.room_name)
    ended = replay(STREAM, [*history, finished])[-1]
    assert ended.status is StreamStatus.ENDED
    assert ended.current_viewers == 0
    assert replay(ended, more)[-1] == ended


@given(later)
def test_room_finished_ends_a_live_stream_and_records_its_duration(now: datetime) -> None:
    event = RoomEvent("evt-1", RoomEventKind.ROOM_FINISHED, STREAM.room_name)
    ended = apply_room_event(STREAM, event, now)
    assert ended.status is StreamStatus.ENDED
    assert ended.ended_at == now
    assert ended.duration == now - T0


@given(st.lists(events, max_size=30))
def test_the_host_is_never_counted_as_a_viewer(history: list[RoomEvent]) -> None:
    host = participant_identity(HOST_ID)
    presence = {RoomEventKind.PARTICIPANT_JOINED, RoomEventKind.PARTICIPANT_LEFT}
    viewer_only = [e for e in history if e.kind not in presence or e.participant_identity != host]
    assert replay(STREAM, history)[-1] == replay(STREAM, viewer_only)[-1]


def test_joins_and_leaves_move_the_counts() -> None:
    def joined(session: str) -> RoomEvent:
        return RoomEvent(
            f"j{session}", RoomEventKind.PARTICIPANT_JOINED, STREAM.room_name, "v", session
        )

    left = RoomEvent("l1", RoomEventKind.PARTICIPANT_LEFT, STREAM.room_name, "v", "PA_1")
    stream = replay(STREAM, [joined("PA_1"), joined("PA_2"), left, left])[-1]
    assert (stream.current_viewers, stream.peak_viewers) == (1, 2)


@given(events)
def test_events_for_other_rooms_and_unknown_kinds_change_nothing(event: RoomEvent) -> None:
    assert apply_room_event(STREAM, replace(event, room_name="live-other"), T0) == STREAM
    assert apply_room_event(STREAM, replace(event, kind=RoomEventKind.UNKNOWN), T0) == STREAM


# --- lifecycle -----------------------------------------------------------------------------


def test_start_normalises_title_and_language_and_names_the_room() -> None:
    stream = go_live(title="  Hausa   songs ", language="HA")
    assert (stream.title, stream.language) == ("Hausa songs", "ha")
    assert stream.room_name == f"live-{stream.id}"
    assert (stream.status, stream.current_viewers, stream.peak_viewers) == (StreamStatus.LIVE, 0, 0)
    assert stream.duration is None


def test_one_live_stream_per_host() -> None:
    with pytest.raises(Conflict) as raised:
        go_live(hosts_streams=(STREAM,))
    assert raised.value.code == "already_live"
    go_live(hosts_streams=(end_stream(STREAM, Principal(HOST), T0),))


@pytest.mark.parametrize("title", ["", "   ", "x" * 121])
def test_titles_must_be_1_to_120_characters(title: str) -> None:
    with pytest.raises(InvalidInput):
        go_live(title=title)


@pytest.mark.parametrize("status", [ProfileStatus.SUSPENDED, ProfileStatus.BANNED])
def test_only_members_who_may_write_go_live(status: ProfileStatus) -> None:
    with pytest.raises(PermissionDenied):
        go_live(host=replace(HOST, status=status))


@given(profiles, later)
def test_who_may_end_a_stream(member: Profile, now: datetime) -> None:
    moderates = member.role in {Role.MODERATOR, Role.ADMIN}
    may_end = moderates and member.status is not ProfileStatus.BANNED
    if may_end:
        ended = end_stream(STREAM, Principal(member), now)
        assert (ended.status, ended.ended_at) == (StreamStatus.ENDED, now)
    else:
        with pytest.raises(PermissionDenied):
            end_stream(STREAM, Principal(member), now)


def test_the_host_and_the_service_may_end_a_stream_and_ending_twice_changes_nothing() -> None:
    ended = end_stream(STREAM, Principal(HOST), T0 + timedelta(minutes=30))
    assert ended.duration == timedelta(minutes=30)
    assert end_stream(ended, Principal(None, is_service=True), T0 + timedelta(hours=5)) == ended
    with pytest.raises(PermissionDenied):
        end_stream(STREAM, Principal(replace(HOST, status=ProfileStatus.BANNED)), T0)


# --- grants --------------------------------------------------------------------------------


def test_the_host_gets_publish_subscribe_and_data() -> None:
    everything = LiveGrants(can_publish=True, can_subscribe=True, can_publish_data=True)
    assert grants_for(STREAM, HOST) == everything
    assert grants_for(STREAM, HOST, LiveRole.HOST) == everything


@given(profiles.filter(lambda p: p.status is not ProfileStatus.BANNED))
def test_viewers_never_publish_media(member: Profile) -> None:
    grants = grants_for(STREAM, member)
    assert not grants.can_publish
    assert grants.can_subscribe
    expected = (
        READ_ONLY_VIEWER_GRANTS if member.status is ProfileStatus.SUSPENDED else VIEWER_GRANTS
    )
    assert grants == expected
    with pytest.raises(PermissionDenied) as raised:
        grants_for(STREAM, member, LiveRole.HOST)
    assert raised.value.code == "host_only"


@given(profiles)
def test_no_tokens_for_banned_members_or_ended_streams(member: Profile) -> None:
    ended = end_stream(STREAM, Principal(HOST), T0)
    with pytest.raises(Conflict):
        grants_for(ended, member)
    banned = replace(member, status=ProfileStatus.BANNED)
    with pytest.raises(PermissionDenied):
        grants_for(STREAM, banned)
    with pytest.raises(PermissionDenied):
        grants_for(STREAM, replace(HOST, status=ProfileStatus.BANNED))


# --- chat ----------------------------------------------------------------------------------


@given(st.text(max_size=MAX_MESSAGE_LENGTH + 20))
def test_messages_are_1_to_500_characters_after_trimming(body: str) -> None:
    def compose() -> str:
        return compose_message(
            message_id=uuid4(), stream=STREAM, author=profile(), body=body, now=T0
        ).body

    if 1 <= len(body.strip()) <= MAX_MESSAGE_LENGTH:
        assert compose() == body.strip()
    else:
        with pytest.raises(InvalidInput):
            compose()


def test_no_messages_in_ended_streams_or_from_read_only_members() -> None:
    ended = end_stream(STREAM, Principal(HOST), T0)
    with pytest.raises(Conflict):
        compose_message(message_id=uuid4(), stream=ended, author=HOST, body="hi", now=T0)
    suspended = profile(status=ProfileStatus.SUSPENDED)
    with pytest.raises(PermissionDenied):
        compose_message(message_id=uuid4(), stream=STREAM, author=suspended, body="hi", now=T0)
